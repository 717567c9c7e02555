import type { DatabaseSync } from 'node:sqlite';
import { logger as defaultLogger, type Logger } from '../log';
import { QUERY_SQL } from './queries';
import { type Failure, messageOf, type Row, type RunQuery, SqlArchive } from './SqlArchive';

export interface SqliteArchiveOptions {
  /**
   * How long a lookup waits for a lock held by a writer before giving up with `ArchiveUnavailableError`.
   * @default 2000
   */
  readonly busyTimeoutMs?: number;
  /** Receives one structured line per lookup. @default the shared CalMS logger */
  readonly logger?: Logger;
}

/**
 * SQLite result codes (primary code, the low byte of the extended code) that mean the database could not be
 * reached right now: busy or locked by a writer, an I/O failure, a file that cannot be opened (missing,
 * unmounted), out of memory or disk. Retrying may help. Every other code (SQL error on a missing table or
 * column, corrupt file, not a database, constraint) means the database is not what CalMS expects.
 * @see https://www.sqlite.org/rescode.html
 */
const TRANSIENT_SQLITE_CODES = new Set([
  5, // SQLITE_BUSY
  6, // SQLITE_LOCKED
  7, // SQLITE_NOMEM
  10, // SQLITE_IOERR
  13, // SQLITE_FULL
  14, // SQLITE_CANTOPEN
  15, // SQLITE_PROTOCOL
]);

/** SQLite's words for a statement that names what the schema lacks, e.g. `no such table: mous`. */
const MISSING = /no such (table|column): (\S+)/;

function sqliteCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

/**
 * The archive port on a SQLite file (`node:sqlite`, built into Node 22): the embedded archive of the local
 * cloud, and of a site that keeps its archive in a file.
 *
 * The file is opened read-only on the first lookup, not in the constructor, so a Lambda can build the
 * adapter at module scope without touching the disk; an open that fails is tried again on the next lookup.
 * Queries, row checks and the meaning of failures are {@link SqlArchive}'s; a missing file, a busy or locked
 * database, or an I/O failure is what makes it unavailable here.
 *
 * @example
 * const archive: Archive = new SqliteArchive('.calms/archive.sqlite');
 * const mous = await archive.findMous('uid___A001_X1296_X675');
 */
export class SqliteArchive extends SqlArchive {
  private database: DatabaseSync | undefined;
  private readonly busyTimeoutMs: number;

  constructor(
    private readonly dbPath: string,
    options: SqliteArchiveOptions = {},
  ) {
    super(dbPath, (options.logger ?? defaultLogger).with({ adapter: 'SqliteArchive' }));
    this.busyTimeoutMs = options.busyTimeoutMs ?? 2000;
  }

  /** Closes the file; the next lookup opens it again. */
  close(): void {
    const database = this.database;
    this.database = undefined;
    database?.close();
  }

  /** Consistent as it is: a load replaces the file rather than writing into it, and an open connection keeps the file it opened. */
  protected async read<T>(lookup: (run: RunQuery) => Promise<T>): Promise<T> {
    try {
      const database = this.open();
      return await lookup(async (query, parameters) => database.prepare(QUERY_SQL[query]).all(parameters) as Row[]);
    } catch (error) {
      // A connection that hit an I/O or lock failure is dropped, so the retry starts from a fresh open.
      if (this.classify(error).kind === 'unavailable') this.closeQuietly();
      throw error;
    }
  }

  private closeQuietly(): void {
    try {
      this.close();
    } catch {
      // Already broken; the next lookup opens a new connection.
    }
  }

  protected classify(error: unknown): Failure {
    const code = sqliteCode(error);
    if (code !== undefined && TRANSIENT_SQLITE_CODES.has(code)) return { kind: 'unavailable' };
    const missing = MISSING.exec(messageOf(error));
    if (missing) return { kind: 'missing', what: missing[1] as 'table' | 'column', name: missing[2]! };
    return { kind: 'other' };
  }

  private open(): DatabaseSync {
    if (this.database) return this.database;
    // Loaded here rather than imported at the top so that importing the archive module (for its types, or
    // the snapshot parser) neither loads the driver nor prints node:sqlite's ExperimentalWarning.
    const { DatabaseSync: Database } = require('node:sqlite') as typeof import('node:sqlite');
    const database = new Database(this.dbPath, { readOnly: true, timeout: this.busyTimeoutMs });
    this.database = database;
    return database;
  }
}

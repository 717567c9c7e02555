import type { DatabaseSync, SQLInputValue, SQLOutputValue } from 'node:sqlite';
import { ArchiveError, ArchiveUnavailableError } from '../errors';
import { logger as defaultLogger, type Logger } from '../log';
import { Qa0Status, type Archive, type ArchiveUser, type DelegationType, type ExecBlock, type MousRecord } from './Archive';
import { QUERY_SQL, type QueryName } from './queries';
import { toFileNameUid } from './snapshot';

export interface SqliteArchiveOptions {
  /**
   * How long a lookup waits for a lock held by a writer before giving up with `ArchiveUnavailableError`.
   * @default 2000
   */
  readonly busyTimeoutMs?: number;
  /** Receives one structured line per lookup. @default the shared CalMS logger */
  readonly logger?: Logger;
}

type Row = Record<string, SQLOutputValue>;

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

const QA0_VALUES: readonly string[] = Object.values(Qa0Status);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function sqliteCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The archive port on a SQLite file (`node:sqlite`, built into Node 22).
 *
 * The file is opened read-only on the first lookup, not in the constructor, so a Lambda can build the
 * adapter at module scope without touching the disk; an open that fails is tried again on the next lookup.
 * Every SQL statement comes from `queries.ts`.
 *
 * Failures are translated here: a missing file, a busy or locked database, or an I/O failure becomes
 * `ArchiveUnavailableError` (the state machine retries); a schema that lacks a table or column, a corrupt
 * file, or a row that breaks the query contract becomes `ArchiveError` (somebody has to look). Each message
 * says what was being looked up.
 *
 * @example
 * const archive: Archive = new SqliteArchive(config().archiveDb);
 * const mous = await archive.findMous('uid___A001_X1296_X675');
 */
export class SqliteArchive implements Archive {
  private database: DatabaseSync | undefined;
  private readonly busyTimeoutMs: number;
  private readonly log: Logger;

  constructor(
    private readonly dbPath: string,
    options: SqliteArchiveOptions = {},
  ) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? 2000;
    this.log = (options.logger ?? defaultLogger).with({ adapter: 'SqliteArchive' });
  }

  async findMous(uid: string): Promise<MousRecord | undefined> {
    const fileNameUid = toFileNameUid(uid);
    const what = `MOUS ${fileNameUid}`;
    return this.lookup('findMous', what, { mous: fileNameUid }, () => {
      const row = this.get('findMous', what, { uid: fileNameUid });
      if (!row) return undefined;
      const blocks = this.all('execBlocksOfMous', what, { uid: fileNameUid });
      const fields = this.all('fieldsOfMous', what, { uid: fileNameUid });
      return toMousRecord(row, blocks, fields, what);
    });
  }

  async findUserByEmail(email: string): Promise<ArchiveUser | undefined> {
    // The address itself stays out of logs and messages: it is personal data and the ticket identifies it.
    const what = 'the user with the requested email';
    return this.lookup('findUserByEmail', what, {}, () => {
      const rows = this.all('findUserByEmail', what, { email: email.trim() });
      if (rows.length > 1) {
        throw new ArchiveError(`archive lookup of ${what} is ambiguous: several user accounts have that email`);
      }
      const row = rows[0];
      if (!row) return undefined;
      return { id: text(row, 'id', what), name: text(row, 'name', what), email: text(row, 'email', what) };
    });
  }

  async findProjectPi(projectCode: string): Promise<string | undefined> {
    const what = `the PI of project ${projectCode}`;
    return this.lookup('findProjectPi', what, { projectCode }, () => {
      const row = this.get('findProjectPi', what, { projectCode });
      return row ? text(row, 'piUserId', what) : undefined;
    });
  }

  async hasDelegation(projectCode: string, userId: string, type: DelegationType): Promise<boolean> {
    const what = `a ${type} delegation of project ${projectCode} to user ${userId}`;
    return this.lookup('hasDelegation', what, { projectCode, userId, type }, () => {
      return this.get('hasDelegation', what, { projectCode, userId, type }) !== undefined;
    });
  }

  /** Closes the file; the next lookup opens it again. */
  close(): void {
    const database = this.database;
    this.database = undefined;
    database?.close();
  }

  private closeQuietly(): void {
    try {
      this.close();
    } catch {
      // Already broken; the next lookup opens a new connection.
    }
  }

  /** Runs one port call: translates failures and writes one log line, whatever the outcome. */
  private lookup<T>(operation: QueryName, what: string, keys: Record<string, string>, run: () => T): Promise<T> {
    try {
      const result = run();
      const outcome = result === undefined || result === false ? 'none' : 'found';
      this.log.info('archive lookup', { operation, ...keys, outcome });
      return Promise.resolve(result);
    } catch (error) {
      const translated = this.translate(error, what);
      // A connection that hit an I/O or lock failure is dropped, so the retry starts from a fresh open.
      if (translated instanceof ArchiveUnavailableError) this.closeQuietly();
      this.log.warn('archive lookup failed', {
        operation,
        ...keys,
        outcome: 'error',
        errorName: translated.name,
        errorMessage: translated.message,
      });
      return Promise.reject(translated);
    }
  }

  private translate(error: unknown, what: string): Error {
    if (error instanceof ArchiveError || error instanceof ArchiveUnavailableError) return error;
    const code = sqliteCode(error);
    const detail = `archive lookup of ${what} in ${this.dbPath} failed: ${messageOf(error)}`;
    if (code === undefined) return new ArchiveError(detail, { cause: error });
    if (TRANSIENT_SQLITE_CODES.has(code)) return new ArchiveUnavailableError(detail, { cause: error });
    return new ArchiveError(detail, { cause: error });
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

  private get(query: QueryName, what: string, parameters: Record<string, SQLInputValue>): Row | undefined {
    return this.statement(query, what).get(parameters);
  }

  private all(query: QueryName, what: string, parameters: Record<string, SQLInputValue>): Row[] {
    return this.statement(query, what).all(parameters);
  }

  private statement(query: QueryName, what: string) {
    const database = this.open();
    try {
      return database.prepare(QUERY_SQL[query]);
    } catch (error) {
      // Compiling reads the schema, so a busy or unreadable file fails here too: that stays transient.
      const code = sqliteCode(error);
      if (code !== undefined && TRANSIENT_SQLITE_CODES.has(code)) throw error;
      // A statement that does not compile names the missing table or column: say which query it was.
      throw new ArchiveError(`archive lookup of ${what} in ${this.dbPath} failed: query ${query} does not fit the database (${messageOf(error)})`, {
        cause: error,
      });
    }
  }
}

function text(row: Row, column: string, what: string): string {
  const value = row[column];
  if (typeof value !== 'string' || value === '') {
    throw new ArchiveError(`archive lookup of ${what} returned an unusable ${column}: ${JSON.stringify(describe(value))}`);
  }
  return value;
}

function describe(value: SQLOutputValue | undefined): string | number | null {
  if (value === undefined) return 'missing';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  return value;
}

function toMousRecord(row: Row, blockRows: readonly Row[], fieldRows: readonly Row[], what: string): MousRecord {
  const releaseDate = row.releaseDate;
  if (releaseDate !== null && (typeof releaseDate !== 'string' || !ISO_DATE.test(releaseDate))) {
    throw new ArchiveError(`archive lookup of ${what} returned an unusable releaseDate: ${JSON.stringify(describe(releaseDate))}`);
  }
  const fieldsByBlock = new Map<string, Map<number, { name: string; intents: string[] }>>();
  for (const fieldRow of fieldRows) {
    const block = text(fieldRow, 'execBlockUid', what);
    const position = fieldRow.position;
    if (typeof position !== 'number' && typeof position !== 'bigint') {
      throw new ArchiveError(`archive lookup of ${what} returned an unusable position: ${JSON.stringify(describe(position))}`);
    }
    const fields = fieldsByBlock.get(block) ?? new Map<number, { name: string; intents: string[] }>();
    fieldsByBlock.set(block, fields);
    const field = fields.get(Number(position)) ?? { name: text(fieldRow, 'name', what), intents: [] };
    fields.set(Number(position), field);
    if (fieldRow.intent !== null) field.intents.push(text(fieldRow, 'intent', what));
  }
  const execBlocks: ExecBlock[] = blockRows.map((blockRow) => {
    const uid = text(blockRow, 'uid', what);
    const qa0 = text(blockRow, 'qa0', what);
    if (!QA0_VALUES.includes(qa0)) {
      throw new ArchiveError(`archive lookup of ${what} returned execution block ${uid} with unknown QA0 status "${qa0}"`);
    }
    return { uid, qa0: qa0 as Qa0Status, fields: [...(fieldsByBlock.get(uid)?.values() ?? [])] };
  });
  return {
    uid: text(row, 'uid', what),
    projectCode: text(row, 'projectCode', what),
    state: text(row, 'state', what),
    releaseDate,
    execBlocks,
  };
}

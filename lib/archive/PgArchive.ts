import { readFileSync } from 'node:fs';
import { type ClientConfig, DatabaseError, Pool, type PoolClient } from 'pg';
import { logger as defaultLogger, type Logger } from '../log';
import type { PostgresLocation } from './location';
import { QUERY_SQL, toNumberedParameters } from './queries';
import { type Failure, messageOf, type RunQuery, SqlArchive } from './SqlArchive';

export interface PgArchiveOptions {
  /**
   * Reads the password when the URL has none (on AWS from Secrets Manager). Called before the first
   * connection and kept; a failed read is not kept, and a login the server refuses makes the next connection
   * read it again (a rotated password).
   */
  readonly password?: () => Promise<string>;
  /** How long connecting (TCP, TLS, login) may take before the archive counts as unreachable. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** How long one query may take before the archive counts as unreachable. @default 10000 */
  readonly queryTimeoutMs?: number;
  /** Receives one structured line per lookup. @default the shared CalMS logger */
  readonly logger?: Logger;
}

/**
 * SQLSTATE codes and classes that mean the server could not answer right now: connection exceptions (08),
 * insufficient resources (53), shutdown or start-up (57P01-57P03), a cancelled (timed out) statement
 * (57014), serialization failure and deadlock (40001, 40P01), a lock not available (55P03).
 * @see https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]$|57014$|40001$|40P01$|55P03$)/;

/** Socket failures of connecting to or talking with the server: refused, reset, timed out, no route, no name. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** node-postgres's own words for a connection that timed out or died, which carry no code. */
const DRIVER_UNAVAILABLE = /Connection terminated|timeout exceeded when trying to connect|Query read timeout/;

/**
 * How node-postgres reaches `location`: the password of the URL, or else the one `password` reads.
 * With TLS, Node checks the server's certificate and host name against its CAs, or those of the URL's CA file
 * (read here: a missing file fails the connection, as a wrong setting should).
 */
export function postgresConfig(location: PostgresLocation, password?: () => Promise<string>): ClientConfig {
  const { host, port, database, user, tls, caFile } = location;
  const ssl = tls && caFile !== undefined ? { ca: readFileSync(caFile, 'utf8') } : tls;
  return { host, port, database, user, password: location.password ?? password, ssl, application_name: 'calms' };
}

/** The password could not be read; `cause` says why (its kind decides whether a retry may help). */
class PasswordReadError extends Error {
  override readonly name = 'PasswordReadError';
}

/**
 * The archive port on a PostgreSQL database (node-postgres), with the same schema and queries as the SQLite
 * file (`queries.ts`); what the rows must hold and how failures read are {@link SqlArchive}'s.
 *
 * Nothing connects in the constructor, so a Lambda builds the adapter at module scope for free; the first
 * lookup reads the password (if it comes from a secret) and connects. A pool of at most two connections
 * (entitlement asks two questions at once) is kept for the container's next invocations, and each lookup
 * reads in one read-only repeatable-read transaction, so a MOUS and its execution blocks come from one moment.
 *
 * Unreachable (refused, timed out, reset, no such host, the server shutting down) means
 * `ArchiveUnavailableError`; a missing table or column (42P01, 42703) an `ArchiveError` naming it.
 *
 * @example
 * const archive = new PgArchive(location, { password: async () => readSecretText(settings, secretId) });
 * const mous = await archive.findMous('uid___A001_X1296_X675');
 */
export class PgArchive extends SqlArchive {
  private pool: Pool | undefined;
  private password: Promise<string> | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly target: PostgresLocation,
    private readonly options: PgArchiveOptions = {},
  ) {
    const log = (options.logger ?? defaultLogger).with({ adapter: 'PgArchive' });
    super(target.display, log);
    this.logger = log;
  }

  /** Closes every connection; the next lookup opens new ones. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  protected async read<T>(lookup: (run: RunQuery) => Promise<T>): Promise<T> {
    let client: PoolClient | undefined;
    try {
      client = await this.connection().connect();
      const connected = client;
      await connected.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const result = await lookup(async (query, parameters) => {
        const { text, values } = toNumberedParameters(QUERY_SQL[query], parameters);
        return (await connected.query(text, values)).rows;
      });
      await connected.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // Dropped rather than rolled back: the next lookup gets a clean connection whatever state this one is in.
      client?.release(error instanceof Error ? error : new Error(String(error)));
      // A refused login (28000, 28P01) may be a rotated password: read it again next time.
      if (error instanceof DatabaseError && error.code?.startsWith('28')) this.password = undefined;
      throw error;
    }
  }

  protected classify(error: unknown): Failure {
    if (error instanceof PasswordReadError) return this.classify(error.cause);
    if (error instanceof DatabaseError) {
      const code = error.code ?? '';
      if (code === '42P01' || code === '42703') {
        // relation "mous" does not exist; column "email" does not exist; column u.email does not exist
        const name = /(?:relation|column) "?([^"\s]+)"? does not exist/.exec(error.message)?.[1] ?? 'named above';
        return { kind: 'missing', what: code === '42P01' ? 'table' : 'column', name };
      }
      return TRANSIENT_SQLSTATE.test(code) ? { kind: 'unavailable' } : { kind: 'other' };
    }
    if (typeof error !== 'object' || error === null) return { kind: 'other' };
    const { code, $retryable } = error as { code?: unknown; $retryable?: unknown };
    // Reading the password from Secrets Manager: throttled or a network failure may pass.
    if ((typeof code === 'string' && NETWORK_CODES.has(code)) || $retryable !== undefined) return { kind: 'unavailable' };
    if (DRIVER_UNAVAILABLE.test(messageOf(error))) return { kind: 'unavailable' };
    return { kind: 'other' };
  }

  private connection(): Pool {
    if (this.pool) return this.pool;
    const pool = new Pool({
      ...postgresConfig(this.target, () => this.readPassword()),
      max: 2,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
      query_timeout: this.options.queryTimeoutMs ?? 10000,
    });
    // An idle connection the server closes (restart, failover) must not take the Lambda down with it.
    pool.on('error', (error) => this.logger.warn('archive connection lost while idle', { errorMessage: messageOf(error) }));
    this.pool = pool;
    return pool;
  }

  private readPassword(): Promise<string> {
    const read = this.options.password;
    if (!read) return Promise.reject(new PasswordReadError('the URL has no password and no secret holds one'));
    this.password ??= read().catch((error: unknown) => {
      this.password = undefined;
      throw new PasswordReadError(`could not read the database password: ${messageOf(error)}`, { cause: error });
    });
    return this.password;
  }
}

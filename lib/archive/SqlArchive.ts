import { ArchiveError, ArchiveUnavailableError } from '../errors';
import type { Logger } from '../log';
import { Qa0Status, type Archive, type ArchiveUser, type DelegationType, type ExecBlock, type MousRecord } from './Archive';
import type { QueryName, SqlValue } from './queries';
import { toFileNameUid } from './snapshot';

/** One result row, by the output names of `queries.ts`. */
export type Row = Readonly<Record<string, unknown>>;

/** Runs one read query of `queries.ts` with its named parameters. */
export type RunQuery = (query: QueryName, parameters: Readonly<Record<string, SqlValue>>) => Promise<readonly Row[]>;

/**
 * How a database failure reads: the database could not be reached right now (retrying may help), the schema
 * lacks a table or column a query needs, or anything else (the database is not what CalMS expects).
 */
export type Failure =
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'missing'; readonly what: 'table' | 'column'; readonly name: string }
  | { readonly kind: 'other' };

const QA0_VALUES: readonly string[] = Object.values(Qa0Status);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The message of an error, also of one from another realm (node:sqlite's under Jest), where instanceof Error fails. */
export function messageOf(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}

/**
 * The archive port on a SQL database, whatever the dialect: the four lookups with the queries of
 * `queries.ts`, the check of every row against their contract, one log line per lookup, and the translation
 * of failures. A dialect says how to run queries and what its failures mean.
 *
 * Failures: a database that cannot be reached (refused, timed out, busy) becomes `ArchiveUnavailableError`
 * (the state machine retries); a schema that lacks a table or column becomes `ArchiveError` naming the query
 * and what is missing; any other failure, or a row that breaks the query contract, `ArchiveError` (somebody has
 * to look). Each message says what was being looked up, and where.
 */
export abstract class SqlArchive implements Archive {
  /**
   * @param location where the archive is, for messages: never with a password
   * @param log already carrying the adapter's name
   */
  protected constructor(
    protected readonly location: string,
    private readonly log: Logger,
  ) {}

  /** Runs `lookup` on one consistent view of the database (the MOUS and its blocks as of one moment). */
  protected abstract read<T>(lookup: (run: RunQuery) => Promise<T>): Promise<T>;

  /** What a failure of the database or its driver means. */
  protected abstract classify(error: unknown): Failure;

  async findMous(uid: string): Promise<MousRecord | undefined> {
    const fileNameUid = toFileNameUid(uid);
    const what = `MOUS ${fileNameUid}`;
    return this.lookup('findMous', what, { mous: fileNameUid }, async (run) => {
      const [row] = await run('findMous', { uid: fileNameUid });
      if (!row) return undefined;
      const blocks = await run('execBlocksOfMous', { uid: fileNameUid });
      const fields = await run('fieldsOfMous', { uid: fileNameUid });
      return toMousRecord(row, blocks, fields, what);
    });
  }

  async findUserByEmail(email: string): Promise<ArchiveUser | undefined> {
    // The address itself stays out of logs and messages: it is personal data and the ticket identifies it.
    const what = 'the user with the requested email';
    return this.lookup('findUserByEmail', what, {}, async (run) => {
      const rows = await run('findUserByEmail', { email: email.trim() });
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
    return this.lookup('findProjectPi', what, { projectCode }, async (run) => {
      const [row] = await run('findProjectPi', { projectCode });
      return row ? text(row, 'piUserId', what) : undefined;
    });
  }

  async hasDelegation(projectCode: string, userId: string, type: DelegationType): Promise<boolean> {
    const what = `a ${type} delegation of project ${projectCode} to user ${userId}`;
    return this.lookup('hasDelegation', what, { projectCode, userId, type }, async (run) => {
      const rows = await run('hasDelegation', { projectCode, userId, type });
      return rows.length > 0;
    });
  }

  /** Runs one port call: translates failures and writes one log line, whatever the outcome. */
  private async lookup<T>(operation: QueryName, what: string, keys: Record<string, string>, body: (run: RunQuery) => Promise<T>): Promise<T> {
    try {
      const result = await this.read((run) => body(this.translating(run, what)));
      const outcome = result === undefined || result === false ? 'none' : 'found';
      this.log.info('archive lookup', { operation, ...keys, outcome });
      return result;
    } catch (error) {
      const translated = this.translate(error, `archive lookup of ${what} in ${this.location} failed`);
      this.log.warn('archive lookup failed', {
        operation,
        ...keys,
        outcome: 'error',
        errorName: translated.name,
        errorMessage: translated.message,
      });
      throw translated;
    }
  }

  /** Names the query that did not fit the schema, and what of the schema it missed. */
  private translating(run: RunQuery, what: string): RunQuery {
    return async (query, parameters) => {
      try {
        return await run(query, parameters);
      } catch (error) {
        const failure = this.classify(error);
        if (failure.kind !== 'missing') throw error;
        throw new ArchiveError(
          `archive lookup of ${what} in ${this.location} failed: query ${query} does not fit the database: the ${failure.what} ${failure.name} is missing (${messageOf(error)})`,
          { cause: error },
        );
      }
    };
  }

  /** Any failure as one of the port's two errors, with `detail` saying what failed. */
  protected translate(error: unknown, detail: string): ArchiveError | ArchiveUnavailableError {
    if (error instanceof ArchiveError || error instanceof ArchiveUnavailableError) return error;
    const message = `${detail}: ${messageOf(error)}`;
    if (this.classify(error).kind === 'unavailable') return new ArchiveUnavailableError(message, { cause: error });
    return new ArchiveError(message, { cause: error });
  }
}

function text(row: Row, column: string, what: string): string {
  const value = row[column];
  if (typeof value !== 'string' || value === '') {
    throw new ArchiveError(`archive lookup of ${what} returned an unusable ${column}: ${JSON.stringify(describe(value))}`);
  }
  return value;
}

function describe(value: unknown): unknown {
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

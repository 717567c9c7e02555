import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import type { ArchiveSnapshot } from './Archive';
import type { ArchiveLocation, PostgresLocation } from './location';
import { postgresConfig } from './PgArchive';
import { ARCHIVE_TABLES, INSERT_SQL, schemaSql, type SqlValue, toNumberedParameters } from './queries';
import { messageOf } from './SqlArchive';
import { readSnapshotFile, toFileNameUid } from './snapshot';

/**
 * Building an archive database from a snapshot, in SQLite or PostgreSQL: the schema of `queries.ts`, then
 * every row. `npm run archive:load` and the local cloud's start use it.
 */

type ArchiveTable = (typeof ARCHIVE_TABLES)[number];

/** What a load put into the database, for the log line of whoever loaded it. */
export interface SnapshotLoadSummary {
  readonly users: number;
  readonly projects: number;
  readonly delegations: number;
  readonly mous: number;
  readonly execBlocks: number;
}

/** The archive already holds rows, and the load was not told to replace them. */
export class ArchiveNotEmptyError extends Error {
  override readonly name = 'ArchiveNotEmptyError';

  constructor(
    readonly where: string,
    /** Rows per table that has any. */
    readonly rows: Readonly<Record<string, number>>,
  ) {
    const counts = Object.entries(rows).map(([table, count]) => `${count} in ${table}`);
    super(`the archive ${where} is not empty (${counts.join(', ')}); loading would replace all of it`);
  }
}

export interface LoadOptions {
  /** Replace an archive that holds rows; without it such an archive is left alone (ArchiveNotEmptyError). */
  readonly replace?: boolean;
  /** The PostgreSQL password when the URL has none (read from Secrets Manager). */
  readonly password?: () => Promise<string>;
}

/** Every row of a snapshot as the named parameters of its table's insert, tables in the order they are filled. */
function rowsOf(snapshot: ArchiveSnapshot): { table: ArchiveTable; values: Record<string, SqlValue> }[] {
  const rows: { table: ArchiveTable; values: Record<string, SqlValue> }[] = [];
  for (const { id, name, email } of snapshot.users) rows.push({ table: 'users', values: { id, name, email } });
  for (const { code, piUserId } of snapshot.projects) rows.push({ table: 'projects', values: { code, piUserId } });
  for (const { projectCode, userId, type } of snapshot.delegations) rows.push({ table: 'delegations', values: { projectCode, userId, type } });
  for (const mous of snapshot.mous) {
    const mousUid = toFileNameUid(mous.uid);
    rows.push({ table: 'mous', values: { uid: mousUid, projectCode: mous.projectCode, state: mous.state, releaseDate: mous.releaseDate } });
    mous.execBlocks.forEach((block, position) => {
      const execBlockUid = toFileNameUid(block.uid);
      rows.push({ table: 'exec_blocks', values: { uid: execBlockUid, mousUid, position, qa0: block.qa0 } });
      block.fields.forEach((field, fieldPosition) => {
        rows.push({ table: 'observed_fields', values: { execBlockUid, position: fieldPosition, name: field.name } });
        for (const intent of field.intents) rows.push({ table: 'field_intents', values: { execBlockUid, fieldPosition, intent } });
      });
    });
  }
  // Stable: rows of one table keep their order, tables come in the order their references need.
  return rows.sort((a, b) => ARCHIVE_TABLES.indexOf(a.table) - ARCHIVE_TABLES.indexOf(b.table));
}

function summaryOf(snapshot: ArchiveSnapshot): SnapshotLoadSummary {
  return {
    users: snapshot.users.length,
    projects: snapshot.projects.length,
    delegations: snapshot.delegations.length,
    mous: snapshot.mous.length,
    execBlocks: snapshot.mous.reduce((sum, mous) => sum + mous.execBlocks.length, 0),
  };
}

/**
 * Builds the archive SQLite file at `dbPath` from a snapshot, replacing any file there.
 *
 * Atomic: the database is built in a temporary file in the same directory and renamed over `dbPath` only
 * when complete, so a reader (a running Lambda) sees either the old archive or the new one, never half of
 * one, and a failed load leaves the old file untouched. The directory is created if needed.
 */
export function loadSnapshotIntoDatabase(snapshot: ArchiveSnapshot, dbPath: string): SnapshotLoadSummary {
  const target = resolve(dbPath);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomUUID()}.tmp`);
  // Loaded here rather than imported at the top: see SqliteArchive.open.
  const { DatabaseSync: Database } = require('node:sqlite') as typeof import('node:sqlite');
  let database: DatabaseSync | undefined;
  try {
    database = new Database(temporary);
    database.exec(schemaSql('sqlite'));
    database.exec('BEGIN');
    for (const { table, values } of rowsOf(snapshot)) database.prepare(INSERT_SQL[table]).run(values);
    database.exec('COMMIT');
    database.close();
    database = undefined;
    renameSync(temporary, target);
    return summaryOf(snapshot);
  } catch (error) {
    if (database?.isOpen) database.close();
    rmSync(temporary, { force: true });
    rmSync(`${temporary}-journal`, { force: true });
    throw new Error(`could not build the archive database ${target} from the snapshot: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * Reads, checks and loads a snapshot file into the SQLite file `dbPath` (see {@link loadSnapshotIntoDatabase}).
 * @throws SnapshotError naming the file when it cannot be read, is not JSON, or is not a valid snapshot
 * @example loadSnapshotFile('localstack/archive/snapshot.json', '.calms/archive.sqlite')
 */
export function loadSnapshotFile(snapshotPath: string, dbPath: string): SnapshotLoadSummary {
  return loadSnapshotIntoDatabase(readSnapshotFile(snapshotPath), dbPath);
}

/** Rows in each table of a SQLite file that has any; a file that is not a database fails here. */
function sqliteRows(dbPath: string): Record<string, number> {
  if (!existsSync(dbPath)) return {};
  const { DatabaseSync: Database } = require('node:sqlite') as typeof import('node:sqlite');
  const database = new Database(dbPath, { readOnly: true });
  try {
    const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const rows: Record<string, number> = {};
    for (const { name } of tables) {
      const { count } = database.prepare(`SELECT count(*) AS count FROM "${name.replace(/"/g, '""')}"`).get() as { count: number };
      if (count > 0) rows[name] = count;
    }
    return rows;
  } finally {
    database.close();
  }
}

/**
 * Builds the archive tables in a PostgreSQL database in one transaction: readers see the old archive or the
 * new one. Tables of the archive that are there already are dropped first (only those: a view or another
 * table that refers to them makes the load fail rather than go with them).
 */
async function loadIntoPostgres(snapshot: ArchiveSnapshot, location: PostgresLocation, options: LoadOptions): Promise<SnapshotLoadSummary> {
  const client = new Client(postgresConfig(location, options.password));
  await client.connect();
  try {
    await client.query('BEGIN');
    const present = await client.query<{ name: string }>(
      'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)',
      [ARCHIVE_TABLES],
    );
    const rows: Record<string, number> = {};
    for (const { name } of present.rows) {
      const { count } = (await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${name}`)).rows[0]!;
      if (Number(count) > 0) rows[name] = Number(count);
    }
    if (Object.keys(rows).length > 0 && !options.replace) throw new ArchiveNotEmptyError(location.display, rows);
    await client.query(`DROP TABLE IF EXISTS ${[...ARCHIVE_TABLES].reverse().join(', ')}`);
    await client.query(schemaSql('postgres'));
    for (const { table, values } of rowsOf(snapshot)) await client.query(toNumberedParameters(INSERT_SQL[table], values));
    await client.query('COMMIT');
    return summaryOf(snapshot);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * Loads a snapshot into the archive `location` names, creating its schema.
 * @throws ArchiveNotEmptyError when the archive holds rows and `options.replace` is not set; nothing is changed
 */
export async function loadSnapshot(snapshot: ArchiveSnapshot, location: ArchiveLocation, options: LoadOptions = {}): Promise<SnapshotLoadSummary> {
  if (location.dialect === 'postgres') return loadIntoPostgres(snapshot, location, options);
  const rows = options.replace ? {} : sqliteRows(location.path);
  if (Object.keys(rows).length > 0) throw new ArchiveNotEmptyError(location.path, rows);
  return loadSnapshotIntoDatabase(snapshot, location.path);
}

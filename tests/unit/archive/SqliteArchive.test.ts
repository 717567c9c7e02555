import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// What every archive adapter must do is in tests/integration/archive.test.ts, run on SQLite and PostgreSQL;
// here, what only a SQLite file can do: be missing, locked, or not a database at all.
import { DatabaseSync } from 'node:sqlite';
import { loadSnapshotFile, SqliteArchive } from '../../../lib/archive';
import { schemaSql } from '../../../lib/archive/queries';
import { ArchiveError, ArchiveUnavailableError, TransientError } from '../../../lib/errors';
import { createLogger } from '../../../lib/log';
import { errorOf } from '../../errorOf';

const SHIPPED_SNAPSHOT = join(__dirname, '../../../localstack/archive/snapshot.json');
const quiet = createLogger({}, () => undefined);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'calms-archive-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Builds a database file by hand, for the shapes the loader would never produce. */
function databaseWith(name: string, build: (database: DatabaseSync) => void): string {
  const path = join(dir, name);
  const database = new DatabaseSync(path);
  build(database);
  database.close();
  return path;
}

describe('SqliteArchive error translation', () => {
  it('does not touch the file until the first lookup', () => {
    // Prepare
    const missing = join(dir, 'not-yet.sqlite');

    // Act
    const build = () => new SqliteArchive(missing, { logger: quiet });

    // Assess
    expect(build).not.toThrow();
  });

  it('reports a missing database file as ArchiveUnavailableError naming the lookup, and recovers once the file exists', async () => {
    // Prepare
    const path = join(dir, 'appears-later.sqlite');
    const archive = new SqliteArchive(path, { logger: quiet });

    // Act
    const error = await errorOf(archive.findMous('uid___A001_X1296_X675'));
    loadSnapshotFile(SHIPPED_SNAPSHOT, path);
    const retried = await archive.findMous('uid___A001_X1296_X675');

    // Assess
    expect(error).toBeInstanceOf(ArchiveUnavailableError);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.name).toBe('ArchiveUnavailableError');
    expect(error.message).toContain('MOUS uid___A001_X1296_X675');
    expect(error.message).toContain(path);
    expect(retried?.projectCode).toBe('2017.1.00727.S');
    archive.close();
  });

  it('reports a file that is not a database as ArchiveError', async () => {
    // Prepare
    const path = join(dir, 'not-a-database.sqlite');
    writeFileSync(path, 'this is a text file, not an SQLite database; '.repeat(20));
    const archive = new SqliteArchive(path, { logger: quiet });

    // Act
    const error = await errorOf(archive.findProjectPi('2017.1.00727.S'));
    archive.close();

    // Assess
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error.message).toContain('the PI of project 2017.1.00727.S');
  });

  it('reports a database locked by a writer as ArchiveUnavailableError', async () => {
    // Prepare
    const path = databaseWith('locked.sqlite', (database) => database.exec(schemaSql('sqlite')));
    const writer = new DatabaseSync(path);
    writer.exec('BEGIN EXCLUSIVE');
    const archive = new SqliteArchive(path, { logger: quiet, busyTimeoutMs: 0 });

    // Act
    const error = await errorOf(archive.findProjectPi('2017.1.00727.S'));
    writer.exec('ROLLBACK');
    writer.close();
    archive.close();

    // Assess
    expect(error).toBeInstanceOf(ArchiveUnavailableError);
    expect(error.message).toMatch(/the PI of project 2017\.1\.00727\.S .*database is locked/);
  });
});

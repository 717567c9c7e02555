import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadSnapshotFile, SqliteArchive, type Archive } from '../../../lib/archive';
import { INSERT_SQL, SCHEMA_SQL } from '../../../lib/archive/queries';
import { ArchiveError, ArchiveUnavailableError, TerminalError, TransientError } from '../../../lib/errors';
import { createLogger } from '../../../lib/log';

const SHIPPED_SNAPSHOT = join(__dirname, '../../../localstack/archive/snapshot.json');
const quiet = createLogger({}, () => undefined);

let dir: string;
let shippedDb: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'calms-archive-'));
  shippedDb = join(dir, 'shipped.sqlite');
  loadSnapshotFile(SHIPPED_SNAPSHOT, shippedDb);
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

async function errorOf(lookup: Promise<unknown>): Promise<Error> {
  try {
    await lookup;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the lookup did not fail');
}

describe('SqliteArchive on the shipped snapshot', () => {
  let archive: SqliteArchive;

  beforeAll(() => {
    archive = new SqliteArchive(shippedDb, { logger: quiet });
  });

  afterAll(() => archive.close());

  it('finds the seed MOUS with its execution blocks and fields in order', async () => {
    // Prepare
    const uid = 'uid___A001_X1296_X675';

    // Act
    const mous = await archive.findMous(uid);

    // Assess
    expect(mous).toEqual({
      uid: 'uid___A001_X1296_X675',
      projectCode: '2017.1.00727.S',
      state: 'Delivered',
      releaseDate: '2019-09-28',
      execBlocks: [
        {
          uid: 'uid___A002_Xc6c0d5_X2b4e',
          qa0: 'Pass',
          fields: [
            { name: 'J0510+1800', intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_BANDPASS', 'CALIBRATE_FLUX', 'CALIBRATE_WVR'] },
            { name: 'J0321+1234', intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_PHASE', 'CALIBRATE_WVR'] },
            { name: 'J0431+2037', intents: ['CALIBRATE_WVR', 'OBSERVE_CHECK_SOURCE'] },
            { name: 'HL_Tau', intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_WVR', 'OBSERVE_TARGET'] },
          ],
        },
        {
          uid: 'uid___A002_Xc6d2f9_X5d1',
          qa0: 'Pass',
          fields: [
            { name: 'J0510+1800', intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_BANDPASS', 'CALIBRATE_FLUX', 'CALIBRATE_WVR'] },
            { name: 'J0431+2037', intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_PHASE', 'CALIBRATE_WVR'] },
            { name: 'HL_Tau', intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_WVR', 'OBSERVE_TARGET'] },
          ],
        },
      ],
    });
  });

  it('accepts a MOUS uid in uid:// form too', async () => {
    // Prepare
    const uid = 'uid://A001/X14d7/X160';

    // Act
    const mous = await archive.findMous(uid);

    // Assess
    expect(mous?.uid).toBe('uid___A001_X14d7_X160');
    expect(mous?.execBlocks.map((block) => block.qa0)).toEqual(['Pass', 'SemiPass']);
  });

  it('keeps the observing order of mixed-QA0 execution blocks', async () => {
    // Prepare
    const uid = 'uid___A001_X2f1e_X107';

    // Act
    const mous = await archive.findMous(uid);

    // Assess
    expect(mous?.execBlocks.map((block) => [block.uid, block.qa0])).toEqual([
      ['uid___A002_Xf2d5e2_X1b7', 'Pass'],
      ['uid___A002_Xf2d9f0_X3c8', 'Fail'],
      ['uid___A002_Xf2de13_X6a1', 'SemiPass'],
      ['uid___A002_Xf2e2a7_X40f', 'Pass'],
    ]);
  });

  it('returns a null release date as null', async () => {
    // Prepare
    const uid = 'uid___A001_X2f1e_X102';

    // Act
    const mous = await archive.findMous(uid);

    // Assess
    expect(mous?.releaseDate).toBeNull();
  });

  it('returns undefined for an unknown MOUS', async () => {
    // Prepare
    const uid = 'uid___A001_X2f1e_X1ff';

    // Act
    const mous = await archive.findMous(uid);

    // Assess
    expect(mous).toBeUndefined();
  });

  it.each(['Paula.Principal@Example.org', 'paula.principal@example.org', 'PAULA.PRINCIPAL@EXAMPLE.ORG', ' paula.principal@example.org '])(
    'finds the user by email %j, ignoring letter case',
    async (email) => {
      // Prepare
      const expected = { id: 'paulaprincipal', name: 'Paula Principal', email: 'Paula.Principal@Example.org' };

      // Act
      const user = await archive.findUserByEmail(email);

      // Assess
      expect(user).toEqual(expected);
    },
  );

  it('returns undefined for an email no user has', async () => {
    // Prepare
    const email = 'nobody@example.org';

    // Act
    const user = await archive.findUserByEmail(email);

    // Assess
    expect(user).toBeUndefined();
  });

  it('finds the PI of a project, and nothing for an unknown project', async () => {
    // Prepare
    const projects = ['2017.1.00727.S', '2022.1.00999.S', '2099.1.00001.S'];

    // Act
    const pis = await Promise.all(projects.map((code) => archive.findProjectPi(code)));

    // Assess
    expect(pis).toEqual(['judits', 'paulaprincipal', undefined]);
  });

  it.each<[string, 'DATA' | 'PROPOSAL' | 'ADMIN', boolean]>([
    ['dariodelegate', 'DATA', true],
    ['petraproposal', 'DATA', false],
    ['petraproposal', 'PROPOSAL', true],
    ['adrianadmin', 'ADMIN', true],
    ['adrianadmin', 'DATA', false],
    ['stellastranger', 'DATA', false],
  ])('says whether %s holds a %s delegation for 2022.1.00999.S (%s)', async (userId, type, expected) => {
    // Prepare
    const project = '2022.1.00999.S';

    // Act
    const held = await archive.hasDelegation(project, userId, type);

    // Assess
    expect(held).toBe(expected);
  });
});

describe('SqliteArchive field intents', () => {
  it('returns a field without intents with none, and passes on an intent it does not know', async () => {
    // Prepare
    const path = databaseWith('intents.sqlite', (database) => {
      database.exec(SCHEMA_SQL);
      database.prepare(INSERT_SQL.user).run('judits', 'Judit Szulagyi', 'judits@phys.ethz.ch');
      database.prepare(INSERT_SQL.project).run('2017.1.00727.S', 'judits');
      database.prepare(INSERT_SQL.mous).run('uid___A001_X1296_X675', '2017.1.00727.S', 'Delivered', '2019-09-28');
      database.prepare(INSERT_SQL.execBlock).run('uid___A002_Xc6c0d5_X2b4e', 'uid___A001_X1296_X675', 0, 'Pass');
      database.prepare(INSERT_SQL.observedField).run('uid___A002_Xc6c0d5_X2b4e', 0, 'J0510+1800');
      database.prepare(INSERT_SQL.observedField).run('uid___A002_Xc6c0d5_X2b4e', 1, 'HL_Tau');
      database.prepare(INSERT_SQL.fieldIntent).run('uid___A002_Xc6c0d5_X2b4e', 1, 'OBSERVE_TARGET');
      database.prepare(INSERT_SQL.fieldIntent).run('uid___A002_Xc6c0d5_X2b4e', 1, 'CALIBRATE_SOMETHING_NEW');
    });
    const archive = new SqliteArchive(path, { logger: quiet });

    // Act
    const mous = await archive.findMous('uid___A001_X1296_X675');
    archive.close();

    // Assess
    expect(mous?.execBlocks[0]?.fields).toEqual([
      { name: 'J0510+1800', intents: [] },
      { name: 'HL_Tau', intents: ['CALIBRATE_SOMETHING_NEW', 'OBSERVE_TARGET'] },
    ]);
  });
});

describe('SqliteArchive logging', () => {
  it('writes one line per lookup, with the MOUS but never the email', async () => {
    // Prepare
    const lines: string[] = [];
    const archive = new SqliteArchive(shippedDb, { logger: createLogger({}, (line) => lines.push(line)) });

    // Act
    await archive.findMous('uid___A001_X1296_X675');
    await archive.findUserByEmail('judits@phys.ethz.ch');
    archive.close();

    // Assess
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ operation: 'findMous', mous: 'uid___A001_X1296_X675', outcome: 'found' });
    expect(entries[1]).toMatchObject({ operation: 'findUserByEmail', outcome: 'found' });
    expect(lines.join('\n')).not.toContain('judits@phys.ethz.ch');
  });
});

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

  it('reports a database without the tables as ArchiveError naming the lookup and the missing table', async () => {
    // Prepare
    const path = databaseWith('no-tables.sqlite', (database) => database.exec('CREATE TABLE unrelated (x TEXT)'));
    const archive = new SqliteArchive(path, { logger: quiet });

    // Act
    const errors = [
      await errorOf(archive.findMous('uid___A001_X1296_X675')),
      await errorOf(archive.findUserByEmail('judits@phys.ethz.ch')),
      await errorOf(archive.findProjectPi('2017.1.00727.S')),
      await errorOf(archive.hasDelegation('2017.1.00727.S', 'judits', 'DATA')),
    ];
    archive.close();

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(ArchiveError);
      expect(error).toBeInstanceOf(TerminalError);
      expect(error.name).toBe('ArchiveError');
      expect(error.message).toMatch(/no such table/);
    }
    expect(errors[0]!.message).toContain('archive lookup of MOUS uid___A001_X1296_X675');
    expect(errors[0]!.message).toContain('query findMous does not fit the database');
    expect(errors[2]!.message).toContain('the PI of project 2017.1.00727.S');
    expect(errors[3]!.message).toContain('a DATA delegation of project 2017.1.00727.S to user judits');
  });

  it('reports a missing column as ArchiveError', async () => {
    // Prepare
    const path = databaseWith('no-email-column.sqlite', (database) => database.exec('CREATE TABLE users (id TEXT, name TEXT)'));
    const archive = new SqliteArchive(path, { logger: quiet });

    // Act
    const error = await errorOf(archive.findUserByEmail('judits@phys.ethz.ch'));
    archive.close();

    // Assess
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error.message).toMatch(/no such column: email/);
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
    const path = databaseWith('locked.sqlite', (database) => database.exec(SCHEMA_SQL));
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

  describe('rows that break the query contract', () => {
    /** The loader's schema with its CHECK constraints switched off, so bad values can be stored. */
    function corruptDatabase(name: string, mous: { state: string; releaseDate: string | null; qa0: string }): Archive {
      const path = databaseWith(name, (database) => {
        database.exec(SCHEMA_SQL);
        database.exec('PRAGMA ignore_check_constraints = ON');
        database.prepare(INSERT_SQL.user).run('judits', 'Judit Szulagyi', 'judits@phys.ethz.ch');
        database.prepare(INSERT_SQL.project).run('2017.1.00727.S', 'judits');
        database.prepare(INSERT_SQL.mous).run('uid___A001_X1296_X675', '2017.1.00727.S', mous.state, mous.releaseDate);
        database.prepare(INSERT_SQL.execBlock).run('uid___A002_Xc6c0d5_X2b4e', 'uid___A001_X1296_X675', 0, mous.qa0);
      });
      return new SqliteArchive(path, { logger: quiet });
    }

    it.each([
      ['an unknown QA0 status', { state: 'Delivered', releaseDate: '2019-09-28', qa0: 'QA0_PASS' }, /unknown QA0 status "QA0_PASS"/],
      ['a release date in another format', { state: 'Delivered', releaseDate: '28/09/2019', qa0: 'Pass' }, /unusable releaseDate: "28\/09\/2019"/],
      ['an empty state', { state: '', releaseDate: '2019-09-28', qa0: 'Pass' }, /unusable state/],
    ])('reports %s as ArchiveError', async (label, mous, expected) => {
      // Prepare
      const archive = corruptDatabase(`corrupt-${label.replace(/\W+/g, '-')}.sqlite`, mous);

      // Act
      const error = await errorOf(archive.findMous('uid___A001_X1296_X675'));

      // Assess
      expect(error).toBeInstanceOf(ArchiveError);
      expect(error.message).toContain('MOUS uid___A001_X1296_X675');
      expect(error.message).toMatch(expected);
    });
  });

  it('reports an email shared by two accounts as ArchiveError instead of picking one', async () => {
    // Prepare
    const path = databaseWith('duplicate-email.sqlite', (database) => {
      database.exec('CREATE TABLE users (id TEXT, name TEXT, email TEXT)');
      database.prepare(INSERT_SQL.user).run('judits', 'Judit Szulagyi', 'judits@phys.ethz.ch');
      database.prepare(INSERT_SQL.user).run('jszulagyi', 'Judit Szulagyi', 'Judits@phys.ethz.ch');
    });
    const archive = new SqliteArchive(path, { logger: quiet });

    // Act
    const error = await errorOf(archive.findUserByEmail('judits@phys.ethz.ch'));
    archive.close();

    // Assess
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error.message).toContain('several user accounts have that email');
  });
});

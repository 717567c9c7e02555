/**
 * The archive adapters' contract: the same cases against the embedded SQLite file and a real PostgreSQL
 * (.ci/postgres.sh; skipped without CALMS_TEST_POSTGRES_URL, which fails a CI run). Each backend gets fresh
 * databases of its own, filled with `loadSnapshot` (what `npm run archive:load` does) or by hand for the shapes
 * the loader never writes. The adapter is chosen from the location as the Lambdas choose it (`openArchive`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { type ArchiveLocation, ArchiveNotEmptyError, loadSnapshot, parseArchiveUrl, readSnapshotFile } from '../../lib/archive';
import { openArchive } from '../../lib/archive/open';
import { INSERT_SQL, schemaSql, type SqlValue, toNumberedParameters } from '../../lib/archive/queries';
import { ArchiveError, ArchiveUnavailableError, TerminalError, TransientError } from '../../lib/errors';
import { createLogger, type Logger } from '../../lib/log';
import { archiveLoad } from '../../localstack/archiveLoad';
import { createTestDatabase, describeWithPostgres } from './support/postgres';
import { errorOf } from '../errorOf';

const SHIPPED_SNAPSHOT = join(__dirname, '../../localstack/archive/snapshot.json');
const quiet = createLogger({}, () => undefined);

interface TestDatabase {
  /** CALMS_ARCHIVE_URL of the database. */
  readonly url: string;
  readonly location: ArchiveLocation;
  /** Runs one statement (or, without parameters, a script) directly in the database. */
  exec(sql: string, parameters?: Record<string, SqlValue>): Promise<void>;
  drop(): Promise<void>;
}

interface Backend {
  readonly name: string;
  readonly describe: (name: string, tests: () => void) => void;
  readonly dialect: 'sqlite' | 'postgres';
  create(): Promise<TestDatabase>;
  /** A location where nothing answers. */
  unreachable(): Promise<ArchiveLocation>;
}

let sqliteDir: string;
beforeAll(() => {
  sqliteDir = mkdtempSync(join(tmpdir(), 'calms-archive-contract-'));
});
afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));

let created = 0;
const sqlite: Backend = {
  name: 'SQLite',
  dialect: 'sqlite',
  describe,
  async create() {
    created += 1;
    const path = join(sqliteDir, `archive-${created}.sqlite`);
    return {
      url: path,
      location: parseArchiveUrl(path),
      async exec(sql, parameters) {
        const database = new DatabaseSync(path);
        try {
          if (parameters) database.prepare(sql).run(parameters);
          else database.exec(sql);
        } finally {
          database.close();
        }
      },
      async drop() {
        rmSync(path, { force: true });
      },
    };
  },
  async unreachable() {
    return parseArchiveUrl(join(sqliteDir, 'no-such-directory', 'archive.sqlite'));
  },
};

const postgres: Backend = {
  name: 'PostgreSQL',
  dialect: 'postgres',
  describe: describeWithPostgres,
  async create() {
    const { url, drop } = await createTestDatabase('calms_contract');
    return {
      url,
      location: parseArchiveUrl(url),
      async exec(sql, parameters) {
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(parameters ? toNumberedParameters(sql, parameters) : sql);
        } finally {
          await client.end();
        }
      },
      drop,
    };
  },
  async unreachable() {
    // A port that was free a moment ago: connecting is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return parseArchiveUrl(`postgres://calms:secret@127.0.0.1:${port}/calms`);
  },
};

const open = (location: ArchiveLocation, logger: Logger = quiet) => openArchive({ location }, {}, logger);

describe.each([sqlite, postgres])('the archive contract on $name', (backend) => {
  backend.describe(`${backend.name} archive`, () => {
    const databases: TestDatabase[] = [];
    const closers: (() => unknown)[] = [];
    const fresh = async () => {
      const database = await backend.create();
      databases.push(database);
      return database;
    };
    const archiveOf = (location: ArchiveLocation, logger?: Logger) => {
      const archive = open(location, logger);
      closers.push(() => archive.close());
      return archive;
    };
    afterAll(async () => {
      for (const close of closers) await close();
      for (const database of databases) await database.drop();
    });

    describe('on the shipped snapshot', () => {
      let location: ArchiveLocation;
      let archive: ReturnType<typeof open>;
      beforeAll(async () => {
        ({ location } = await fresh());
        await loadSnapshot(readSnapshotFile(SHIPPED_SNAPSHOT), location);
        archive = archiveOf(location);
      });

      it('uses the adapter of its dialect', () => {
        expect(archive.constructor.name).toBe(backend.dialect === 'sqlite' ? 'SqliteArchive' : 'PgArchive');
      });

      it('finds the seed MOUS with its execution blocks, fields and intents in order', async () => {
        // Act
        const mous = await archive.findMous('uid___A001_X1296_X675');

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
        // Act
        const mous = await archive.findMous('uid://A001/X14d7/X160');

        // Assess
        expect(mous?.uid).toBe('uid___A001_X14d7_X160');
        expect(mous?.execBlocks.map((block) => block.qa0)).toEqual(['Pass', 'SemiPass']);
      });

      it('keeps the observing order of mixed-QA0 execution blocks', async () => {
        // Act
        const mous = await archive.findMous('uid___A001_X2f1e_X107');

        // Assess
        expect(mous?.execBlocks.map((block) => [block.uid, block.qa0])).toEqual([
          ['uid___A002_Xf2d5e2_X1b7', 'Pass'],
          ['uid___A002_Xf2d9f0_X3c8', 'Fail'],
          ['uid___A002_Xf2de13_X6a1', 'SemiPass'],
          ['uid___A002_Xf2e2a7_X40f', 'Pass'],
        ]);
      });

      it('returns a null release date as null, and undefined for an unknown MOUS', async () => {
        // Act
        const undated = await archive.findMous('uid___A001_X2f1e_X102');
        const unknown = await archive.findMous('uid___A001_X2f1e_X1ff');

        // Assess
        expect(undated?.releaseDate).toBeNull();
        expect(unknown).toBeUndefined();
      });

      it.each(['Paula.Principal@Example.org', 'paula.principal@example.org', 'PAULA.PRINCIPAL@EXAMPLE.ORG', ' paula.principal@example.org '])(
        'finds the user by email %j, ignoring letter case',
        async (email) => {
          // Act
          const user = await archive.findUserByEmail(email);

          // Assess
          expect(user).toEqual({ id: 'paulaprincipal', name: 'Paula Principal', email: 'Paula.Principal@Example.org' });
        },
      );

      it('returns undefined for an email no user has', async () => {
        // Act
        const user = await archive.findUserByEmail('nobody@example.org');

        // Assess
        expect(user).toBeUndefined();
      });

      it('finds the PI of a project, and nothing for an unknown project', async () => {
        // Act
        const pis = await Promise.all(['2017.1.00727.S', '2022.1.00999.S', '2099.1.00001.S'].map((code) => archive.findProjectPi(code)));

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
        // Act
        const held = await archive.hasDelegation('2022.1.00999.S', userId, type);

        // Assess
        expect(held).toBe(expected);
      });

      it('writes one line per lookup, with the MOUS but never the email', async () => {
        // Prepare
        const lines: string[] = [];
        const logged = archiveOf(
          location,
          createLogger({}, (line) => lines.push(line)),
        );

        // Act
        await logged.findMous('uid___A001_X1296_X675');
        await logged.findUserByEmail('judits@phys.ethz.ch');

        // Assess
        const entries = lines.map((line) => JSON.parse(line));
        expect(entries).toHaveLength(2);
        expect(entries[0]).toMatchObject({ operation: 'findMous', mous: 'uid___A001_X1296_X675', outcome: 'found' });
        expect(entries[1]).toMatchObject({ operation: 'findUserByEmail', outcome: 'found' });
        expect(lines.join('\n')).not.toContain('judits@phys.ethz.ch');
      });
    });

    it('returns a field without intents with none (LEFT JOIN), and passes on an intent it does not know', async () => {
      // Prepare
      const database = await fresh();
      await database.exec(schemaSql(backend.dialect));
      await database.exec(INSERT_SQL.users, { id: 'judits', name: 'Judit Szulagyi', email: 'judits@phys.ethz.ch' });
      await database.exec(INSERT_SQL.projects, { code: '2017.1.00727.S', piUserId: 'judits' });
      await database.exec(INSERT_SQL.mous, {
        uid: 'uid___A001_X1296_X675',
        projectCode: '2017.1.00727.S',
        state: 'Delivered',
        releaseDate: '2019-09-28',
      });
      await database.exec(INSERT_SQL.exec_blocks, { uid: 'uid___A002_Xc6c0d5_X2b4e', mousUid: 'uid___A001_X1296_X675', position: 0, qa0: 'Pass' });
      await database.exec(INSERT_SQL.observed_fields, { execBlockUid: 'uid___A002_Xc6c0d5_X2b4e', position: 0, name: 'J0510+1800' });
      await database.exec(INSERT_SQL.observed_fields, { execBlockUid: 'uid___A002_Xc6c0d5_X2b4e', position: 1, name: 'HL_Tau' });
      for (const intent of ['OBSERVE_TARGET', 'CALIBRATE_SOMETHING_NEW']) {
        await database.exec(INSERT_SQL.field_intents, { execBlockUid: 'uid___A002_Xc6c0d5_X2b4e', fieldPosition: 1, intent });
      }

      // Act
      const mous = await archiveOf(database.location).findMous('uid___A001_X1296_X675');

      // Assess
      expect(mous?.execBlocks[0]?.fields).toEqual([
        { name: 'J0510+1800', intents: [] },
        { name: 'HL_Tau', intents: ['CALIBRATE_SOMETHING_NEW', 'OBSERVE_TARGET'] },
      ]);
    });

    describe('a database that is not the archive CalMS expects', () => {
      it('a missing table: ArchiveError at the first query, naming the query and the table, for every lookup', async () => {
        // Prepare
        const database = await fresh();
        await database.exec('CREATE TABLE unrelated (x TEXT)');
        const archive = archiveOf(database.location);

        // Act
        const errors = [
          await errorOf(archive.findMous('uid___A001_X1296_X675')),
          await errorOf(archive.findUserByEmail('judits@phys.ethz.ch')),
          await errorOf(archive.findProjectPi('2017.1.00727.S')),
          await errorOf(archive.hasDelegation('2017.1.00727.S', 'judits', 'DATA')),
        ];

        // Assess
        for (const error of errors) {
          expect(error).toBeInstanceOf(ArchiveError);
          expect(error).toBeInstanceOf(TerminalError);
          expect(error.name).toBe('ArchiveError');
        }
        expect(errors[0]!.message).toContain('archive lookup of MOUS uid___A001_X1296_X675');
        expect(errors[0]!.message).toContain('query findMous does not fit the database: the table mous is missing');
        expect(errors[1]!.message).toContain('query findUserByEmail does not fit the database: the table users is missing');
        expect(errors[2]!.message).toContain('the PI of project 2017.1.00727.S');
        expect(errors[2]!.message).toContain('the table projects is missing');
        expect(errors[3]!.message).toContain('a DATA delegation of project 2017.1.00727.S to user judits');
        expect(errors[3]!.message).toContain('the table delegations is missing');
      });

      it('a missing column: ArchiveError naming the column', async () => {
        // Prepare
        const database = await fresh();
        await database.exec('CREATE TABLE users (id TEXT, name TEXT)');

        // Act
        const error = await errorOf(archiveOf(database.location).findUserByEmail('judits@phys.ethz.ch'));

        // Assess
        expect(error).toBeInstanceOf(ArchiveError);
        expect(error.message).toContain('query findUserByEmail does not fit the database: the column email is missing');
      });

      describe('rows that break the query contract', () => {
        /** The schema without its CHECK constraints, so that values the loader would refuse can be stored. */
        const uncheckedSchema = () => schemaSql(backend.dialect).replace(/ CHECK \((?:[^()]|\([^()]*\))*\)/g, '');

        it.each([
          ['an unknown QA0 status', { state: 'Delivered', releaseDate: '2019-09-28', qa0: 'QA0_PASS' }, /unknown QA0 status "QA0_PASS"/],
          [
            'a release date in another format',
            { state: 'Delivered', releaseDate: '28/09/2019', qa0: 'Pass' },
            /unusable releaseDate: "28\/09\/2019"/,
          ],
          ['an empty state', { state: '', releaseDate: '2019-09-28', qa0: 'Pass' }, /unusable state/],
        ])('reports %s as ArchiveError', async (_label, mous, expected) => {
          // Prepare
          const database = await fresh();
          await database.exec(uncheckedSchema());
          await database.exec(INSERT_SQL.users, { id: 'judits', name: 'Judit Szulagyi', email: 'judits@phys.ethz.ch' });
          await database.exec(INSERT_SQL.projects, { code: '2017.1.00727.S', piUserId: 'judits' });
          await database.exec(INSERT_SQL.mous, {
            uid: 'uid___A001_X1296_X675',
            projectCode: '2017.1.00727.S',
            state: mous.state,
            releaseDate: mous.releaseDate,
          });
          await database.exec(INSERT_SQL.exec_blocks, {
            uid: 'uid___A002_Xc6c0d5_X2b4e',
            mousUid: 'uid___A001_X1296_X675',
            position: 0,
            qa0: mous.qa0,
          });

          // Act
          const error = await errorOf(archiveOf(database.location).findMous('uid___A001_X1296_X675'));

          // Assess
          expect(error).toBeInstanceOf(ArchiveError);
          expect(error.message).toContain('MOUS uid___A001_X1296_X675');
          expect(error.message).toMatch(expected);
        });

        it('reports an email shared by two accounts as ArchiveError instead of picking one', async () => {
          // Prepare
          const database = await fresh();
          await database.exec('CREATE TABLE users (id TEXT, name TEXT, email TEXT)');
          await database.exec(INSERT_SQL.users, { id: 'judits', name: 'Judit Szulagyi', email: 'judits@phys.ethz.ch' });
          await database.exec(INSERT_SQL.users, { id: 'jszulagyi', name: 'Judit Szulagyi', email: 'Judits@phys.ethz.ch' });

          // Act
          const error = await errorOf(archiveOf(database.location).findUserByEmail('judits@phys.ethz.ch'));

          // Assess
          expect(error).toBeInstanceOf(ArchiveError);
          expect(error.message).toContain('several user accounts have that email');
        });
      });
    });

    it('a database that cannot be reached: ArchiveUnavailableError (retried), naming the lookup and where', async () => {
      // Prepare
      const location = await backend.unreachable();
      const archive = archiveOf(location);

      // Act
      const error = await errorOf(archive.findProjectPi('2017.1.00727.S'));

      // Assess
      expect(error).toBeInstanceOf(ArchiveUnavailableError);
      expect(error).toBeInstanceOf(TransientError);
      expect(error.name).toBe('ArchiveUnavailableError');
      expect(error.message).toContain('the PI of project 2017.1.00727.S');
      expect(error.message).toContain(location.dialect === 'sqlite' ? location.path : location.display);
      expect(error.message).not.toContain('secret@');
    });

    describe('loading a snapshot (npm run archive:load)', () => {
      const snapshot = () => readSnapshotFile(SHIPPED_SNAPSHOT);

      it('creates the schema in an empty database and fills it', async () => {
        // Prepare
        const database = await fresh();

        // Act
        const result = await archiveLoad([SHIPPED_SNAPSHOT], { CALMS_ARCHIVE_URL: database.url });

        // Assess
        expect(result).toEqual({ status: 0, output: expect.stringMatching(/^Loaded .*snapshot\.json into .*: \d+ MOUS \(\d+ execution blocks\)/) });
        if (database.location.dialect === 'postgres') expect(result.output).not.toContain(database.location.password);
        expect((await archiveOf(database.location).findMous('uid___A001_X1296_X675'))?.projectCode).toBe('2017.1.00727.S');
      });

      it('refuses a non-empty archive, naming --replace and changing nothing; with --replace it replaces it', async () => {
        // Prepare: an archive that holds a user the snapshot does not have
        const database = await fresh();
        await loadSnapshot(snapshot(), database.location);
        await database.exec(INSERT_SQL.users, { id: 'zoezebra', name: 'Zoe Zebra', email: 'zoe.zebra@example.org' });
        const archive = archiveOf(database.location);

        // Act
        const refused = await archiveLoad([SHIPPED_SNAPSHOT], { CALMS_ARCHIVE_URL: database.url });
        const kept = await archive.findUserByEmail('zoe.zebra@example.org');
        const thrown = await errorOf(loadSnapshot(snapshot(), database.location));
        const replaced = await archiveLoad(['--replace', SHIPPED_SNAPSHOT], { CALMS_ARCHIVE_URL: database.url });
        const gone = await archiveOf(database.location).findUserByEmail('zoe.zebra@example.org');

        // Assess
        expect(refused.status).toBe(1);
        expect(refused.output).toMatch(/^Nothing loaded: the archive .* is not empty \(.*in users.*\).*Run again with --replace to replace it\.$/);
        expect(kept?.id).toBe('zoezebra');
        expect(thrown).toBeInstanceOf(ArchiveNotEmptyError);
        expect(replaced.status).toBe(0);
        expect(gone).toBeUndefined();
      });
    });
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveSnapshot } from '../../../lib/archive/Archive';
import {
  isAlmaUid,
  loadSnapshotFile,
  loadSnapshotIntoDatabase,
  parseSnapshot,
  SnapshotError,
  SqliteArchive,
  toFileNameUid,
} from '../../../lib/archive';
import { createLogger } from '../../../lib/log';

const SHIPPED_SNAPSHOT = join(__dirname, '../../../localstack/archive/snapshot.json');
const quiet = createLogger({}, () => undefined);

/** A small valid snapshot as JSON would give it; tests break one thing at a time. */
function validJson(): any {
  return {
    users: [
      { id: 'paulaprincipal', name: 'Paula Principal', email: 'Paula.Principal@Example.org' },
      { id: 'dariodelegate', name: 'Dario Delegate', email: 'dario.delegate@example.org' },
    ],
    projects: [{ code: '2022.1.00999.S', piUserId: 'paulaprincipal' }],
    delegations: [{ projectCode: '2022.1.00999.S', userId: 'dariodelegate', type: 'DATA' }],
    mous: [
      {
        uid: 'uid://A001/X2f1e/X101',
        projectCode: '2022.1.00999.S',
        state: 'Delivered',
        releaseDate: '2099-01-01',
        execBlocks: [
          {
            uid: 'uid://A002/Xf2a1b3/X4c2',
            qa0: 'Pass',
            fields: [
              { name: 'J0423-0120', intents: ['CALIBRATE_PHASE', 'CALIBRATE_BANDPASS'] },
              { name: 'DG_Tau', intents: ['OBSERVE_TARGET'] },
            ],
          },
        ],
      },
    ],
  };
}

function problemsOf(json: unknown): readonly string[] {
  try {
    parseSnapshot(json);
  } catch (error) {
    if (error instanceof SnapshotError) return error.problems;
    throw error;
  }
  throw new Error('parseSnapshot accepted the snapshot');
}

describe('toFileNameUid', () => {
  it.each([
    ['uid://A001/X1296/X675', 'uid___A001_X1296_X675'],
    ['uid://A002/Xd33a12/X15be', 'uid___A002_Xd33a12_X15be'],
    ['uid___A001_X1296_X675', 'uid___A001_X1296_X675'],
    ['  uid://A001/X159a/X6b ', 'uid___A001_X159a_X6b'],
    ['not a uid', 'not a uid'],
  ])('turns %j into %j', (given, expected) => {
    // Prepare
    const input = given;

    // Act
    const result = toFileNameUid(input);

    // Assess
    expect(result).toBe(expected);
  });

  it('recognises both uid forms and nothing else', () => {
    // Prepare
    const candidates = ['uid://A001/X1296/X675', 'uid___A001_X1296_X675', 'uid://A001/X1296', 'uid___A001_X1296_675', 'A001/X1/X2'];

    // Act
    const verdicts = candidates.map(isAlmaUid);

    // Assess
    expect(verdicts).toEqual([true, true, false, false, false]);
  });
});

describe('parseSnapshot', () => {
  it('returns a valid snapshot with MOUS and EB uids in file-name form', () => {
    // Prepare
    const json = validJson();

    // Act
    const snapshot = parseSnapshot(json);

    // Assess
    expect(snapshot.mous[0]!.uid).toBe('uid___A001_X2f1e_X101');
    expect(snapshot.mous[0]!.execBlocks[0]).toEqual({
      uid: 'uid___A002_Xf2a1b3_X4c2',
      qa0: 'Pass',
      fields: [
        { name: 'J0423-0120', intents: ['CALIBRATE_BANDPASS', 'CALIBRATE_PHASE'] },
        { name: 'DG_Tau', intents: ['OBSERVE_TARGET'] },
      ],
    });
    expect(snapshot.users).toHaveLength(2);
    expect(snapshot.delegations).toEqual([{ projectCode: '2022.1.00999.S', userId: 'dariodelegate', type: 'DATA' }]);
  });

  it('reads a field given as a plain name (the format before intents) as one without intents', () => {
    // Prepare
    const json = validJson();
    json.mous[0].execBlocks[0].fields = ['J0423-0120', { name: 'DG_Tau', intents: [] }];

    // Act
    const snapshot = parseSnapshot(json);

    // Assess
    expect(snapshot.mous[0]!.execBlocks[0]!.fields).toEqual([
      { name: 'J0423-0120', intents: [] },
      { name: 'DG_Tau', intents: [] },
    ]);
  });

  it('reports an unknown intent with the value it got', () => {
    // Prepare
    const json = validJson();
    json.mous[0].execBlocks[0].fields[1].intents = ['SCIENCE'];

    // Act
    const act = () => parseSnapshot(json);

    // Assess
    expect(act).toThrow(/mous\[0\]\.execBlocks\[0\]\.fields\[1\]\.intents\[0\] must be an ALMA scan intent \(.*OBSERVE_TARGET.*\), got "SCIENCE"/);
  });

  it('accepts a null release date and ignores unknown keys such as comment', () => {
    // Prepare
    const json = validJson();
    json.mous[0].releaseDate = null;
    json.mous[0].comment = 'for testers';

    // Act
    const snapshot = parseSnapshot(json);

    // Assess
    expect(snapshot.mous[0]!.releaseDate).toBeNull();
    expect(snapshot.mous[0]).not.toHaveProperty('comment');
  });

  it('names the exact path of a bad QA0 status', () => {
    // Prepare
    const json = validJson();
    for (const n of [102, 103, 104]) {
      json.mous.push({ ...json.mous[0], uid: `uid___A001_X2f1e_X${n}`, execBlocks: [] });
    }
    json.mous[3].execBlocks = [{ uid: 'uid___A002_Xf2a1b3_X999', qa0: 'QA0_PASS', fields: [] }];

    // Act
    const act = () => parseSnapshot(json);

    // Assess
    expect(act).toThrow(SnapshotError);
    expect(act).toThrow('mous[3].execBlocks[0].qa0 must be one of Pass, SemiPass, Fail, Unset');
  });

  it.each<[string, (json: any) => void, string]>([
    ['missing users', (json) => delete json.users, 'users is missing'],
    ['users that is not an array', (json) => (json.users = {}), 'users must be an array'],
    ['a user without email', (json) => delete json.users[1].email, 'users[1].email is missing'],
    ['a malformed email', (json) => (json.users[1].email = 'dario'), 'users[1].email must be an email address, got "dario"'],
    ['an empty name', (json) => (json.users[0].name = ' '), 'users[0].name must be a non-empty string'],
    ['a repeated user id', (json) => (json.users[1].id = 'paulaprincipal'), 'users[1].id "paulaprincipal" repeats users[0].id'],
    [
      'an email repeated in another letter case',
      (json) => (json.users[1].email = 'paula.principal@example.org'),
      'users[1].email "paula.principal@example.org" repeats users[0].email (letter case is ignored)',
    ],
    ['a PI who is not a user', (json) => (json.projects[0].piUserId = 'ghost'), 'projects[0].piUserId "ghost" is not the id of any user'],
    [
      'a malformed project code',
      (json) => (json.projects[0].code = '2022-1-999'),
      'projects[0].code must be an ALMA project code like 2017.1.00727.S, got "2022-1-999"',
    ],
    ['a delegation to an unknown user', (json) => (json.delegations[0].userId = 'ghost'), 'delegations[0].userId "ghost" is not the id of any user'],
    [
      'a delegation of an unknown project',
      (json) => (json.delegations[0].projectCode = '2099.1.00001.S'),
      'delegations[0].projectCode "2099.1.00001.S" is not the code of any project',
    ],
    ['a delegation of an unknown type', (json) => (json.delegations[0].type = 'data'), 'delegations[0].type must be one of DATA, PROPOSAL, ADMIN'],
    ['a repeated delegation', (json) => json.delegations.push({ ...json.delegations[0] }), 'delegations[1] repeats delegations[0]'],
    [
      'a MOUS of an unknown project',
      (json) => (json.mous[0].projectCode = '2017.1.00727.S'),
      'mous[0].projectCode "2017.1.00727.S" is not the code of any project',
    ],
    [
      'a malformed MOUS uid',
      (json) => (json.mous[0].uid = 'A001/X2f1e/X101'),
      'mous[0].uid must be an ALMA uid like uid://A001/X1296/X675 or uid___A001_X1296_X675 (at most 16 hex digits after each X), got "A001/X2f1e/X101"',
    ],
    [
      'an EB uid the cluster would refuse as a measurement set name (17 hex digits)',
      (json) => (json.mous[0].execBlocks[0].uid = `uid://A002/X${'f'.repeat(17)}/X4c2`),
      `mous[0].execBlocks[0].uid must be an ALMA uid like uid://A001/X1296/X675 or uid___A001_X1296_X675 (at most 16 hex digits after each X), got "uid://A002/X${'f'.repeat(17)}/X4c2"`,
    ],
    [
      'a project code of no known proposal type',
      (json) => (json.projects[0].code = '2017.1.00727.Q'),
      'projects[0].code must be an ALMA project code like 2017.1.00727.S, got "2017.1.00727.Q"',
    ],
    [
      'the same MOUS in both uid forms',
      (json) => json.mous.push({ ...json.mous[0], uid: 'uid___A001_X2f1e_X101', execBlocks: [] }),
      'mous[1].uid "uid___A001_X2f1e_X101" repeats mous[0].uid',
    ],
    ['a missing release date', (json) => delete json.mous[0].releaseDate, 'mous[0].releaseDate is missing (use null when the archive has none)'],
    [
      'an impossible release date',
      (json) => (json.mous[0].releaseDate = '2023-02-30'),
      'mous[0].releaseDate must be null or a date YYYY-MM-DD, got "2023-02-30"',
    ],
    [
      'a release date with a time',
      (json) => (json.mous[0].releaseDate = '2023-02-01T00:00:00Z'),
      'mous[0].releaseDate must be null or a date YYYY-MM-DD',
    ],
    ['a missing state', (json) => delete json.mous[0].state, 'mous[0].state is missing'],
    ['a missing execBlocks', (json) => delete json.mous[0].execBlocks, 'mous[0].execBlocks is missing'],
    ['an EB that is not an object', (json) => (json.mous[0].execBlocks[0] = 'uid___A002_X1_X2'), 'mous[0].execBlocks[0] must be an object'],
    [
      'an EB uid used twice',
      (json) => json.mous[0].execBlocks.push({ ...json.mous[0].execBlocks[0], uid: 'uid___A002_Xf2a1b3_X4c2' }),
      'mous[0].execBlocks[1].uid "uid___A002_Xf2a1b3_X4c2" repeats mous[0].execBlocks[0].uid',
    ],
    [
      'a field that is neither a name nor an object',
      (json) => (json.mous[0].execBlocks[0].fields = ['J0423-0120', 7]),
      'mous[0].execBlocks[0].fields[1] must be an object',
    ],
    ['an empty field name', (json) => (json.mous[0].execBlocks[0].fields[0] = ' '), 'mous[0].execBlocks[0].fields[0] must be a non-empty string'],
    ['a field without a name', (json) => delete json.mous[0].execBlocks[0].fields[1].name, 'mous[0].execBlocks[0].fields[1].name is missing'],
    [
      'a field object without intents',
      (json) => delete json.mous[0].execBlocks[0].fields[1].intents,
      'mous[0].execBlocks[0].fields[1].intents is missing',
    ],
    [
      'an unknown intent',
      (json) => (json.mous[0].execBlocks[0].fields[1].intents = ['OBSERVE_TARGET', 'CALIBRATE_EVERYTHING']),
      'mous[0].execBlocks[0].fields[1].intents[1] must be an ALMA scan intent (CALIBRATE_AMPLI, ',
    ],
    [
      'an intent with its sub-intent',
      (json) => (json.mous[0].execBlocks[0].fields[0].intents = ['CALIBRATE_PHASE#ON_SOURCE']),
      'mous[0].execBlocks[0].fields[0].intents[0] must be an ALMA scan intent',
    ],
    [
      'a field listed twice in one EB',
      (json) => json.mous[0].execBlocks[0].fields.push('DG_Tau'),
      'mous[0].execBlocks[0].fields[2] "DG_Tau" repeats mous[0].execBlocks[0].fields[1]',
    ],
  ])('rejects %s, naming the path', (_label, breakIt, expected) => {
    // Prepare
    const json = validJson();
    breakIt(json);

    // Act
    const problems = problemsOf(json);

    // Assess
    expect(problems.some((problem) => problem.startsWith(expected))).toBe(true);
  });

  it.each([[[]], [null], ['snapshot'], [undefined]])('rejects %j as a whole', (json) => {
    // Prepare
    const input: unknown = json;

    // Act
    const problems = problemsOf(input);

    // Assess
    expect(problems).toEqual([input === undefined ? 'snapshot is missing' : 'snapshot must be an object']);
  });

  it('reports every problem at once, not only the first', () => {
    // Prepare
    const json = validJson();
    json.users[1].email = 'dario';
    json.projects[0].piUserId = 'ghost';
    json.mous[0].execBlocks[0].qa0 = 'Good';

    // Act
    const problems = problemsOf(json);

    // Assess
    expect(problems).toEqual([
      'users[1].email must be an email address, got "dario"',
      'projects[0].piUserId "ghost" is not the id of any user',
      'mous[0].execBlocks[0].qa0 must be one of Pass, SemiPass, Fail, Unset',
    ]);
  });

  it('accepts the snapshot shipped for the local cloud', () => {
    // Prepare
    const json: unknown = JSON.parse(readFileSync(SHIPPED_SNAPSHOT, 'utf8'));

    // Act
    const snapshot = parseSnapshot(json);

    // Assess
    expect(snapshot.mous.map((mous) => mous.uid)).toContain('uid___A001_X1296_X675');
    expect(snapshot.mous.every((mous) => mous.uid.startsWith('uid___'))).toBe(true);
  });
});

describe('loading a snapshot into SQLite', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'calms-snapshot-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a database the adapter reads, creating missing directories, and reports what it loaded', async () => {
    // Prepare
    const dbPath = join(dir, 'nested', 'archive.sqlite');

    // Act
    const summary = loadSnapshotIntoDatabase(parseSnapshot(validJson()), dbPath);

    // Assess
    expect(summary).toEqual({ users: 2, projects: 1, delegations: 1, mous: 1, execBlocks: 1 });
    const archive = new SqliteArchive(dbPath, { logger: quiet });
    await expect(archive.findProjectPi('2022.1.00999.S')).resolves.toBe('paulaprincipal');
    archive.close();
  });

  it('replaces an existing database as a whole and leaves no temporary file', async () => {
    // Prepare
    const dbPath = join(dir, 'archive.sqlite');
    loadSnapshotIntoDatabase(parseSnapshot(validJson()), dbPath);
    const next = validJson();
    next.projects[0].piUserId = 'dariodelegate';

    // Act
    loadSnapshotIntoDatabase(parseSnapshot(next), dbPath);

    // Assess
    const archive = new SqliteArchive(dbPath, { logger: quiet });
    await expect(archive.findProjectPi('2022.1.00999.S')).resolves.toBe('dariodelegate');
    archive.close();
    expect(readdirSync(dir)).toEqual(['archive.sqlite']);
  });

  it('leaves the previous database untouched when a load fails half-way', async () => {
    // Prepare
    const dbPath = join(dir, 'archive.sqlite');
    loadSnapshotIntoDatabase(parseSnapshot(validJson()), dbPath);
    const good = parseSnapshot(validJson());
    // Bypasses parseSnapshot: the second MOUS refers to a project the database does not have.
    const bad: ArchiveSnapshot = {
      ...good,
      mous: [...good.mous, { ...good.mous[0]!, uid: 'uid___A001_X2f1e_X1ff', projectCode: '2099.1.00001.S', execBlocks: [] }],
    };

    // Act
    const act = () => loadSnapshotIntoDatabase(bad, dbPath);

    // Assess
    expect(act).toThrow(/could not build the archive database .*archive\.sqlite from the snapshot: .*FOREIGN KEY/);
    expect(readdirSync(dir)).toEqual(['archive.sqlite']);
    const archive = new SqliteArchive(dbPath, { logger: quiet });
    await expect(archive.findMous('uid___A001_X2f1e_X101')).resolves.toMatchObject({ projectCode: '2022.1.00999.S' });
    await expect(archive.findMous('uid___A001_X2f1e_X1ff')).resolves.toBeUndefined();
    archive.close();
  });

  it('loads a snapshot file', async () => {
    // Prepare
    const snapshotPath = join(dir, 'snapshot.json');
    writeFileSync(snapshotPath, JSON.stringify(validJson()));
    const dbPath = join(dir, 'archive.sqlite');

    // Act
    loadSnapshotFile(snapshotPath, dbPath);

    // Assess
    const archive = new SqliteArchive(dbPath, { logger: quiet });
    await expect(archive.hasDelegation('2022.1.00999.S', 'dariodelegate', 'DATA')).resolves.toBe(true);
    archive.close();
  });

  it.each<[string, string | undefined, RegExp]>([
    ['is missing', undefined, /^archive snapshot .*snapshot\.json is invalid: not readable: /],
    ['is not JSON', '{ "users": [', /^archive snapshot .*snapshot\.json is invalid: not JSON: /],
    [
      'fails the checks',
      JSON.stringify({ ...validJson(), users: [] }),
      /^archive snapshot .*snapshot\.json is invalid: projects\[0\]\.piUserId "paulaprincipal" is not the id of any user/,
    ],
  ])('names the snapshot file when it %s, and creates no database', (_label, content, expected) => {
    // Prepare
    const snapshotPath = join(dir, 'snapshot.json');
    if (content !== undefined) writeFileSync(snapshotPath, content);
    const dbPath = join(dir, 'archive.sqlite');

    // Act
    const act = () => loadSnapshotFile(snapshotPath, dbPath);

    // Assess
    expect(act).toThrow(SnapshotError);
    expect(act).toThrow(expected);
    expect(existsSync(dbPath)).toBe(false);
  });
});

/**
 * The cases localstack/archive/README.md promises testers, run through the real adapter on the shipped
 * snapshot: if the JSON or the rules change, the README has to change with them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSnapshotFile, parseSnapshot, SqliteArchive } from '../../../lib/archive';
import { decideEntitlement, EntitlementOutcome, gatherEntitlementFacts, type EntitlementOutcome as Outcome } from '../../../lib/domain/entitlement';
import { checkMousAtIntake, type IntakeCheckCode } from '../../../lib/domain/intakeChecks';
import { createLogger } from '../../../lib/log';

const ARCHIVE_DIR = join(__dirname, '../../../localstack/archive');
const SNAPSHOT = join(ARCHIVE_DIR, 'snapshot.json');

const PAULA = 'paula.principal@example.org';
const STELLA = 'stella.stranger@example.org';

interface Case {
  readonly mous: string;
  readonly projectCode: string;
  readonly email: string;
  readonly calfields?: readonly string[];
  readonly intake: 'ok' | IntakeCheckCode;
  readonly entitlement?: Outcome;
}

const { Entitled, NotEntitled, InvalidMousUid, MousNotDelivered } = EntitlementOutcome;

const CASES: readonly Case[] = [
  { mous: 'uid___A001_X1296_X675', projectCode: '2017.1.00727.S', email: 'judits@phys.ethz.ch', intake: 'ok', entitlement: Entitled },
  {
    mous: 'uid___A001_X1296_X675',
    projectCode: '2017.1.00727.S',
    email: 'judits@phys.ethz.ch',
    calfields: ['J0510+1800', 'J0321+1234'],
    intake: 'ok',
    entitlement: Entitled,
  },
  { mous: 'uid___A001_X1296_X675', projectCode: '2017.1.00727.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X1296_X675', projectCode: '2021.1.01582.S', email: 'judits@phys.ethz.ch', intake: 'WRONG_PROJECT' },
  {
    mous: 'uid___A001_X159a_X6b',
    projectCode: '2021.1.01582.S',
    email: 'franco@gmail.com',
    calfields: ['J0510+1800', 'J0321+1234'],
    intake: 'ok',
    entitlement: Entitled,
  },
  { mous: 'uid___A001_X159a_X6b', projectCode: '2021.1.01582.S', email: 'franco@gmail.com', intake: 'ok', entitlement: NotEntitled },
  {
    mous: 'uid___A001_X159a_X6b',
    projectCode: '2021.1.01582.S',
    email: 'nobody@example.org',
    calfields: ['IRAS_04302+2247'],
    intake: 'NOT_A_CALIBRATOR',
  },
  {
    mous: 'uid___A001_X159a_X6b',
    projectCode: '2021.1.01582.S',
    email: 'franco@gmail.com',
    calfields: ['J0440+2728'],
    intake: 'ok',
    entitlement: Entitled,
  },
  { mous: 'uid___A001_X159a_X6b', projectCode: '2021.1.01582.S', email: 'bruno.baseline@example.org', intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X14d7_X160', projectCode: '2019.1.00337.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  {
    mous: 'uid___A001_X14d7_X160',
    projectCode: '2019.1.00337.S',
    email: STELLA,
    calfields: ['J0217-0820', 'J0238+1636'],
    intake: 'ok',
    entitlement: Entitled,
  },
  { mous: 'uid___A001_X133d_X3cf3', projectCode: '2018.1.01406.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X133d_X1244', projectCode: '2018.1.00591.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: PAULA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: 'dario.delegate@example.org', intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: 'petra.proposal@example.org', intake: 'ok', entitlement: NotEntitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: 'adrian.admin@example.org', intake: 'ok', entitlement: NotEntitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: STELLA, intake: 'ok', entitlement: NotEntitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: STELLA, calfields: ['J0423-0120'], intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: STELLA, calfields: ['J0423-0120', 'DG_Tau'], intake: 'NOT_A_CALIBRATOR' },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: 'nobody@example.org', intake: 'ok', entitlement: InvalidMousUid },
  { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', email: PAULA, calfields: ['J9999+9999'], intake: 'UNKNOWN_CALIBRATOR_FIELD' },
  { mous: 'uid___A001_X2f1e_X102', projectCode: '2022.1.00999.S', email: PAULA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X102', projectCode: '2022.1.00999.S', email: STELLA, intake: 'ok', entitlement: NotEntitled },
  { mous: 'uid___A001_X2f1e_X103', projectCode: '2022.1.00999.S', email: PAULA, intake: 'ok', entitlement: MousNotDelivered },
  { mous: 'uid___A001_X2f1e_X103', projectCode: '2022.1.00999.S', email: STELLA, intake: 'ok', entitlement: NotEntitled },
  { mous: 'uid___A001_X2f1e_X104', projectCode: '2022.1.00999.S', email: PAULA, intake: 'ok', entitlement: MousNotDelivered },
  { mous: 'uid___A001_X2f1e_X105', projectCode: '2022.1.00999.S', email: PAULA, intake: 'ok', entitlement: MousNotDelivered },
  { mous: 'uid___A001_X2f1e_X106', projectCode: '2022.1.00999.S', email: PAULA, intake: 'NO_QA0_PASS' },
  { mous: 'uid___A001_X2f1e_X107', projectCode: '2022.1.00999.S', email: PAULA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X107', projectCode: '2022.1.00999.S', email: PAULA, calfields: ['J1058+0133'], intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X107', projectCode: '2022.1.00999.S', email: PAULA, calfields: ['Titan'], intake: 'UNKNOWN_CALIBRATOR_FIELD' },
  { mous: 'uid___A001_X2f1e_X108', projectCode: '2015.1.00888.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A002_X3c7a84_X1c', projectCode: '2011.0.00012.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X201', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X202', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X203', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X204', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X205', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X205', projectCode: '2023.1.00456.S', email: STELLA, calfields: ['J1337-1257'], intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a0_X206', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X301', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X302', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X303', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X304', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X305', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X306', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X307', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X308', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X309', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X3a1_X30a', projectCode: '2023.1.00456.S', email: STELLA, intake: 'ok', entitlement: Entitled },
  { mous: 'uid___A001_X2f1e_X1ff', projectCode: '2022.1.00999.S', email: PAULA, intake: 'NO_QA0_PASS', entitlement: InvalidMousUid },
];

/** The outcomes must hold now and for a long time: proprietary dates are in 2099. */
const DAYS = [new Date('2026-11-24T12:00:00Z'), new Date('2098-12-31T23:59:59Z')];

let dir: string;
let archive: SqliteArchive;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'calms-shipped-'));
  const dbPath = join(dir, 'archive.sqlite');
  loadSnapshotFile(SNAPSHOT, dbPath);
  archive = new SqliteArchive(dbPath, { logger: createLogger({}, () => undefined) });
});

afterAll(() => {
  archive.close();
  rmSync(dir, { recursive: true, force: true });
});

function label(entry: Case): string {
  const calfield = entry.calfields ? ` calfield ${entry.calfields.join(',')}` : '';
  return `${entry.mous} ${entry.projectCode} ${entry.email}${calfield}`;
}

describe('the shipped archive snapshot', () => {
  it.each(CASES.map((entry) => [label(entry), entry] as const))('gives the README intake answer for %s', async (_label, entry) => {
    // Prepare
    const request = { mous: entry.mous, projectCode: entry.projectCode, calibratorFields: entry.calfields ?? [] };

    // Act
    const result = await checkMousAtIntake(archive, request);

    // Assess
    expect(result.ok ? 'ok' : result.code).toBe(entry.intake);
  });

  const decided = CASES.filter((entry) => entry.entitlement !== undefined);
  it.each(decided.map((entry) => [label(entry), entry] as const))('gives the README entitlement answer for %s', async (_label, entry) => {
    // Prepare
    const request = { mous: entry.mous, projectCode: entry.projectCode, userEmail: entry.email, calibratorFields: entry.calfields ?? [] };

    // Act
    const facts = await gatherEntitlementFacts(archive, request);
    const outcomes = DAYS.map((day) => decideEntitlement(facts, day));

    // Assess
    for (const decision of outcomes) expect(decision.outcome).toBe(entry.entitlement);
  });

  it('matches Paula by an email in another letter case than the archive holds', () => {
    // Prepare
    const snapshot = parseSnapshot(JSON.parse(readFileSync(SNAPSHOT, 'utf8')));

    // Act
    const stored = snapshot.users.find((user) => user.id === 'paulaprincipal')?.email;

    // Assess
    expect(stored).not.toBe(PAULA);
    expect(stored?.toLowerCase()).toBe(PAULA);
  });

  it('lists every MOUS of the snapshot in the README, and every MOUS is exercised here', () => {
    // Prepare
    const snapshot = parseSnapshot(JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
    const readme = readFileSync(join(ARCHIVE_DIR, 'README.md'), 'utf8');

    // Act
    const missingFromReadme = snapshot.mous.filter((mous) => !readme.includes(mous.uid)).map((mous) => mous.uid);
    const untested = snapshot.mous.filter((mous) => !CASES.some((entry) => entry.mous === mous.uid)).map((mous) => mous.uid);

    // Assess
    expect(missingFromReadme).toEqual([]);
    expect(untested).toEqual([]);
  });

  it('covers the seed examples', async () => {
    // Prepare
    const seedMous = ['uid___A001_X1296_X675', 'uid___A001_X159a_X6b', 'uid___A001_X14d7_X160', 'uid___A001_X133d_X3cf3', 'uid___A001_X133d_X1244'];

    // Act
    const found = await Promise.all(seedMous.map((uid) => archive.findMous(uid)));
    const judit = await archive.findUserByEmail('judits@phys.ethz.ch');
    const franco = await archive.findUserByEmail('franco@gmail.com');

    // Assess
    expect(found.map((mous) => mous?.projectCode)).toEqual([
      '2017.1.00727.S',
      '2021.1.01582.S',
      '2019.1.00337.S',
      '2018.1.01406.S',
      '2018.1.00591.S',
    ]);
    expect(found[3]?.execBlocks.map((block) => block.uid)).toEqual(['uid___A002_Xd33a12_X15be']);
    expect(judit?.name).toBe('Judit Szulagyi');
    expect(franco?.name).toBe('Franco Nero');
  });
});

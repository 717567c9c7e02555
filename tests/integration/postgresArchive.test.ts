/**
 * One request end to end with the archive in PostgreSQL (issue 18): `npm run archive:load` fills a database of
 * its own on the CI server (.ci/postgres.sh), and a local cloud of this file's own (support/faultCloud.ts) runs
 * with CALMS_ARCHIVE_URL pointing at it. That the Lambdas really read PostgreSQL is shown by a change made only
 * there: a MOUS whose execution blocks PostgreSQL alone marks QA0 Fail is turned away at intake.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { archiveLoad } from '../../localstack/archiveLoad';
import { postRequest, statesEntered, waitForExecution } from './support/clients';
import { expectOneEmailOfEachKind, FAULT_STATE_DIR, FaultCloud, leftBehind } from './support/faultCloud';
import { createTestDatabase, describeWithPostgres } from './support/postgres';
import { testRequests } from './support/requests';
import { QUEUED_MOUS } from './support/testCloud';

const SNAPSHOT = path.resolve(__dirname, '../../localstack/archive/snapshot.json');
const requests = testRequests(93000);
const DELIVERED_MOUS = QUEUED_MOUS[9]!;
const FAILED_ONLY_IN_POSTGRES = QUEUED_MOUS[8]!;

describeWithPostgres('the archive in PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let cloud: FaultCloud;

  beforeAll(async () => {
    database = await createTestDatabase('calms_end_to_end');
    const loaded = await archiveLoad([SNAPSHOT], { CALMS_ARCHIVE_URL: database.url });
    expect(loaded.status).toBe(0);
    const client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query("UPDATE exec_blocks SET qa0 = 'Fail' WHERE mous_uid = $1", [FAILED_ONLY_IN_POSTGRES]);
    await client.end();
    cloud = new FaultCloud({ CALMS_ARCHIVE_URL: database.url });
    await cloud.start();
  }, 240_000);

  afterAll(async () => {
    await cloud?.stop();
    await database?.drop();
  }, 60_000);

  test('a request is checked against PostgreSQL, calibrated, staged and delivered, with one email of each kind', async () => {
    // Act
    const request = await requests.submit(DELIVERED_MOUS);
    const execution = await waitForExecution(request.executionArn, 300_000);

    // Assess
    expect([execution.status, execution.error]).toEqual(['SUCCEEDED', undefined]);
    expect(statesEntered(execution.events)).toEqual(expect.arrayContaining(['CheckEntitlement', 'LookForStagedMeasurementSets', 'Delivered']));
    await expectOneEmailOfEachKind(request.requestId, ['request', 'delivered']);
    expect(await leftBehind([request])).toEqual({ slots: [], queue: [], uploads: [], triggers: [] });
  });

  test('intake reads PostgreSQL, not a SQLite file: the MOUS PostgreSQL alone marks QA0 Fail is turned away', async () => {
    // Act
    const response = await postRequest(requests.body(FAILED_ONLY_IN_POSTGRES));

    // Assess
    expect(response.status).toBe(422);
    expect(response.body.results[0]).toMatchObject({ mous: FAILED_ONLY_IN_POSTGRES, outcome: 'rejected', error: { code: 'NO_QA0_PASS' } });
    expect(fs.readFileSync(cloud.outputFile, 'utf8')).toContain(`archive: PostgreSQL postgres://calms@${new URL(database.url).host}`);
    expect(fs.existsSync(path.join(FAULT_STATE_DIR, 'archive.sqlite'))).toBe(false);
  });
});

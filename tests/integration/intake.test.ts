/**
 * POST /requests against the running local cloud: what is written to S3, sent to MailDev and started in
 * Step Functions, and what is not.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { mailsOf, postRequest, s3, service, sfn, waitForExecution } from './support/clients';

const seedExample = (ticket: string, overrides: Record<string, unknown> = {}) => ({
  projectCode: '2017.1.00727.S',
  userName: 'Judit Szulagyi',
  userEmail: 'judits@phys.ethz.ch',
  helpdeskTicket: ticket,
  arcContact: 'arc.staff@example.org',
  mous: ['uid://A001/X1296/X675'],
  ...overrides,
});

async function objectText(key: string): Promise<string> {
  const object = await s3().send(new GetObjectCommand({ Bucket: service().dataBucket, Key: key }));
  return object.Body!.transformToString();
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3().send(new ListObjectsV2Command({ Bucket: service().dataBucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!);
}

describe('POST /requests', () => {
  test("the seed's calibrator example is accepted: trigger file, request email to AOG and one execution", async () => {
    // Act
    const response = await postRequest({
      projectCode: '2021.1.01582.S',
      userName: 'Franco Nero',
      userEmail: 'franco@gmail.com',
      helpdeskTicket: '12345',
      arcContact: 'arc.staff@example.org',
      mous: ['uid://A001/X159a/X6b'],
      calibratorFields: ['J0510+1800', 'J0321+1234'],
    });

    // Assess
    expect(response.status).toBe(202);
    const [result] = response.body.results;
    expect(result).toMatchObject({ mous: 'uid___A001_X159a_X6b', outcome: 'accepted' });
    expect(result.triggerName).toMatch(/^trigger-uid___A001_X159a_X6b-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.txt$/);
    expect(result.requestId).toContain('12345');

    const expectedText = [
      'EU ARC contact arc.staff@example.org',
      `CC email ${service().mail.maintainer}`,
      'ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X159a_X6b',
      '',
      'Dear AOG,',
      'please create the calibrated MS for MOUS uid___A001_X159a_X6b',
      'project 2021.1.01582.S',
      'calfield J0510+1800,J0321+1234',
      'for user Franco Nero',
      'email franco@gmail.com',
      'helpdesk ticket 12345',
      '',
    ].join('\n');
    expect(await objectText(`triggers/${result.triggerName}`)).toBe(expectedText);

    const execution = await sfn().send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    expect(execution.name).toBe(result.requestId);
    expect(JSON.parse(execution.input!).request).toMatchObject({ mous: 'uid___A001_X159a_X6b', helpdeskTicket: '12345' });

    await waitForExecution(result.executionArn);
    const [requestMail] = await mailsOf(result.requestId);
    expect(requestMail).toBeDefined();
    expect(requestMail!.subject).toBe('ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X159a_X6b');
    expect(requestMail!.text).toBe(expectedText);
    expect(requestMail!.to.map((to) => to.address)).toEqual([service().mail.aog]);
    expect(requestMail!.cc!.map((cc) => cc.address)).toEqual(['arc.staff@example.org', service().mail.maintainer]);
  });

  test.each([
    ['projectCode', { projectCode: '2017.1.727.S' }],
    ['userEmail', { userEmail: 'not-an-address' }],
    ['helpdeskTicket', { helpdeskTicket: '16140; touch /tmp/pwned' }],
    ['mous[0]', { mous: ['uid://A001/X1296'] }],
    ['mous', { mous: [] }],
    ['calibratorFields[0]', { calibratorFields: ['$(id)'] }],
    ['userName', { userName: 'Judit\nSzulagyi' }],
    ['userName', { userName: 'Judit \u202Eiygaluzs' }],
    ['userName', { userName: 'Judit\u200BSzulagyi' }],
    ['mous[0]', { mous: [`uid://A001/X${'1'.repeat(17)}/X675`] }],
    ['mous[0]', { helpdeskTicket: '9999999999', mous: [`uid://A001/X${'a'.repeat(10)}/X${'b'.repeat(10)}`] }],
    ['calibratorFields[0]', { calibratorFields: ['-J0510+1800'] }],
    ['calibratorFields', { calibratorFields: Array.from({ length: 65 }, (_, index) => `J${index}`) }],
  ])('malformed %s: 400 naming the field, and nothing is written or started', async (field, overrides) => {
    // Prepare
    const claimsBefore = await keysUnder('claims/');

    // Act
    const response = await postRequest(seedExample('70001', overrides));

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field });
    expect(response.body.error.message).toEqual(expect.any(String));
    expect(await keysUnder('claims/')).toEqual(claimsBefore);
  });

  test('a body that is not JSON is a validation error of the body', async () => {
    const response = await postRequest('{"projectCode": ');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'body' });
  });

  test('a body over 64 KiB is refused with 413 naming the body, before it is read, and nothing is written', async () => {
    // Prepare: valid JSON, so only its size can be the reason.
    const claimsBefore = await keysUnder('claims/');
    const body = JSON.stringify(seedExample('70009'));

    // Act
    const response = await postRequest(body + ' '.repeat(64 * 1024 + 1 - body.length));

    // Assess
    expect(response.status).toBe(413);
    expect(response.body.error).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      field: 'body',
      message: 'the request body must be at most 64 KiB, got 65537 bytes',
    });
    expect(await keysUnder('claims/')).toEqual(claimsBefore);
  });

  test('without the API key the endpoint refuses', async () => {
    const response = await fetch(`${process.env.CALMS_API_URL}/requests`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
  });

  test('Cycle 0: 422 CYCLE0 pointing to the archive, nothing triggered', async () => {
    const response = await postRequest(
      seedExample('70002', { projectCode: '2011.0.00012.S', userEmail: 'ernest.early@example.org', mous: ['uid://A002/X3c7a84/X1c'] }),
    );
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('CYCLE0');
    expect(response.body.error.message).toMatch(/archive/);
    expect(await keysUnder('claims/uid___A002_X3c7a84_X1c')).toEqual([]);
  });

  test('a MOUS without QA0 Pass data gets the seed message; the other MOUS of the ticket is accepted', async () => {
    const response = await postRequest(
      seedExample('70003', {
        projectCode: '2022.1.00999.S',
        userEmail: 'paula.principal@example.org',
        mous: ['uid___A001_X2f1e_X106', 'uid://A001/X2f1e/X102'],
      }),
    );
    expect(response.status).toBe(202);
    const [noPass, accepted] = response.body.results;
    expect(noPass).toEqual({
      mous: 'uid___A001_X2f1e_X106',
      outcome: 'rejected',
      error: {
        code: 'NO_QA0_PASS',
        message:
          'ERROR: No QA0_PASS data found for this MOUS. Please double-check MOUS UID.\nIf confirmed, please inform the user that ALMA cannot offer calibrated data for this MOUS.',
      },
    });
    expect(accepted).toMatchObject({ mous: 'uid___A001_X2f1e_X102', outcome: 'accepted' });
    expect(await keysUnder('claims/uid___A001_X2f1e_X106')).toEqual([]);
    await waitForExecution(accepted.executionArn);
  });

  test('an unknown MOUS and a calibrator field nobody observed are rejected with their codes', async () => {
    const unknown = await postRequest(seedExample('70004', { projectCode: '2022.1.00999.S', mous: ['uid://A001/X2f1e/X1ff'] }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.results[0].error.code).toBe('NO_QA0_PASS');

    const field = await postRequest(
      seedExample('70005', { projectCode: '2022.1.00999.S', mous: ['uid://A001/X2f1e/X101'], calibratorFields: ['J9999+9999'] }),
    );
    expect(field.status).toBe(422);
    expect(field.body.results[0].error.code).toBe('UNKNOWN_CALIBRATOR_FIELD');
    expect(field.body.results[0].error.message).toContain('J9999+9999');
  });

  test('a second request for a MOUS still in work is a DUPLICATE_TRIGGER naming the first; force makes a second', async () => {
    // Prepare: the trigger stays while the first request is processed
    const first = await postRequest(
      seedExample('70006', { projectCode: '2018.1.00591.S', mous: ['uid___A001_X133d_X1244'], userEmail: 'olivia.observer@example.org' }),
    );
    expect(first.status).toBe(202);
    const firstTrigger = first.body.results[0].triggerName;

    // Act
    const duplicate = await postRequest(
      seedExample('70007', { projectCode: '2018.1.00591.S', mous: ['uid___A001_X133d_X1244'], userEmail: 'olivia.observer@example.org' }),
    );
    const forced = await postRequest(
      seedExample('70008', {
        projectCode: '2018.1.00591.S',
        mous: ['uid___A001_X133d_X1244'],
        userEmail: 'olivia.observer@example.org',
        force: true,
      }),
    );

    // Assess
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.results[0].error.code).toBe('DUPLICATE_TRIGGER');
    expect(duplicate.body.results[0].error.message).toContain(firstTrigger);
    expect(duplicate.body.results[0].error.existingTrigger.name).toBe(firstTrigger);
    expect(forced.status).toBe(202);
    expect(forced.body.results[0].requestId).not.toBe(first.body.results[0].requestId);
  });

  test('identical requests racing: exactly one is accepted', async () => {
    // Act
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        postRequest(
          seedExample('70009', { projectCode: '2019.1.00337.S', mous: ['uid://A001/X14d7/X160'], userEmail: 'olivia.observer@example.org' }),
        ),
      ),
    );

    // Assess
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409, 409, 409]);
    expect(await keysUnder('triggers/trigger-uid___A001_X14d7_X160-')).toHaveLength(1);
  });
});

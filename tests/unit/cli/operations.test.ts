/**
 * `calms status`, `triggers`, `cancel`, `keep` and `resend`: their arguments, the text they print, and each
 * whole command against a fake fetch. The answers follow lib/operations.
 */
import { parseCommandLine } from '../../../lib/cli/args';
import { ExitCode } from '../../../lib/cli/main';
import { formatCancel, formatKeep, formatRedrive, formatResend, formatStatus, formatTriggers } from '../../../lib/cli/operationsText';
import type { CancelOutcome } from '../../../lib/operations/cancel';
import type { RedriveOutcome } from '../../../lib/operations/redrive';
import type { RequestStatus } from '../../../lib/operations/requests';
import { API_KEY, fakeFetch, run } from './harness';

const ID = 't16140-uid___A001_X1296_X675-20261124T232106Z-ab12';

const REDRIVEN: RedriveOutcome = {
  requestId: ID,
  executionName: `${ID}-redrive-1`,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:calms-dev:${ID}-redrive-1`,
  attempt: 1,
  failedStatus: 'FAILED',
  failedExecution: ID,
  failedState: 'StageMeasurementSets',
  resumeAt: 'AcquireStagingSlot',
  failure: { error: 'TarballChecksumMismatchError', cause: 'part 3 differs' },
};

const DELIVERED: RequestStatus = {
  requestId: ID,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:calms-dev:${ID}`,
  status: 'SUCCEEDED',
  state: 'Delivered',
  ticket: '16140',
  mous: 'uid___A001_X1296_X675',
  projectCode: '2017.1.00727.S',
  user: { name: 'Judit Szulagyi', email: 'judits@phys.ethz.ch' },
  arcContact: 'evkampe@eso.org',
  calibratorFields: [],
  requestedAt: '2026-11-24T23:21:06.000Z',
  triggerName: 'trigger-uid___A001_X1296_X675-2026-11-24T23-21-06.txt',
  startedAt: '2026-11-24T23:21:06.120Z',
  stoppedAt: '2026-11-24T23:52:40.500Z',
  delivery: {
    link: 'https://calms.test/dev/downloads/8672af71',
    stagedAt: '2026-11-24T23:52:31.000Z',
    expiresAt: '2026-12-22T23:52:31.000Z',
    kept: true,
    expired: false,
  },
};

const FAILED: RequestStatus = {
  ...DELIVERED,
  status: 'FAILED',
  state: 'CalibrationFailed',
  calibratorFields: ['J0510+1800', 'J0321+1234'],
  delivery: undefined,
  failure: { error: 'ClusterJobFailedError', cause: 'The calibration job on arcp14:22 failed: the job exited with status 3.' },
};

const CANCELLED: CancelOutcome = {
  requestId: ID,
  executionArn: DELIVERED.executionArn,
  status: 'ABORTED',
  alreadyStopped: false,
  state: 'WaitForCalibrationJob',
  stoppedAt: '2026-11-24T23:30:00.000Z',
  stoppedJob: { node: '127.0.0.1:12223', jobId: '4242', workDir: `/work/calms-${ID}-uid___A001_X1296_X675` },
  abortedUploads: [],
  removedTrigger: DELIVERED.triggerName,
  arcContactEmail: { to: 'evkampe@eso.org', sent: 'sent' },
};

describe("parseCommandLine: the operators' commands", () => {
  it.each([
    [['status', ID], { kind: 'status', target: { requestId: ID }, json: false }],
    [['status', '--ticket', '16140', '--json'], { kind: 'status', target: { ticket: '16140' }, json: true }],
    [['status', '--mous', 'uid://A001/X1296/X675'], { kind: 'status', target: { mous: 'uid://A001/X1296/X675' }, json: false }],
    [['triggers'], { kind: 'triggers', json: false }],
    [['cancel', ID, '--json'], { kind: 'cancel', requestId: ID, json: true }],
    [['keep', ID], { kind: 'keep', requestId: ID, undo: false, json: false }],
    [['keep', '--undo', ID], { kind: 'keep', requestId: ID, undo: true, json: false }],
    [['resend', ID], { kind: 'resend', requestId: ID, json: false }],
    [['redrive', ID, '--json'], { kind: 'redrive', requestId: ID, json: true }],
  ])('reads %j', (argv, command) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command });
  });

  it.each([
    [['status'], 'status', 'calms status: give one request id, or --ticket <ticket>, or --mous <MOUS UID>'],
    [['status', ID, '--ticket', '1'], 'status', 'calms status: give one request id, or --ticket <ticket>, or --mous <MOUS UID>'],
    [['status', ID, ID], 'status', 'calms status: give one request id, or --ticket <ticket>, or --mous <MOUS UID>'],
    [['triggers', 'all'], 'triggers', 'calms triggers: takes no arguments, got "all"'],
    [['cancel'], 'cancel', 'calms cancel: expected one request id (as calms request printed it), got 0 arguments'],
    [['keep', ID, ID], 'keep', 'calms keep: expected one request id (as calms request printed it), got 2 arguments'],
    [['redrive'], 'redrive', 'calms redrive: expected one request id (as calms request printed it), got 0 arguments'],
  ])('refuses %j pointing at the %s help', (argv, topic, message) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: false, topic, message });
  });

  it.each(['status', 'triggers', 'cancel', 'keep', 'resend', 'redrive'])('answers the %s help for --help and for "help %s"', (topic) => {
    // Prepare: nothing beyond the topic

    // Act
    const option = parseCommandLine([topic, '--help']);
    const word = parseCommandLine(['help', topic]);

    // Assess
    expect(option).toEqual({ ok: true, command: { kind: 'help', topic } });
    expect(word).toEqual(option);
  });
});

describe("the text of the operators' commands", () => {
  it('formatStatus shows a delivered, kept request with its link and expiry', () => {
    // Prepare: DELIVERED

    // Act
    const text = formatStatus(DELIVERED);

    // Assess
    expect(text).toBe(
      [
        `Request ${ID}`,
        '  status           SUCCEEDED, ended in Delivered',
        '  MOUS             uid___A001_X1296_X675, project 2017.1.00727.S',
        '  helpdesk ticket  16140',
        '  user             Judit Szulagyi <judits@phys.ethz.ch>',
        '  ARC contact      evkampe@eso.org',
        '  trigger          trigger-uid___A001_X1296_X675-2026-11-24T23-21-06.txt',
        '  started          2026-11-24 23:21:06Z',
        '  stopped          2026-11-24 23:52:40Z',
        '  delivery         https://calms.test/dev/downloads/8672af71',
        '                   staged 2026-11-24 23:52:31Z, expires 2026-12-22 23:52:31Z (kept: not deleted at expiry)',
        '',
      ].join('\n'),
    );
  });

  it('formatStatus shows why a request failed, and a running one without a stop', () => {
    // Prepare
    const running: RequestStatus = { ...DELIVERED, status: 'RUNNING', state: 'WaitForStagingSlot', stoppedAt: undefined, delivery: undefined };

    // Act
    const failed = formatStatus(FAILED);
    const runs = formatStatus(running);

    // Assess
    expect(failed).toContain('  status           FAILED, ended in CalibrationFailed\n');
    expect(failed).toContain('  MOUS             uid___A001_X1296_X675, project 2017.1.00727.S, calibrator fields J0510+1800,J0321+1234\n');
    expect(failed).toContain('  error            ClusterJobFailedError: The calibration job on arcp14:22 failed: the job exited with status 3.\n');
    expect(formatStatus({ ...FAILED, endedBy: 'stop' })).toContain('  ended            was stopped by hand (StopExecution), not by calms cancel\n');
    expect(failed).not.toContain('  ended ');
    expect(runs).toContain('  status           RUNNING, in WaitForStagingSlot\n');
    expect(runs).not.toContain('stopped');
    expect(runs).not.toContain('delivery');
  });

  it('formatTriggers lists the triggers in columns, or says there are none', () => {
    // Prepare
    const triggers = [
      {
        name: 'trigger-uid___A001_X1296_X675-2026-11-24T23-21-06.txt',
        mous: 'uid___A001_X1296_X675',
        requestId: ID,
        createdAt: '2026-11-24T23:21:06.000Z',
      },
      {
        name: 'trigger-uid___A001_X3a0_X2-2026-11-25T08-00-00.txt',
        mous: 'uid___A001_X3a0_X2',
        requestId: 't9-x',
        createdAt: '2026-11-25T08:00:00.000Z',
      },
    ];

    // Act
    const some = formatTriggers(triggers);
    const none = formatTriggers([]);

    // Assess
    expect(some).toBe(
      [
        'Active triggers: 2',
        `  1  trigger-uid___A001_X1296_X675-2026-11-24T23-21-06.txt  created 2026-11-24 23:21:06Z  request ${ID}`,
        '  2  trigger-uid___A001_X3a0_X2-2026-11-25T08-00-00.txt     created 2026-11-25 08:00:00Z  request t9-x',
        '',
      ].join('\n'),
    );
    expect(none).toBe('No active triggers.\n');
  });

  it('formatCancel says what was done, and that a repeat only cleaned up', () => {
    // Prepare
    const repeat: CancelOutcome = {
      ...CANCELLED,
      alreadyStopped: true,
      stoppedJob: undefined,
      arcContactEmail: { to: 'evkampe@eso.org', sent: 'already sent' },
    };

    // Act
    const first = formatCancel({ ...CANCELLED, abortedUploads: ['deliveries/x/a.tar'] });
    const again = formatCancel(repeat);

    // Assess
    expect(first).toBe(
      [
        `Request ${ID} cancelled: its execution was stopped in WaitForCalibrationJob.`,
        `  calibration job 4242 on 127.0.0.1:12223 stopped (work directory /work/calms-${ID}-uid___A001_X1296_X675 kept)`,
        '  staging slot and queue place released',
        '  unfinished uploads aborted: deliveries/x/a.tar',
        `  trigger ${DELIVERED.triggerName} removed`,
        '  CANCELLED email sent to evkampe@eso.org (CC the maintainer and AOG)',
        '',
      ].join('\n'),
    );
    expect(again.split('\n')[0]).toBe(`Request ${ID} had already been stopped in WaitForCalibrationJob; its clean-up was done again.`);
    expect(again).toContain('  CANCELLED email already sent to evkampe@eso.org\n');
    const givenUp = formatCancel({ ...repeat, status: 'FAILED', state: 'CalibrationFailed' });
    expect(givenUp.split('\n')[0]).toBe(`Request ${ID} had ended FAILED in CalibrationFailed; it is cancelled and will not be re-driven.`);
  });

  it('formatRedrive says where it resumes, what failed and how to follow it', () => {
    // Act
    const text = formatRedrive(REDRIVEN);

    // Assess
    expect(text).toBe(
      [
        `Request ${ID} re-driven (attempt 2): it resumes at AcquireStagingSlot.`,
        `  failed in StageMeasurementSets of ${ID}: TarballChecksumMismatchError: part 3 differs`,
        `  execution ${ID}-redrive-1`,
        `  follow it with: calms status ${ID}`,
        '',
      ].join('\n'),
    );
  });

  it('formatKeep and formatResend', () => {
    // Prepare
    const keep = { requestId: ID, ...DELIVERED.delivery! };

    // Act
    const kept = formatKeep(keep);
    const released = formatKeep({ ...keep, kept: false });
    const expired = formatKeep({ ...keep, kept: false, expired: true });
    const resent = formatResend({ requestId: ID, sentTo: 'judits@phys.ethz.ch', messageId: '<resent-2.x@alma>', link: keep.link, resent: 2 });

    // Assess
    expect(kept).toBe(`The delivery of request ${ID} is kept: it will not be deleted at its expiry (2026-12-22 23:52:31Z).\n  link ${keep.link}\n`);
    expect(released.split('\n')[0]).toBe(`The delivery of request ${ID} is no longer kept: it will be deleted after 2026-12-22 23:52:31Z.`);
    expect(expired.split('\n')[0]).toBe(
      `The delivery of request ${ID} is no longer kept: it expired 2026-12-22 23:52:31Z and will be deleted at the next lifecycle run.`,
    );
    expect(resent).toBe(
      [
        `The download email of request ${ID} was sent again to judits@phys.ethz.ch (resent 2 times so far).`,
        '  Message-ID <resent-2.x@alma>',
        `  link ${keep.link}`,
        '',
      ].join('\n'),
    );
  });
});

describe("the operators' commands against the API", () => {
  it.each([
    [['status', ID], 'GET', `http://calms.test/dev/requests/${ID}`, DELIVERED],
    [['status', '--ticket', '16140'], 'GET', 'http://calms.test/dev/requests?ticket=16140', { requests: [DELIVERED] }],
    [
      ['status', '--mous', 'uid://A001/X1296/X675'],
      'GET',
      'http://calms.test/dev/requests?mous=uid%3A%2F%2FA001%2FX1296%2FX675',
      { requests: [DELIVERED] },
    ],
    [['triggers'], 'GET', 'http://calms.test/dev/triggers', { triggers: [] }],
    [['cancel', ID], 'POST', `http://calms.test/dev/requests/${ID}/cancel`, CANCELLED],
    [['keep', ID], 'POST', `http://calms.test/dev/requests/${ID}/keep`, { requestId: ID, ...DELIVERED.delivery }],
    [['keep', ID, '--undo'], 'DELETE', `http://calms.test/dev/requests/${ID}/keep`, { requestId: ID, ...DELIVERED.delivery, kept: false }],
    [
      ['resend', ID],
      'POST',
      `http://calms.test/dev/requests/${ID}/resend`,
      { requestId: ID, sentTo: 'a@b.org', messageId: '<resent-1.x@y>', link: 'l', resent: 1 },
    ],
    [['redrive', ID], 'POST', `http://calms.test/dev/requests/${ID}/redrive`, REDRIVEN],
  ])('%j calls %s %s with the API key, exit 0', async (argv, method, url, body) => {
    // Prepare
    const api = fakeFetch({ status: 200, body });

    // Act
    const result = await run(argv, api.fetch);

    // Assess
    expect(api.calls).toEqual([{ url, method, headers: { 'x-api-key': API_KEY } }]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).not.toBe('');
  });

  it('prints the status readably, or the answer as JSON with --json', async () => {
    // Prepare
    const api = fakeFetch({ status: 200, body: DELIVERED });

    // Act
    const readable = await run(['status', ID], api.fetch);
    const json = await run(['status', ID, '--json'], api.fetch);

    // Assess
    expect(readable.stdout).toBe(formatStatus(DELIVERED));
    expect(JSON.parse(json.stdout)).toEqual(DELIVERED);
  });

  it('says when a ticket has no requests, exit 1', async () => {
    // Prepare
    const api = fakeFetch({ status: 200, body: { requests: [] } });

    // Act
    const result = await run(['status', '--ticket', '99'], api.fetch);

    // Assess
    expect(result).toEqual({ code: ExitCode.REFUSED, stdout: '', stderr: 'No request found for helpdesk ticket 99.\n' });
  });

  it.each([
    [404, 'REQUEST_NOT_FOUND', ExitCode.REFUSED],
    [409, 'REQUEST_FINISHED', ExitCode.REFUSED],
    [503, 'SERVICE_UNAVAILABLE', ExitCode.UNAVAILABLE],
    [500, 'CANCEL_INCOMPLETE', ExitCode.UNAVAILABLE],
  ])('prints the server message of a %i %s answer, exit %i', async (status, code, exit) => {
    // Prepare
    const api = fakeFetch({ status, body: { error: { code, message: 'what the server said' } } });

    // Act
    const result = await run(['cancel', ID], api.fetch);

    // Assess
    expect(result).toEqual({ code: exit, stdout: '', stderr: 'what the server said\n' });
  });

  it('prints a refused value as invalid, exit 2', async () => {
    // Prepare
    const api = fakeFetch({ status: 400, body: { error: { code: 'VALIDATION_ERROR', field: 'mous', message: 'mous must be a MOUS UID' } } });

    // Act
    const result = await run(['status', '--mous', 'X675'], api.fetch);

    // Assess
    expect(result).toEqual({ code: ExitCode.USAGE, stdout: '', stderr: 'Invalid mous: mous must be a MOUS UID\n' });
  });

  it('says the API key was refused on 403, and what an unexpected answer was, exit 4', async () => {
    // Prepare
    const refused = fakeFetch({ status: 403, body: { message: 'Forbidden' } });
    const odd = fakeFetch({ status: 200, text: '<html>proxy</html>' });

    // Act
    const key = await run(['triggers'], refused.fetch);
    const unexpected = await run(['resend', ID], odd.fetch);

    // Assess
    expect(key).toEqual({
      code: ExitCode.UNAVAILABLE,
      stdout: '',
      stderr: 'The CalMS API at http://calms.test/dev/triggers refused the API key (HTTP 403). Check CALMS_API_KEY.\n',
    });
    expect(unexpected).toEqual({
      code: ExitCode.UNAVAILABLE,
      stdout: '',
      stderr: `Unexpected answer from the CalMS API at http://calms.test/dev/requests/${ID}/resend: HTTP 200: <html>proxy</html>\n`,
    });
  });

  it('names the URL when the API cannot be reached, exit 4', async () => {
    // Prepare
    const api = fakeFetch(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:3000') }));

    // Act
    const result = await run(['keep', ID], api.fetch);

    // Assess
    expect(result).toEqual({
      code: ExitCode.UNAVAILABLE,
      stdout: '',
      stderr:
        `Could not reach the CalMS API at http://calms.test/dev/requests/${ID}/keep: fetch failed (connect ECONNREFUSED 127.0.0.1:3000)\n` +
        'Check CALMS_API_URL and that the CalMS service is running.\n',
    });
  });

  it("prints each command's help without calling the API, and the main help names them all", async () => {
    // Prepare
    const api = fakeFetch(new Error('not to be called'));

    // Act
    const helps = await Promise.all(['status', 'triggers', 'cancel', 'keep', 'resend', 'redrive'].map((topic) => run([topic, '--help'], api.fetch)));
    const main = await run(['--help'], api.fetch);

    // Assess
    for (const [index, topic] of ['status', 'triggers', 'cancel', 'keep', 'resend', 'redrive'].entries()) {
      expect(helps[index]!.code).toBe(ExitCode.OK);
      expect(helps[index]!.stdout).toContain(`calms ${topic} `);
      expect(helps[index]!.stdout).toContain('Exit status:');
      expect(main.stdout).toContain(`calms ${topic} `);
    }
    expect(api.calls).toHaveLength(0);
  });
});

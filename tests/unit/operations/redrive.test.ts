/**
 * `calms redrive` on fakes: a failed request resumes in a new execution where it failed, with what it had
 * finished; status and cancel follow the latest attempt; what is not a reported failure is refused.
 */
import { tarballKey } from '../../../lib/domain/delivery';
import { cancelRequest } from '../../../lib/operations/cancel';
import { redriveRequest } from '../../../lib/operations/redrive';
import { findRequests, requestStatus } from '../../../lib/operations/requests';
import { seedMousRequest } from '../fakes';
import { calibratingStates, harness, MS, SECOND_MS, stagingStates } from './harness';

const REQUEST = seedMousRequest();
const FAILURE = {
  Error: 'TarballChecksumMismatchError',
  Cause: JSON.stringify({ errorType: 'TarballChecksumMismatchError', errorMessage: 'part 3 differs' }),
};

/** The states of a request that failed in its last state, then reported it (the report sees the whole state). */
function failedIn(states: [string, unknown][], report = 'ReportCalibrationFailure'): [string, unknown][] {
  const [, lastInput] = states[states.length - 1]!;
  const failed = { ...(lastInput as object), failure: FAILURE };
  return [...states, [report, failed], [report === 'ReportCalibrationFailure' ? 'CalibrationFailed' : 'RequestFailed', failed]];
}

function failedStaging() {
  const h = harness();
  h.executions.add(REQUEST, {
    status: 'FAILED',
    states: failedIn(stagingStates(REQUEST, 'upload-2')),
    error: FAILURE.Error,
    cause: 'part 3 differs',
  });
  return { h, deps: { ...h.deps, workflow: h.executions } };
}

describe('redriveRequest', () => {
  it('resumes a failed staging at the slot, keeping the calibration and the finished tarball', async () => {
    // Prepare
    const { h, deps } = failedStaging();

    // Act
    const result = await redriveRequest(deps, REQUEST.requestId);

    // Assess
    expect(result).toEqual({
      status: 200,
      body: {
        requestId: REQUEST.requestId,
        executionName: `${REQUEST.requestId}-redrive-1`,
        executionArn: expect.stringMatching(new RegExp(`:execution:calms-test:${REQUEST.requestId}-redrive-1$`)),
        attempt: 1,
        failedExecution: REQUEST.requestId,
        failedStatus: 'FAILED',
        failedState: 'StageMeasurementSets',
        resumeAt: 'AcquireStagingSlot',
        failure: { error: 'TarballChecksumMismatchError', cause: 'part 3 differs' },
      },
    });
    expect(h.executions.started).toHaveLength(1);
    const input = h.executions.started[0]!.input as Record<string, { [key: string]: unknown }>;
    expect(input.redrive).toEqual({
      attempt: 1,
      resumeAt: 'AcquireStagingSlot',
      failedState: 'StageMeasurementSets',
      previousExecution: REQUEST.requestId,
    });
    expect(input.request).toEqual({ ...REQUEST, redrive: 1 });
    expect(input.calibrationProgress).toEqual({ state: 'succeeded', measurementSets: [MS, SECOND_MS] });
    expect(input.staging!.tarballs).toEqual([
      { measurementSet: MS, key: tarballKey(REQUEST.requestId, MS), source: { kind: 'cluster' }, result: { bytes: 2048, sha256: 'e'.repeat(64) } },
      { measurementSet: SECOND_MS, key: tarballKey(REQUEST.requestId, SECOND_MS), source: { kind: 'cluster' } },
    ]);
  });

  it('starts one execution when asked twice: the second call finds the re-drive running', async () => {
    // Prepare
    const { h, deps } = failedStaging();
    await redriveRequest(deps, REQUEST.requestId);

    // Act
    const again = await redriveRequest(deps, REQUEST.requestId);

    // Assess
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'NOT_REDRIVABLE' } } });
    expect((again.body as { error: { message: string } }).error.message).toContain(`it is still running (execution ${REQUEST.requestId}-redrive-1)`);
    expect(h.executions.started).toHaveLength(1);
  });

  it('re-drives a failed re-drive from its own failure, as the next attempt', async () => {
    // Prepare
    const h = harness();
    const firstRedrive = `${REQUEST.requestId}-redrive-1`;
    h.executions.add(REQUEST, { status: 'FAILED', states: failedIn(calibratingStates(REQUEST).slice(0, 3), 'NotifyMaintainerOfFailure') });
    const retried = { ...REQUEST, redrive: 1 };
    h.executions.add(retried, {
      name: firstRedrive,
      input: { request: retried },
      status: 'FAILED',
      startedAt: '2026-11-24T11:30:00.000Z',
      states: failedIn(
        [['PublishDelivery', { request: retried, staging: { reused: false, tarballs: [], complete: true } }]],
        'NotifyMaintainerOfFailure',
      ),
    });

    // Act
    const result = await redriveRequest({ ...h.deps, workflow: h.executions }, REQUEST.requestId);

    // Assess
    expect(result.body).toMatchObject({
      attempt: 2,
      executionName: `${REQUEST.requestId}-redrive-2`,
      failedExecution: firstRedrive,
      failedState: 'PublishDelivery',
      resumeAt: 'PublishDelivery',
    });
    expect((h.executions.started[0]!.input as { request: { redrive: number } }).request.redrive).toBe(2);
  });

  it.each([
    ['RUNNING', 'it is still running'],
    ['SUCCEEDED', 'it has ended well'],
  ] as const)('refuses a request whose execution is %s, and starts nothing', async (status, why) => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status, states: calibratingStates(REQUEST) });

    // Act
    const result = await redriveRequest({ ...h.deps, workflow: h.executions }, REQUEST.requestId);

    // Assess
    expect(result).toEqual({
      status: 409,
      body: {
        error: { code: 'NOT_REDRIVABLE', message: `Request ${REQUEST.requestId} cannot be re-driven: ${why} (execution ${REQUEST.requestId}).` },
      },
    });
    expect(h.executions.started).toEqual([]);
  });

  it.each(['ABORTED', 'FAILED', 'TIMED_OUT'] as const)('refuses a %s request that was cancelled, saying so, and starts nothing', async (status) => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status, states: calibratingStates(REQUEST), error: 'Cancelled' });
    await h.cancelMarks.mark(REQUEST.requestId, new Date('2026-11-24T11:59:00Z'));

    // Act
    const result = await redriveRequest({ ...h.deps, workflow: h.executions }, REQUEST.requestId);

    // Assess
    expect(result).toMatchObject({ status: 409, body: { error: { code: 'NOT_REDRIVABLE', message: expect.stringContaining('it was cancelled') } } });
    expect(h.executions.started).toEqual([]);
  });

  it.each([
    ['ABORTED', undefined, undefined],
    ['TIMED_OUT', 'States.Timeout', undefined],
    ['FAILED', 'States.Runtime', "The choice state's condition path references an invalid value."],
  ] as const)(
    'resumes a request that ended %s without a cancel at the state in flight, and never calls it cancelled',
    async (status, error, cause) => {
      // Prepare: the job was being waited for when the execution ended; no report ran.
      const h = harness();
      const states = calibratingStates(REQUEST);
      h.executions.add(REQUEST, { status, states, ...(error ? { error } : {}), ...(cause ? { cause } : {}) });

      // Act
      const result = await redriveRequest({ ...h.deps, workflow: h.executions }, REQUEST.requestId);

      // Assess
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ failedStatus: status, failedState: 'WaitForCalibrationJob', resumeAt: 'AcquireStagingSlot', attempt: 1 });
      expect((result.body as { failure?: object }).failure).toEqual(error ? { error, cause: cause ?? '' } : undefined);
      const input = h.executions.started[0]!.input as Record<string, unknown>;
      expect(Object.keys(input).sort()).toEqual(['redrive', 'request', 'staging']);
    },
  );

  it('resumes a staging that timed out in StageMeasurementSets with its calibration, its finished tarball kept', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status: 'TIMED_OUT', states: stagingStates(REQUEST, 'upload-2'), error: 'States.Timeout' });

    // Act
    const result = await redriveRequest({ ...h.deps, workflow: h.executions }, REQUEST.requestId);

    // Assess
    expect(result.body).toMatchObject({ failedStatus: 'TIMED_OUT', failedState: 'StageMeasurementSets', resumeAt: 'AcquireStagingSlot' });
    const input = h.executions.started[0]!.input as Record<string, { [key: string]: unknown }>;
    expect(input.calibrationProgress).toEqual({ state: 'succeeded', measurementSets: [MS, SECOND_MS] });
    expect(input).not.toHaveProperty('slot');
  });

  it('answers 404 for an unknown request and 400 for a re-drive execution given as the request', async () => {
    // Prepare
    const { deps } = failedStaging();

    // Act
    const unknown = await redriveRequest(deps, 't1-uid___A001_X1_X1-20260101T000000Z-0000');
    const redriveName = await redriveRequest(deps, `${REQUEST.requestId}-redrive-1`);

    // Assess
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'REQUEST_NOT_FOUND' } } });
    expect(redriveName).toEqual({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_ERROR',
          field: 'requestId',
          message: `requestId must be the request's id, not one of its re-drives: use ${REQUEST.requestId}`,
        },
      },
    });
  });
});

describe('a re-driven request in status and cancel', () => {
  it('status by id and by ticket shows the latest attempt, once, with the number of re-drives', async () => {
    // Prepare
    const { h, deps } = failedStaging();
    await redriveRequest(deps, REQUEST.requestId);

    // Act
    const byId = await requestStatus(h.deps, REQUEST.requestId);
    const byTicket = await findRequests(h.deps, { ticket: REQUEST.helpdeskTicket });

    // Assess
    expect(byId.body).toMatchObject({
      requestId: REQUEST.requestId,
      status: 'RUNNING',
      redrives: 1,
      executionArn: expect.stringContaining('-redrive-1'),
    });
    expect(byId.body).not.toHaveProperty('failure');
    expect((byTicket.body as { requests: unknown[] }).requests).toEqual([byId.body]);
  });

  it('cancel stops the running re-drive, not the failed execution before it', async () => {
    // Prepare
    const { h, deps } = failedStaging();
    await redriveRequest(deps, REQUEST.requestId);

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result.status).toBe(200);
    expect(h.executions.stops.map((stop) => stop.name)).toEqual([`${REQUEST.requestId}-redrive-1`]);
    expect(h.executions.statusOf(REQUEST.requestId)).toBe('FAILED');
  });
});

/**
 * The execution-end watcher on fakes: an end CalMS did not cause (a stop by hand, a timeout, a failure outside a
 * Catch) is cleaned up and reported once, threaded to the request email; a cancel and a reported failure are left
 * alone; a repeated event sends nothing again.
 */
import { ClusterUnreachableError } from '../../../lib/cluster/errors';
import { tarballKey } from '../../../lib/domain/delivery';
import { type ExecutionStatusChange, watchExecutionEnd } from '../../../lib/operations/watchExecutionEnd';
import type { ExecutionStatus } from '../../../lib/workflow/Workflow';
import { seedMousRequest, TEST_ADDRESSES } from '../fakes';
import { executionArnOf } from '../fakes/executions';
import { calibratingStates, harness, jobOf, SECOND_MS, stagingStates, triggerOf } from './harness';

const REQUEST = seedMousRequest();

/** The event EventBridge delivers for the execution `name` of the harness's state machine. */
function statusChange(_h: unknown, name: string, status: ExecutionStatus): ExecutionStatusChange {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: { executionArn: executionArnOf(name), name, status },
  };
}

/** A request whose calibration job runs, holding a slot, whose execution then ended as `status`. */
function endedWhileCalibrating(status: ExecutionStatus, extra: { error?: string; cause?: string } = {}) {
  const h = harness();
  h.executions.add(REQUEST, { status, states: calibratingStates(REQUEST), ...extra });
  h.slots.seedHolder(REQUEST);
  h.triggers.seed(triggerOf(REQUEST));
  return h;
}

describe('watchExecutionEnd', () => {
  it('after a stop by hand: stops the job, frees the slot, keeps the trigger, and tells the maintainer and the ARC contact', async () => {
    // Prepare
    const h = endedWhileCalibrating('ABORTED');

    // Act
    const outcome = await watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'ABORTED'));

    // Assess
    expect(outcome).toMatchObject({ action: 'reported', requestId: REQUEST.requestId, endedBy: 'stop', email: 'sent' });
    expect(h.cluster.cancelled).toEqual([jobOf(REQUEST)]);
    expect(h.slots.holderOf(REQUEST.requestId)).toBeUndefined();
    expect(h.triggers.texts.has(REQUEST.triggerName)).toBe(true);
    expect([...h.statistics.records.values()]).toEqual([expect.objectContaining({ outcome: 'FAILED' })]);
    expect(h.mailer.sent).toHaveLength(1);
    const mail = h.mailer.sent[0]!;
    expect(mail).toMatchObject({
      to: [TEST_ADDRESSES.maintainer],
      cc: [REQUEST.arcContact],
      subject: `STOPPED: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${REQUEST.mous}, helpdesk ticket ${REQUEST.helpdeskTicket}`,
      messageId: REQUEST.requestMessageId.replace(/^</, '<ended.'),
      inReplyTo: REQUEST.requestMessageId,
      references: [REQUEST.requestMessageId],
    });
    expect(mail.text.split('\n')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^The execution ${REQUEST.requestId} of request ${REQUEST.requestId} was stopped by hand \\(StopExecution\\), not by calms cancel, on .* UTC in WaitForCalibrationJob\\.$`,
          ),
        ),
        `Its calibration job 4242 on arcp14.hq.eso.org:22 was stopped; the work directory ${jobOf(REQUEST).workDir} is kept.`,
        'Its staging slot and its place in the queue were given back.',
        `The trigger ${REQUEST.triggerName} was kept.`,
        `Once the cause is fixed, resume it where it ended: calms redrive ${REQUEST.requestId}`,
        `To give it up instead (the trigger goes, the ARC contact is told): calms cancel ${REQUEST.requestId}`,
      ]),
    );
  });

  it('sends its email once when EventBridge delivers the event twice', async () => {
    // Prepare
    const h = endedWhileCalibrating('TIMED_OUT', { error: 'States.Timeout' });
    const event = statusChange(h, REQUEST.requestId, 'TIMED_OUT');
    await watchExecutionEnd(h.deps, event);

    // Act
    const again = await watchExecutionEnd(h.deps, event);

    // Assess
    expect(again).toMatchObject({ action: 'reported', endedBy: 'timeout', email: 'already sent' });
    expect(h.mailer.sent).toHaveLength(1);
    expect(h.mailer.sent[0]!.subject).toMatch(/^TIMED OUT: /);
    expect(h.mailer.sent[0]!.text).toContain('Error: States.Timeout');
  });

  it('after a failure outside any Catch: says what failed, with the cause made readable', async () => {
    // Prepare
    const cause = JSON.stringify({
      errorType: 'ClusterJobFailedError',
      errorMessage: 'The calibration job on arcp14 failed: the job exited with status 3.',
    });
    const h = endedWhileCalibrating('FAILED', { error: 'ClusterJobFailedError', cause });

    // Act
    const outcome = await watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'FAILED'));

    // Assess
    expect(outcome).toMatchObject({ action: 'reported', endedBy: 'uncaught failure' });
    expect(h.mailer.sent[0]!.subject).toMatch(/^FAILED: /);
    expect(h.mailer.sent[0]!.text).toContain(
      'Error: ClusterJobFailedError\nCause: The calibration job on arcp14 failed: the job exited with status 3.\n',
    );
  });

  it('in staging: leaves the finished job alone and aborts the unfinished upload', async () => {
    // Prepare
    const h = harness();
    const key = tarballKey(REQUEST.requestId, SECOND_MS);
    const uploadId = await h.store.openUpload(key);
    h.executions.add(REQUEST, { status: 'ABORTED', states: stagingStates(REQUEST, uploadId) });
    h.slots.seedHolder(REQUEST);

    // Act
    const outcome = await watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'ABORTED'));

    // Assess
    expect(outcome).toMatchObject({ action: 'reported', report: { abortedUploads: [key], slotReleased: true } });
    expect(h.cluster.cancelled).toEqual([]);
    expect(h.store.uploads.size).toBe(0);
    expect(h.slots.holderOf(REQUEST.requestId)).toBeUndefined();
  });

  it('keeps the slot of a job it could not stop, so no third job starts, and says so', async () => {
    // Prepare
    const h = endedWhileCalibrating('ABORTED');
    h.cluster.failures.failNext('cancel', new ClusterUnreachableError('arcp14 did not answer'));

    // Act
    const outcome = await watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'ABORTED'));

    // Assess
    expect(outcome).toMatchObject({ action: 'reported', report: { slotReleased: false, job: { notStopped: 'arcp14 did not answer' } } });
    expect(h.slots.holderOf(REQUEST.requestId)).toBeDefined();
    expect(h.mailer.sent[0]!.text).toContain('could not be stopped (arcp14 did not answer); calms cancel stops it.');
  });

  it('leaves a cancelled request to the cancel: no clean-up, no email', async () => {
    // Prepare
    const h = endedWhileCalibrating('ABORTED', { error: 'Cancelled' });
    await h.cancelMarks.mark(REQUEST.requestId, new Date());

    // Act
    const outcome = await watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'ABORTED'));

    // Assess
    expect(outcome).toMatchObject({ action: 'ignored' });
    expect(h.mailer.sent).toEqual([]);
    expect(h.cluster.cancelled).toEqual([]);
  });

  it('leaves a failure its report caught alone: it ended in its Fail state after the report', async () => {
    // Prepare
    const h = harness();
    const states = calibratingStates(REQUEST);
    h.executions.add(REQUEST, { status: 'FAILED', states: [...states, ['ReportCalibrationFailure', {}], ['CalibrationFailed', {}]] });

    // Act
    const outcome = await watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'FAILED'));

    // Assess
    expect(outcome).toEqual({ action: 'ignored', reason: `${REQUEST.requestId} ended by a reported failure, which CalMS has reported` });
    expect(h.mailer.sent).toEqual([]);
  });

  it('reports each attempt of a re-driven request once, under a Message-ID of its own', async () => {
    // Prepare
    const h = harness();
    const retried = { ...REQUEST, redrive: 1 };
    const name = `${REQUEST.requestId}-redrive-1`;
    h.executions.add(retried, { name, input: { request: retried }, status: 'ABORTED', states: [['AcquireStagingSlot', { request: retried }]] });

    // Act
    await watchExecutionEnd(h.deps, statusChange(h, name, 'ABORTED'));

    // Assess
    expect(h.mailer.sent.map((mail) => mail.messageId)).toEqual([REQUEST.requestMessageId.replace(/^</, '<ended-redrive-1.')]);
    expect(h.mailer.sent[0]!.text).toContain(`The execution ${name} of request ${REQUEST.requestId} (re-drive 1) was stopped`);
  });

  it('ignores an execution of another state machine, one still running, and one that is not a CalMS request', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status: 'RUNNING', states: calibratingStates(REQUEST) });
    h.executions.add(REQUEST, { name: 'not-calms', input: { hello: 'world' }, status: 'FAILED' });
    const foreign = {
      ...statusChange(h, REQUEST.requestId, 'ABORTED'),
      detail: { executionArn: 'arn:aws:states:us-east-1:1:execution:other:x', name: REQUEST.requestId, status: 'ABORTED' },
    };

    // Act
    const outcomes = await Promise.all([
      watchExecutionEnd(h.deps, foreign),
      watchExecutionEnd(h.deps, statusChange(h, REQUEST.requestId, 'ABORTED')),
      watchExecutionEnd(h.deps, statusChange(h, 'not-calms', 'FAILED')),
    ]);

    // Assess
    expect(outcomes.map((outcome) => outcome.action)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(h.mailer.sent).toEqual([]);
  });
});

/**
 * `calms cancel` on fakes: the execution stops, then its calibration job; the slot, unfinished uploads and the
 * trigger go; the ARC contact gets the CANCELLED reply. Idempotent, and refused for a request that has ended.
 */
import { tarballKey } from '../../../lib/domain/delivery';
import { ClusterUnreachableError } from '../../../lib/cluster/errors';
import { cancelRequest } from '../../../lib/operations/cancel';
import { redriveRequest } from '../../../lib/operations/redrive';
import { seedMousRequest, TEST_ADDRESSES } from '../fakes';
import { calibratingStates, harness, jobOf, NOW, SECOND_MS, stagingStates, triggerOf } from './harness';

const REQUEST = seedMousRequest();

/** A request whose calibration job runs: it holds a slot and its trigger. */
function calibrating() {
  const h = harness();
  h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });
  h.slots.seedHolder(REQUEST);
  h.triggers.seed(triggerOf(REQUEST));
  return h;
}

describe('cancelRequest', () => {
  it('stops the execution, then the job, releases the slot, removes the trigger and tells the ARC contact', async () => {
    // Prepare
    const h = calibrating();

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toEqual({
      status: 200,
      body: {
        requestId: REQUEST.requestId,
        executionArn: expect.stringContaining(REQUEST.requestId),
        status: 'ABORTED',
        alreadyStopped: false,
        state: 'WaitForCalibrationJob',
        stoppedAt: NOW.toISOString(),
        stoppedJob: { node: 'arcp14.hq.eso.org:22', jobId: '4242', workDir: jobOf(REQUEST).workDir },
        abortedUploads: [],
        removedTrigger: REQUEST.triggerName,
        arcContactEmail: { to: 'evkampe@eso.org', sent: 'sent' },
      },
    });
    expect(h.executions.stops).toEqual([
      { name: REQUEST.requestId, error: 'Cancelled', cause: `Cancelled through the CalMS API at ${NOW.toISOString()}.` },
    ]);
    expect(h.cancelMarks.marked).toEqual(new Set([REQUEST.requestId]));
    expect(h.cluster.cancelled).toEqual([jobOf(REQUEST)]);
    expect(h.slots.holderOf(REQUEST.requestId)).toBeUndefined();
    expect(h.triggers.claims.has(REQUEST.mous)).toBe(false);
    expect(h.triggers.texts.has(REQUEST.triggerName)).toBe(false);
  });

  it('replies CANCELLED above the quoted request, to the ARC contact, CC maintainer and AOG, threaded to the request', async () => {
    // Prepare
    const h = calibrating();

    // Act
    await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(h.mailer.sent).toEqual([
      {
        to: ['evkampe@eso.org'],
        cc: [TEST_ADDRESSES.maintainer, TEST_ADDRESSES.aog],
        subject: 'Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675, helpdesk ticket 16140',
        text: [
          'CANCELLED',
          '',
          `The request ${REQUEST.requestId} was cancelled on 2026-11-24 12:00:00 UTC: the calibrated data of MOUS uid://A001/X1296/X675 will not be delivered.`,
          '',
          '> EU ARC contact evkampe@eso.org',
          '> CC email dpetry@eso.org',
          '> ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675',
          '>',
          '> Dear AOG,',
          '> please create the calibrated MS for MOUS uid___A001_X1296_X675',
          '> project 2017.1.00727.S',
          '> calfield J0510+1800,J0321+1234',
          '> for user Judit Szulagyi',
          '> email judits@phys.ethz.ch',
          '> helpdesk ticket 16140',
          '',
        ].join('\n'),
        messageId: REQUEST.requestMessageId.replace(/^</, '<cancelled.'),
        inReplyTo: REQUEST.requestMessageId,
        references: [REQUEST.requestMessageId],
      },
    ]);
    expect(h.ledger.messageIdOf(REQUEST.requestId, 'cancelled')).toBe(REQUEST.requestMessageId.replace(/^</, '<cancelled.'));
  });

  it('is idempotent: a second cancel does the clean-up again but neither stops twice nor emails twice', async () => {
    // Prepare
    const h = calibrating();
    await cancelRequest(h.deps, REQUEST.requestId);

    // Act
    const again = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(again).toMatchObject({ status: 200, body: { alreadyStopped: true, status: 'ABORTED', arcContactEmail: { sent: 'already sent' } } });
    expect(h.executions.stops).toHaveLength(1);
    expect(h.mailer.sent).toHaveLength(1);
  });

  it('cleans up after an execution stopped by hand (console) as after its own stop', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status: 'ABORTED', states: calibratingStates(REQUEST), error: 'Stopped', cause: 'by hand' });
    h.slots.seedHolder(REQUEST);
    h.triggers.seed(triggerOf(REQUEST));

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toMatchObject({ status: 200, body: { alreadyStopped: true, stoppedJob: { jobId: '4242' } } });
    expect(h.executions.stops).toEqual([]);
    expect(h.cluster.cancelled).toHaveLength(1);
    expect(h.slots.holderOf(REQUEST.requestId)).toBeUndefined();
    expect(h.triggers.claims.size).toBe(0);
    expect(h.mailer.sent).toHaveLength(1);
  });

  it('during staging: the job has ended and is left alone, the unfinished upload is aborted', async () => {
    // Prepare
    const h = harness();
    const key = tarballKey(REQUEST.requestId, SECOND_MS);
    const uploadId = await h.store.openUpload(key);
    h.executions.add(REQUEST, { states: stagingStates(REQUEST, uploadId) });
    h.slots.seedHolder(REQUEST);
    h.triggers.seed(triggerOf(REQUEST));

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toMatchObject({ status: 200, body: { state: 'StageMeasurementSets', abortedUploads: [key] } });
    expect(result.body).not.toHaveProperty('stoppedJob');
    expect(h.cluster.cancelled).toEqual([]);
    expect(h.store.callsOf('abortUpload').map((call) => call.key)).toEqual([key]);
    expect(h.store.uploads.size).toBe(0);
    expect(h.slots.holderOf(REQUEST.requestId)).toBeUndefined();
  });

  it('while waiting for a slot: there is no job; the request leaves the queue', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST).slice(0, 4) });
    h.slots.seedEntry(REQUEST);
    h.triggers.seed(triggerOf(REQUEST));

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toMatchObject({ status: 200, body: { state: 'AcquireStagingSlot', abortedUploads: [] } });
    expect(result.body).not.toHaveProperty('stoppedJob');
    expect(h.cluster.cancelled).toEqual([]);
    expect(h.slots.queued()).toEqual([]);
  });

  it.each(['FAILED', 'TIMED_OUT'] as const)(
    'gives up a request that ended %s: no stop, its trigger goes, the ARC contact is told, no re-drive after',
    async (status) => {
      // Prepare
      const h = harness();
      const failure = { Error: 'ClusterJobFailedError', Cause: 'CASA died' };
      const states = calibratingStates(REQUEST).slice(0, 8);
      h.executions.add(REQUEST, {
        status,
        states: [...states, ['ReportCalibrationFailure', { ...(states[7]![1] as object), failure }], ['CalibrationFailed', {}]],
        stoppedAt: '2026-11-24T11:59:00.000Z',
      });
      h.triggers.seed(triggerOf(REQUEST));

      // Act
      const result = await cancelRequest(h.deps, REQUEST.requestId);
      const redrive = await redriveRequest({ ...h.deps, workflow: h.executions }, REQUEST.requestId);

      // Assess
      expect(result).toMatchObject({
        status: 200,
        body: { status, alreadyStopped: true, state: 'CalibrationFailed', removedTrigger: REQUEST.triggerName },
      });
      expect(h.executions.stops).toEqual([]);
      expect(h.triggers.claims.size).toBe(0);
      expect(h.mailer.sent.map((message) => message.text.split('\n')[0])).toEqual(['CANCELLED']);
      expect(h.mailer.sent[0]!.text).toContain(`was cancelled on ${NOW.toISOString().slice(0, 19).replace('T', ' ')} UTC`);
      expect([...h.statistics.records.values()]).toEqual([expect.objectContaining({ outcome: 'CANCELLED', endedAt: NOW.toISOString() })]);
      expect(redrive).toMatchObject({
        status: 409,
        body: { error: { code: 'NOT_REDRIVABLE', message: expect.stringContaining('it was cancelled') } },
      });
      expect(h.executions.started).toEqual([]);
    },
  );

  it('answers 409 for a request that has ended well and touches nothing', async () => {
    const status = 'SUCCEEDED';
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status, states: calibratingStates(REQUEST), stoppedAt: '2026-11-24T11:59:00.000Z' });
    h.triggers.seed(triggerOf(REQUEST));

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toEqual({
      status: 409,
      body: {
        error: {
          code: 'REQUEST_FINISHED',
          message: `Request ${REQUEST.requestId} has already ended (${status} at 2026-11-24T11:59:00.000Z): there is nothing to cancel.`,
        },
      },
    });
    expect(h.executions.stops).toEqual([]);
    expect(h.cluster.cancelled).toEqual([]);
    expect(h.triggers.claims.size).toBe(1);
    expect(h.mailer.sent).toEqual([]);
  });

  it('answers 409 when the execution ended on its own just before the stop arrived', async () => {
    // Prepare
    const h = calibrating();
    h.executions.endBeforeStop(REQUEST.requestId, 'SUCCEEDED');

    // Act
    const result = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_FINISHED' } } });
    expect(h.cluster.cancelled).toEqual([]);
    expect(h.mailer.sent).toEqual([]);
  });

  it('answers 503 when the job cannot be stopped, keeps slot and trigger, and completes when run again', async () => {
    // Prepare
    const h = calibrating();
    h.cluster.failures.failNext('cancel', new ClusterUnreachableError('arcp14.hq.eso.org:22: connection refused'));

    // Act
    const first = await cancelRequest(h.deps, REQUEST.requestId);
    const held = h.slots.holderOf(REQUEST.requestId);
    const trigger = h.triggers.claims.has(REQUEST.mous);
    const second = await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    expect(first).toEqual({
      status: 503,
      body: {
        error: {
          code: 'CANCEL_INCOMPLETE',
          message:
            `Request ${REQUEST.requestId} was stopped, but its calibration job 4242 on arcp14.hq.eso.org:22 could not be stopped: ` +
            'arcp14.hq.eso.org:22: connection refused. Its slot and trigger are kept until the job is stopped: run the cancel again.',
        },
      },
    });
    expect(held).toBeDefined();
    expect(trigger).toBe(true);
    expect(second).toMatchObject({ status: 200, body: { alreadyStopped: true, stoppedJob: { jobId: '4242' } } });
    expect(h.slots.holderOf(REQUEST.requestId)).toBeUndefined();
    expect(h.mailer.sent).toHaveLength(1);
  });

  it('answers 404 for an unknown request and 400 for something that is no request id', async () => {
    // Prepare
    const h = harness();

    // Act
    const unknown = await cancelRequest(h.deps, 't1-unknown');
    const invalid = await cancelRequest(h.deps, 'a b');

    // Assess
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'REQUEST_NOT_FOUND' } } });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
    expect(h.executions.stops).toEqual([]);
  });

  it('records the request as cancelled when its execution stopped, once however often it is cancelled', async () => {
    // Prepare
    const h = calibrating();
    h.setNow(new Date(NOW.getTime() + 60_000));

    // Act
    await cancelRequest(h.deps, REQUEST.requestId);
    await cancelRequest(h.deps, REQUEST.requestId);

    // Assess
    const stoppedAt = (await h.deps.executions.describe(REQUEST.requestId))!.stoppedAt;
    expect([...h.statistics.records.values()]).toEqual([
      expect.objectContaining({ requestId: REQUEST.requestId, outcome: 'CANCELLED', endedAt: stoppedAt, bytesDelivered: 0 }),
    ]);
    expect(stoppedAt).toBe('2026-11-24T12:01:00.000Z');
  });
});

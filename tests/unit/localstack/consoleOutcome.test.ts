/** The console's Outcome column: how an execution ended, read from its status, last state, error and cause. */
import { CANCELLED_ERROR } from '../../../lib/operations/cancel';
import { outcomeOf } from '../../../localstack/console/model';
import { INTERRUPTED } from '../../../localstack/stepfunctions/service';

describe('outcomeOf', () => {
  it.each([
    ['Delivered', 'delivered'],
    ['NotEntitled', 'not-entitled'],
    ['InvalidMousUid', 'invalid-mous-uid'],
    ['MousNotDelivered', 'mous-not-delivered'],
  ])('a succeeded execution that ended in %s: %s', (state, outcome) => {
    expect(outcomeOf('SUCCEEDED', state)).toEqual({ outcome });
  });

  it('a failed execution is Failed, whichever failure state it ended in', () => {
    expect(outcomeOf('FAILED', 'CalibrationFailed')).toEqual({ outcome: 'failed' });
    expect(outcomeOf('FAILED', 'RequestFailed')).toEqual({ outcome: 'failed' });
  });

  it('an aborted execution says why: a cancel through the API, the local cloud stopping, or a stop by hand', () => {
    expect(outcomeOf('ABORTED', 'WaitForCalibrationJob', CANCELLED_ERROR, 'Cancelled through the CalMS API at …')).toEqual({
      outcome: 'cancelled',
      why: 'cancelled through the CalMS API',
    });
    expect(outcomeOf('ABORTED', 'WaitForStagingSlot', INTERRUPTED.error, INTERRUPTED.cause)).toEqual({
      outcome: 'stopped',
      why: 'the local cloud stopped while it ran',
    });
    expect(outcomeOf('ABORTED', 'WaitForStagingSlot')).toEqual({ outcome: 'stopped', why: 'stopped by hand (StopExecution)' });
    expect(outcomeOf('TIMED_OUT', 'WaitForStagingSlot')).toEqual({ outcome: 'stopped', why: 'timed out' });
  });

  it('a running execution has no outcome yet', () => {
    expect(outcomeOf('RUNNING', 'WaitForStagingSlot')).toBeUndefined();
  });
});

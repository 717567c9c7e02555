/** Telling CalMS's own ends (reported) from the ends the watcher must report. */
import { EndedBy, endedBy, endedByText, wasReported } from '../../../lib/domain/executionEnd';

describe('endedBy', () => {
  it.each([
    ['ABORTED', false, 'WaitForCalibrationJob', EndedBy.Stop],
    ['ABORTED', true, 'WaitForCalibrationJob', EndedBy.Cancel],
    ['FAILED', true, 'CalibrationFailed', EndedBy.Cancel],
    ['TIMED_OUT', false, 'StageMeasurementSets', EndedBy.Timeout],
    ['FAILED', false, 'CalibrationFailed', EndedBy.ReportedFailure],
    ['FAILED', false, 'RequestFailed', EndedBy.ReportedFailure],
    ['FAILED', false, 'CheckCalibrationJob', EndedBy.UncaughtFailure],
    ['FAILED', false, 'NotifyMaintainerBriefly', EndedBy.UncaughtFailure],
    ['FAILED', false, undefined, EndedBy.UncaughtFailure],
  ] as const)('an execution %s (cancel mark: %s) whose last state is %s ended by %s', (status, cancelled, lastState, expected) => {
    // Act
    const ended = endedBy(status, cancelled, lastState);

    // Assess
    expect(ended).toBe(expected);
  });

  it('says nothing of an execution that runs or succeeded', () => {
    // Act
    const ends = (['RUNNING', 'SUCCEEDED'] as const).map((status) => endedBy(status, true, 'Delivered'));

    // Assess
    expect(ends).toEqual([undefined, undefined]);
  });

  it('counts a cancel and a reported failure as reported, and only those', () => {
    // Act
    const reported = Object.values(EndedBy).filter(wasReported);

    // Assess
    expect(reported).toEqual([EndedBy.Cancel, EndedBy.ReportedFailure]);
    expect(
      Object.values(EndedBy)
        .map(endedByText)
        .every((text) => text.length > 0),
    ).toBe(true);
  });
});

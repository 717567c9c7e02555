/**
 * How an execution ended, as operators and the execution-end watcher tell the ends apart: CalMS's own ends (a
 * cancel, a failure caught and reported) have told everyone already; the others (a stop by hand, a timeout, a
 * failure no Catch handled) have told no one. Pure.
 */
import type { ExecutionStatus } from '../workflow/Workflow';

/** The Fail states a caught failure ends in, once its report went out. */
export const REPORTED_FAILURE_ENDS = ['CalibrationFailed', 'RequestFailed'] as const;

export const EndedBy = {
  /** `calms cancel` (its mark is the sign): the ARC contact got the CANCELLED email. */
  Cancel: 'cancel',
  /** StopExecution by anyone else: the console, the AWS CLI, the local cloud stopping. */
  Stop: 'stop',
  /** The execution ran past its TimeoutSeconds. */
  Timeout: 'timeout',
  /** A failure caught and reported to the maintainer, ended in its Fail state. */
  ReportedFailure: 'reported failure',
  /** A failure no Catch handled: nobody was told. */
  UncaughtFailure: 'uncaught failure',
} as const;
export type EndedBy = (typeof EndedBy)[keyof typeof EndedBy];

/** What ended an execution; undefined while it runs or once it succeeded. `lastState` is the last state entered. */
export function endedBy(status: ExecutionStatus, cancelled: boolean, lastState: string | undefined): EndedBy | undefined {
  if (status === 'RUNNING' || status === 'SUCCEEDED' || status === 'PENDING_REDRIVE') return undefined;
  if (cancelled) return EndedBy.Cancel;
  if (status === 'ABORTED') return EndedBy.Stop;
  if (status === 'TIMED_OUT') return EndedBy.Timeout;
  return lastState !== undefined && (REPORTED_FAILURE_ENDS as readonly string[]).includes(lastState)
    ? EndedBy.ReportedFailure
    : EndedBy.UncaughtFailure;
}

/** Whether CalMS itself told the people concerned of this end; the others are the watcher's to report. */
export function wasReported(ended: EndedBy): boolean {
  return ended === EndedBy.Cancel || ended === EndedBy.ReportedFailure;
}

/** The end in words, for `calms status` and the watcher's email: "was stopped by hand (StopExecution)". */
export function endedByText(ended: EndedBy): string {
  switch (ended) {
    case EndedBy.Cancel:
      return 'was cancelled (calms cancel)';
    case EndedBy.Stop:
      return 'was stopped by hand (StopExecution), not by calms cancel';
    case EndedBy.Timeout:
      return "timed out (it ran past the execution's TimeoutSeconds)";
    case EndedBy.ReportedFailure:
      return 'failed, and the failure was reported to the maintainer';
    case EndedBy.UncaughtFailure:
      return 'failed outside any Catch, so no report was sent';
  }
}

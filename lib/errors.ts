/**
 * Errors that cross the boundary between a Lambda and the state machine.
 *
 * Each class's `name` is a string literal equal to the class name, because the state machine matches on it
 * (`ErrorEquals`) and bundlers mangle `constructor.name`. Transient errors are retried by the state machine;
 * terminal ones are caught and routed to the maintainer.
 */

/** A failure that may go away by itself: the state machine retries it with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** A failure that retrying cannot fix: somebody has to look. */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

/** The archive database did not answer (connection refused, locked, timed out). */
export class ArchiveUnavailableError extends TransientError {
  override name = 'ArchiveUnavailableError';
}

/** The archive answered with something CalMS cannot use (schema mismatch, corrupt data). */
export class ArchiveError extends TerminalError {
  override name = 'ArchiveError';
}

/** The SMTP relay refused or did not answer with a temporary (4xx) or network failure. */
export class MailUnavailableError extends TransientError {
  override name = 'MailUnavailableError';
}

/** The SMTP relay permanently rejected a message (5xx): an address or the message is wrong. */
export class MailRejectedError extends TerminalError {
  override name = 'MailRejectedError';
}

/** S3 did not answer or throttled. */
export class StorageUnavailableError extends TransientError {
  override name = 'StorageUnavailableError';
}

/** Step Functions did not answer or throttled. */
export class WorkflowUnavailableError extends TransientError {
  override name = 'WorkflowUnavailableError';
}

/**
 * The CalMS errors the state machine retries, here and in lib/cluster/errors.ts; the state machine test checks
 * that its Retry fields name only these (and the Lambda service's own).
 */
export const TRANSIENT_ERROR_NAMES = [
  'ArchiveUnavailableError',
  'MailUnavailableError',
  'StorageUnavailableError',
  'WorkflowUnavailableError',
  'ClusterUnreachableError',
] as const;

/**
 * How Step Functions names a Lambda task that ran out of time: the Task's TimeoutSeconds, the function's own
 * timeout (Sandbox.Timedout; Lambda.Unknown before, which also covers running out of memory). Only a step that
 * resumes from what it left in S3 may retry them; any other could do its work twice.
 */
export const FUNCTION_TIMEOUT_ERROR_NAMES = ['States.Timeout', 'Sandbox.Timedout', 'Lambda.Unknown'] as const;

/**
 * The request was cancelled while a step worked on it (`calms cancel` stops the execution, but not a Lambda
 * already running): the step undid what it had begun. Nobody receives it: the execution has been stopped.
 */
export class RequestCancelledError extends TerminalError {
  override name = 'RequestCancelledError';
}

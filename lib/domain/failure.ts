/** A failure as Step Functions hands it to a Catch, and as operators and the maintainer read it. */

/** What Step Functions reports in a Catch: the error name and its cause. */
export interface Failure {
  readonly Error: string;
  readonly Cause: string;
}

/**
 * A Lambda's error reaches a Catch with its Cause as the JSON text `{"errorType","errorMessage","trace"}`;
 * people need only the message.
 */
export function readableFailure(failure: Failure): Failure {
  try {
    const { errorMessage } = JSON.parse(failure.Cause) as { errorMessage?: unknown };
    if (typeof errorMessage === 'string' && errorMessage !== '') return { Error: failure.Error, Cause: errorMessage };
  } catch {
    // Not JSON: the cause is already text (a States.* error, or a Fail state's cause).
  }
  return failure;
}

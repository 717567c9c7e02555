/**
 * How much time the function invocation in progress has left. A Lambda that runs past its timeout is killed
 * without a word: no Catch sees an error, no operator gets an answer. So every call that may wait on a slow
 * outside system (a cluster node) takes its timeout from here: what it is configured to, but never more than the
 * invocation has left, less what the function still needs afterwards to give its designed answer (503 to an
 * operator, a named error for the state machine's Retry or Catch, a last write).
 *
 * Per async context, like the log keys: serverless-offline serves several invocations in one process at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The part of the Lambda context this needs. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

const deadlines = new AsyncLocalStorage<number>();

/**
 * What a function keeps for itself after its last slow call: a quarter of its time, at most 15 s (a cancel
 * still releases the slot, aborts uploads, removes the trigger and sends its email; a failure report sends its).
 */
export function reserveMs(remainingMs: number): number {
  return Math.min(15_000, Math.floor(remainingMs / 4));
}

/** Runs `work` with the deadline of the invocation `context` belongs to; without a context, unbounded. */
export function withInvocationDeadline<T>(context: InvocationClock | undefined, work: () => T, now: () => number = Date.now): T {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return work();
  const remaining = context.getRemainingTimeInMillis();
  return deadlines.run(now() + remaining - reserveMs(remaining), work);
}

/** Milliseconds until the invocation's deadline (0 once past it); undefined outside an invocation (tests, CLI). */
export function timeLeftMs(now: number = Date.now()): number | undefined {
  const deadline = deadlines.getStore();
  return deadline === undefined ? undefined : Math.max(0, deadline - now);
}

/** `configuredMs`, or what the invocation has left when that is less. */
export function boundedTimeoutMs(configuredMs: number, now: number = Date.now()): number {
  const left = timeLeftMs(now);
  return left === undefined ? configuredMs : Math.min(configuredMs, left);
}

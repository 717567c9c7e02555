/**
 * What an operator's call answers: the HTTP status and body the handler sends as they are. Errors carry a code
 * a script can test and a message a person can read, as the answers of `POST /requests` do.
 */
import { isRequestId } from '../domain/identifiers';
import { attemptOf } from '../domain/redrive';

export interface OperationError {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export type OperationResult<T> =
  | { readonly status: 200; readonly body: T }
  | { readonly status: 400 | 404 | 409 | 500 | 503; readonly body: OperationError };

export const ok = <T>(body: T): OperationResult<T> => ({ status: 200, body });

export function failed(status: 400 | 404 | 409 | 500 | 503, code: string, message: string, field?: string): OperationResult<never> {
  return { status, body: { error: { code, message, ...(field ? { field } : {}) } } };
}

/** A 400 answer when `requestId` cannot be a request id (or the execution of one's re-drive); undefined when it can. */
export function invalidRequestId(requestId: string): OperationResult<never> | undefined {
  if (isRequestId(attemptOf(requestId).requestId)) return undefined;
  return failed(
    400,
    'VALIDATION_ERROR',
    'requestId must be a request id as `calms request` printed it, e.g. t16140-uid___A001_X1296_X675-20261124T232106Z-ab12',
    'requestId',
  );
}

export function requestNotFound(requestId: string): OperationResult<never> {
  return failed(
    404,
    'REQUEST_NOT_FOUND',
    `There is no request ${requestId}. Check the request id, or look it up with calms status --ticket or --mous.`,
  );
}

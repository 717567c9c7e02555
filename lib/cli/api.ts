/**
 * The API calls of the CLI, with the API key: `POST <CALMS_API_URL>/requests`, `GET <CALMS_API_URL>/queue` and the
 * operators' calls on requests, and a first reading of the answers. The response shapes are those of lib/intake/submitRequest.ts and
 * lib/slots/StagingQueue.ts; they are checked at run time because the answer comes over the network (a proxy
 * or a wrong URL can answer anything).
 */
import type { TicketRequest } from '../domain/request';
import { isDoctorReport } from '../domain/doctor';
import type { MonthRange, Statistics } from '../domain/statistics';
import type { MousResult } from '../intake/submitRequest';
import type { CancelOutcome } from '../operations/cancel';
import type { RedriveOutcome } from '../operations/redrive';
import type { KeepOutcome, ResendOutcome } from '../operations/deliveries';
import type { RequestStatus } from '../operations/requests';
import type { QueueView } from '../slots/StagingQueue';
import type { TriggerRecord } from '../storage/TriggerStore';
import type { RequestArguments } from './args';
import { isJsonObject } from '../json';

export type FetchFunction = typeof globalThis.fetch;

/** How long the CLI waits for an answer; the API Gateway itself gives up after 29 s. */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The `POST /requests` body: the ticket request lib/domain/request.ts reads from it, with the MOUS UIDs as
 * typed (the server normalises them) and the calibrator fields left out when there are none.
 */
export type RequestBody = Omit<TicketRequest, 'calibratorFields'> & { readonly calibratorFields?: readonly string[] };

/** A request as typed, with its ARC contact settled (from --arc-contact or CALMS_ARC_CONTACT). */
export type ResolvedRequest = RequestArguments & { readonly arcContact: string };

export function requestBody(args: ResolvedRequest, mous: readonly string[], force: boolean): RequestBody {
  return {
    projectCode: args.projectCode,
    userName: args.userName,
    userEmail: args.userEmail,
    helpdeskTicket: args.helpdeskTicket,
    arcContact: args.arcContact,
    mous,
    ...(args.calibratorFields.length > 0 ? { calibratorFields: args.calibratorFields } : {}),
    force,
  };
}

/** An answer without what was asked for: the server's error, or something the CLI does not understand. */
export type ApiFailure =
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly message: string; readonly field?: string }
  | { readonly kind: 'unexpected'; readonly status: number; readonly text: string };

/** The answer of `POST /requests`, sorted by what the CLI does with it. */
export type ApiAnswer = { readonly kind: 'results'; readonly status: number; readonly results: readonly MousResult[] } | ApiFailure;

/** The API could not be reached, or did not answer in time. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export interface ApiTarget {
  readonly apiUrl: string;
  readonly apiKey: string;
}

const endpointUrl = (apiUrl: string, path: string): string => `${apiUrl.replace(/\/+$/, '')}/${path}`;

export function requestsUrl(apiUrl: string): string {
  return endpointUrl(apiUrl, 'requests');
}

export async function postRequest(
  fetchFn: FetchFunction,
  target: ApiTarget,
  body: RequestBody,
  timeoutMs: number = REQUEST_TIMEOUT_MS,
): Promise<ApiAnswer> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey }, body: JSON.stringify(body) };
  const { status, text } = await call(fetchFn, requestsUrl(target.apiUrl), init, timeoutMs);
  return readAnswer(status, text);
}

/** One call: the status and text of the answer, or {@link ApiUnreachableError}. */
async function call(fetchFn: FetchFunction, url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; text: string }> {
  try {
    const response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    throw new ApiUnreachableError(`Could not reach the CalMS API at ${url}: ${describeFailure(error, timeoutMs)}`, { cause: error });
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  // Duck-typed: AbortSignal.timeout() rejects with a DOMException, which need not be an Error of this realm.
  const { name, message, cause } = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const text = typeof message === 'string' ? message : String(error);
  // Node's fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const detail = typeof cause === 'object' && cause !== null && 'message' in cause ? String(cause.message) : undefined;
  return detail ? `${text} (${detail})` : text;
}

function isMousResult(value: unknown): value is MousResult {
  if (!isJsonObject(value) || typeof value.mous !== 'string') return false;
  if (value.outcome === 'accepted') {
    return typeof value.requestId === 'string' && typeof value.executionArn === 'string' && typeof value.triggerName === 'string';
  }
  if (value.outcome === 'rejected') {
    const error = value.error;
    if (!isJsonObject(error) || typeof error.code !== 'string' || typeof error.message !== 'string') return false;
    const existing = error.existingTrigger;
    return (
      existing === undefined ||
      (isJsonObject(existing) &&
        typeof existing.name === 'string' &&
        typeof existing.createdAt === 'string' &&
        (existing.requestId === undefined || typeof existing.requestId === 'string'))
    );
  }
  return false;
}

const hasStrings = (value: unknown, keys: readonly string[]): value is Record<string, unknown> =>
  isJsonObject(value) && keys.every((key) => typeof value[key] === 'string');

const QUEUE_ENTRY_KEYS = ['requestId', 'helpdeskTicket', 'mous', 'arrivedAt'];

function isQueueView(value: unknown): value is QueueView {
  return (
    isJsonObject(value) &&
    typeof value.slots === 'number' &&
    Array.isArray(value.holders) &&
    value.holders.every((holder) => hasStrings(holder, [...QUEUE_ENTRY_KEYS, 'acquiredAt', 'leaseUntil'])) &&
    Array.isArray(value.waiting) &&
    value.waiting.every((entry) => hasStrings(entry, QUEUE_ENTRY_KEYS) && typeof entry.position === 'number')
  );
}

/** The body as JSON, or undefined when it is not JSON. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function readAnswer(status: number, text: string): ApiAnswer {
  const body = parseBody(text);
  if (isJsonObject(body) && Array.isArray(body.results) && body.results.length > 0 && body.results.every(isMousResult)) {
    return { kind: 'results', status, results: body.results };
  }
  return readFailure(status, text, body);
}

function readFailure(status: number, text: string, body: unknown): ApiFailure {
  if (isJsonObject(body) && isJsonObject(body.error) && typeof body.error.code === 'string' && typeof body.error.message === 'string') {
    const field = typeof body.error.field === 'string' ? body.error.field : undefined;
    return { kind: 'error', status, code: body.error.code, message: body.error.message, ...(field ? { field } : {}) };
  }
  return { kind: 'unexpected', status, text };
}

/**
 * The operators' calls (`calms queue`, `status`, `triggers`, `stats`, `cancel`, `keep`, `resend`, `redrive`): the answer when it has the
 * shape of lib/operations' results, the server's error or something unexpected otherwise.
 */
export type OperationAnswer<T> = { readonly kind: 'ok'; readonly status: number; readonly value: T } | ApiFailure;

/** `path` under the API, e.g. `requests/t1-…/cancel`; the request id is escaped. */
export function operationUrl(apiUrl: string, path: string): string {
  return endpointUrl(apiUrl, path);
}

export const requestPath = (requestId: string, action?: string): string => `requests/${encodeURIComponent(requestId)}${action ? `/${action}` : ''}`;

async function operation<T>(
  fetchFn: FetchFunction,
  target: ApiTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  isValue: (body: unknown) => body is T,
  timeoutMs: number,
): Promise<OperationAnswer<T>> {
  const { status, text } = await call(fetchFn, operationUrl(target.apiUrl, path), { method, headers: { 'x-api-key': target.apiKey } }, timeoutMs);
  const body = parseBody(text);
  if (status === 200 && isValue(body)) return { kind: 'ok', status, value: body };
  return readFailure(status, text, body);
}

function isRequestStatus(value: unknown): value is RequestStatus {
  return (
    hasStrings(value, ['requestId', 'executionArn', 'status', 'ticket', 'mous', 'projectCode', 'arcContact', 'triggerName', 'startedAt']) &&
    hasStrings(value.user, ['name', 'email']) &&
    (value.delivery === undefined || (hasStrings(value.delivery, ['link', 'stagedAt', 'expiresAt']) && typeof value.delivery.kept === 'boolean')) &&
    (value.failure === undefined || hasStrings(value.failure, ['error', 'cause']))
  );
}

const isRequestList = (value: unknown): value is { requests: RequestStatus[] } =>
  isJsonObject(value) && Array.isArray(value.requests) && value.requests.every(isRequestStatus);

const isTriggerList = (value: unknown): value is { triggers: TriggerRecord[] } =>
  isJsonObject(value) &&
  Array.isArray(value.triggers) &&
  value.triggers.every((trigger) => hasStrings(trigger, ['name', 'mous', 'requestId', 'createdAt']));

const isCancelOutcome = (value: unknown): value is CancelOutcome =>
  hasStrings(value, ['requestId', 'status', 'removedTrigger']) &&
  typeof value.alreadyStopped === 'boolean' &&
  Array.isArray(value.abortedUploads) &&
  hasStrings(value.arcContactEmail, ['to', 'sent']);

const isKeepOutcome = (value: unknown): value is KeepOutcome =>
  hasStrings(value, ['requestId', 'link', 'expiresAt']) && typeof value.kept === 'boolean' && typeof value.expired === 'boolean';

const isResendOutcome = (value: unknown): value is ResendOutcome =>
  hasStrings(value, ['requestId', 'sentTo', 'messageId', 'link']) && typeof value.resent === 'number';

export function getRequestStatus(fetchFn: FetchFunction, target: ApiTarget, requestId: string, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'GET', requestPath(requestId), isRequestStatus, timeoutMs);
}

export function findRequests(
  fetchFn: FetchFunction,
  target: ApiTarget,
  query: { ticket: string } | { mous: string },
  timeoutMs = REQUEST_TIMEOUT_MS,
) {
  const [name, value] = 'ticket' in query ? ['ticket', query.ticket] : ['mous', query.mous];
  return operation(fetchFn, target, 'GET', `requests?${name}=${encodeURIComponent(value)}`, isRequestList, timeoutMs);
}

export function getQueue(fetchFn: FetchFunction, target: ApiTarget, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'GET', 'queue', isQueueView, timeoutMs);
}

export function getTriggers(fetchFn: FetchFunction, target: ApiTarget, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'GET', 'triggers', isTriggerList, timeoutMs);
}

const isPeriod = (value: unknown): boolean =>
  hasStrings(value, ['month']) &&
  ['requests', 'inProgress', 'delivered', 'bytesDelivered', 'bytesSavedByReuse'].every((key) => typeof value[key] === 'number');

const isStatistics = (value: unknown): value is Statistics =>
  hasStrings(value, ['from', 'to', 'percentileMethod']) && Array.isArray(value.months) && value.months.every(isPeriod) && isPeriod(value.overall);

/** `statistics`, with `?from=…&to=…` as far as given. */
export function statisticsPath(range: MonthRange): string {
  const query = new URLSearchParams(Object.entries(range).filter((entry): entry is [string, string] => typeof entry[1] === 'string')).toString();
  return query ? `statistics?${query}` : 'statistics';
}

export function getStatistics(fetchFn: FetchFunction, target: ApiTarget, range: MonthRange, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'GET', statisticsPath(range), isStatistics, timeoutMs);
}

export function cancelRequest(fetchFn: FetchFunction, target: ApiTarget, requestId: string, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'POST', requestPath(requestId, 'cancel'), isCancelOutcome, timeoutMs);
}

/** POST keeps the delivery, DELETE (`undo`) releases it. */
export function keepDelivery(fetchFn: FetchFunction, target: ApiTarget, requestId: string, undo: boolean, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, undo ? 'DELETE' : 'POST', requestPath(requestId, 'keep'), isKeepOutcome, timeoutMs);
}

export function resendDownloadEmail(fetchFn: FetchFunction, target: ApiTarget, requestId: string, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'POST', requestPath(requestId, 'resend'), isResendOutcome, timeoutMs);
}

const isRedriveOutcome = (value: unknown): value is RedriveOutcome =>
  hasStrings(value, ['requestId', 'executionName', 'executionArn', 'failedExecution', 'failedState', 'resumeAt']) &&
  typeof value.attempt === 'number';

export function redriveRequest(fetchFn: FetchFunction, target: ApiTarget, requestId: string, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'POST', requestPath(requestId, 'redrive'), isRedriveOutcome, timeoutMs);
}

/** `GET /doctor`: the server-side checks of `calms doctor`. */
export function getDoctorReport(fetchFn: FetchFunction, target: ApiTarget, timeoutMs = REQUEST_TIMEOUT_MS) {
  return operation(fetchFn, target, 'GET', 'doctor', isDoctorReport, timeoutMs);
}

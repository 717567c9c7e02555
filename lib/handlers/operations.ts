/**
 * The operators' routes (API key): request status, active triggers, cancel, keep, resend, re-drive and the smoke check. Thin: the work
 * is in lib/operations; here only the event is read and failures that are not the caller's are answered.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { TransientError } from '../errors';
import { type InvocationClock, withInvocationDeadline } from '../invocation';
import { type LogKeys, type Logger, withLogKeys } from '../log';
import { type CancelDeps, cancelRequest } from '../operations/cancel';
import { keepDelivery, type ResendDeps, resendDownloadEmail } from '../operations/deliveries';
import { type DoctorDeps, runDoctor } from '../operations/doctor';
import { activeTriggers, findRequests, type OperationsDeps, requestStatus, type StatusDeps } from '../operations/requests';
import { type RedriveDeps, redriveRequest } from '../operations/redrive';
import type { OperationResult } from '../operations/results';
import { requestStatistics, type StatisticsDeps } from '../operations/statistics';
import { ticketAndMousOf } from '../domain/identifiers';
import { requestLogKeys } from '../domain/request';
import { json } from './http';
import type { LazyDeps } from './lazyDeps';

type Operation = (event: APIGatewayProxyEvent) => Promise<OperationResult<unknown>>;

/**
 * Answers an operation's result; a service that did not answer is 503, anything unforeseen 500, both as JSON.
 * Cluster calls get what the invocation has left, so a slow node is a 503 rather than the gateway's timeout.
 */
function route(log: Logger, operation: Operation) {
  return (event: APIGatewayProxyEvent, context?: InvocationClock): Promise<APIGatewayProxyResult> =>
    withLogKeys(logKeysOf(event), () => withInvocationDeadline(context, () => answer(log, operation, event)));
}

/** An operation on one request logs under its keys: the request id, and the ticket and MOUS it is made of. */
function logKeysOf(event: APIGatewayProxyEvent): LogKeys {
  if (event.pathParameters?.requestId === undefined) return {};
  const requestId = requestIdOf(event);
  const parts = ticketAndMousOf(requestId);
  return parts ? requestLogKeys({ requestId, ...parts }) : { requestId };
}

async function answer(log: Logger, operation: Operation, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const result = await operation(event);
    return json(result.status, result.body);
  } catch (error) {
    log.error('operation failed', { error, path: event.path, method: event.httpMethod });
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof TransientError) return json(503, { error: { code: 'SERVICE_UNAVAILABLE', message: `${message} Try again later.` } });
    return json(500, { error: { code: 'INTERNAL_ERROR', message } });
  }
}

/** The path's request id; a malformed escape is left as it is (and refused as not a request id). */
function requestIdOf(event: APIGatewayProxyEvent): string {
  const raw = event.pathParameters?.requestId ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `GET /requests/{requestId}`, and `GET /requests?ticket=…` or `?mous=…`. */
export const makeRequestStatusHandler = (deps: StatusDeps) =>
  route(deps.log, (event) => {
    if (event.pathParameters?.requestId !== undefined) return requestStatus(deps, requestIdOf(event));
    const query = event.queryStringParameters ?? {};
    return findRequests(deps, { ticket: query.ticket ?? undefined, mous: query.mous ?? undefined });
  });

/** `GET /triggers`. */
export const makeTriggersHandler = (deps: OperationsDeps) => route(deps.log, () => activeTriggers(deps));

/** `GET /statistics?from=YYYY-MM&to=YYYY-MM`. */
export const makeStatisticsHandler = (deps: StatisticsDeps) =>
  route(deps.log, (event) => {
    const query = event.queryStringParameters ?? {};
    return requestStatistics(deps, { from: query.from ?? undefined, to: query.to ?? undefined });
  });

/** `POST /requests/{requestId}/cancel`: needs the cluster, whose key may have to be read first. */
export const makeCancelRequestHandler = (deps: LazyDeps<CancelDeps>, log: Logger) =>
  route(log, async (event) => cancelRequest(await deps(), requestIdOf(event)));

/** `POST /requests/{requestId}/keep` keeps the delivery, `DELETE` releases it. */
export const makeKeepDeliveryHandler = (deps: OperationsDeps) =>
  route(deps.log, (event) => keepDelivery(deps, requestIdOf(event), event.httpMethod.toUpperCase() !== 'DELETE'));

/** `POST /requests/{requestId}/resend`. */
export const makeResendDownloadEmailHandler = (deps: ResendDeps) => route(deps.log, (event) => resendDownloadEmail(deps, requestIdOf(event)));

/** `POST /requests/{requestId}/redrive`. */
export const makeRedriveRequestHandler = (deps: RedriveDeps) => route(deps.log, (event) => redriveRequest(deps, requestIdOf(event)));

/** `GET /doctor`: the server side of `calms doctor`. */
export const makeDoctorHandler = (deps: DoctorDeps) => route(deps.log, () => runDoctor(deps));

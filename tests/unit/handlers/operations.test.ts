/** The operators' Lambda handlers: what they read from the API Gateway event, and how failures are answered. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ClusterUnreachableError } from '../../../lib/cluster/errors';
import { StorageUnavailableError } from '../../../lib/errors';
import { boundedTimeoutMs } from '../../../lib/invocation';
import {
  makeCancelRequestHandler,
  makeKeepDeliveryHandler,
  makeRedriveRequestHandler,
  makeRequestStatusHandler,
  makeResendDownloadEmailHandler,
  makeTriggersHandler,
} from '../../../lib/handlers/operations';
import { seedMousRequest } from '../fakes';
import { calibratingStates, deliver, harness, publish, triggerOf } from '../operations/harness';

const REQUEST = seedMousRequest();

function event(method: string, path: string, options: { requestId?: string; query?: Record<string, string> } = {}): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    pathParameters: options.requestId === undefined ? null : { requestId: options.requestId },
    queryStringParameters: options.query ?? null,
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

const parsed = (response: { statusCode: number; body: string; headers?: Record<string, unknown> }) => ({
  status: response.statusCode,
  type: response.headers?.['content-type'],
  body: JSON.parse(response.body),
});

describe('operations handlers', () => {
  it('POST /requests/{requestId}/redrive starts the re-drive of a failed request, and refuses a running one', async () => {
    // Prepare
    const h = harness();
    const states = calibratingStates(REQUEST).slice(0, 3);
    const failure = { Error: 'ArchiveError', Cause: 'two users have one email' };
    h.executions.add(REQUEST, {
      status: 'FAILED',
      states: [...states, ['NotifyMaintainerOfFailure', { request: REQUEST, failure }], ['RequestFailed', {}]],
    });
    const handler = makeRedriveRequestHandler({ ...h.deps, workflow: h.executions });
    const path = { requestId: REQUEST.requestId };

    // Act
    const redriven = parsed(await handler(event('POST', `/requests/${REQUEST.requestId}/redrive`, path)));
    const again = parsed(await handler(event('POST', `/requests/${REQUEST.requestId}/redrive`, path)));

    // Assess
    expect(redriven).toMatchObject({
      status: 200,
      body: { attempt: 1, failedState: 'LookForStagedMeasurementSets', resumeAt: 'LookForStagedMeasurementSets' },
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'NOT_REDRIVABLE' } } });
  });

  it('GET /requests/{requestId} answers the status as JSON', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });
    const handler = makeRequestStatusHandler(h.deps);

    // Act
    const response = parsed(await handler(event('GET', `/requests/${REQUEST.requestId}`, { requestId: REQUEST.requestId })));

    // Assess
    expect(response).toMatchObject({ status: 200, type: 'application/json', body: { requestId: REQUEST.requestId, state: 'WaitForCalibrationJob' } });
  });

  it('GET /requests reads ticket or mous from the query', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST);
    const handler = makeRequestStatusHandler(h.deps);

    // Act
    const byTicket = parsed(await handler(event('GET', '/requests', { query: { ticket: '16140' } })));
    const byMous = parsed(await handler(event('GET', '/requests', { query: { mous: 'uid://A001/X1296/X675' } })));
    const neither = parsed(await handler(event('GET', '/requests')));

    // Assess
    expect(byTicket.body.requests.map((request: { requestId: string }) => request.requestId)).toEqual([REQUEST.requestId]);
    expect(byMous.body).toEqual(byTicket.body);
    expect(neither).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
  });

  it('answers 503 with the message when a service does not answer, 500 for anything else', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST);
    const handler = makeRequestStatusHandler(h.deps);
    h.executions.failures.failNext('describe', new StorageUnavailableError('S3 did not answer.'));
    h.executions.failures.failNext('describe', new Error('something odd'));

    // Act
    const unavailable = parsed(await handler(event('GET', '/requests/x', { requestId: REQUEST.requestId })));
    const broken = parsed(await handler(event('GET', '/requests/x', { requestId: REQUEST.requestId })));

    // Assess
    expect(unavailable).toEqual({
      status: 503,
      type: 'application/json',
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'S3 did not answer. Try again later.' } },
    });
    expect(broken).toEqual({ status: 500, type: 'application/json', body: { error: { code: 'INTERNAL_ERROR', message: 'something odd' } } });
  });

  it('GET /triggers lists the active triggers', async () => {
    // Prepare
    const h = harness();
    h.triggers.seed(triggerOf(REQUEST));

    // Act
    const response = parsed(await makeTriggersHandler(h.deps)(event('GET', '/triggers')));

    // Assess
    expect(response).toMatchObject({ status: 200, body: { triggers: [triggerOf(REQUEST)] } });
  });

  it('POST /requests/{requestId}/cancel cancels with the dependencies it waits for', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });
    const handler = makeCancelRequestHandler(async () => h.deps, h.log);

    // Act
    const response = parsed(await handler(event('POST', `/requests/${REQUEST.requestId}/cancel`, { requestId: REQUEST.requestId })));

    // Assess
    expect(response).toMatchObject({ status: 200, body: { status: 'ABORTED', stoppedJob: { jobId: '4242' } } });
  });

  it('POST …/cancel gives the cluster only what the invocation has left, and a node too slow for it is a 503 to run again', async () => {
    // Prepare: API Gateway gives the cancel 29 s; the SSH command alone may take 120 s.
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });
    const offered: number[] = [];
    h.cluster.cancel = async () => {
      offered.push(boundedTimeoutMs(130_000));
      throw new ClusterUnreachableError('arcp14.hq.eso.org:22 did not finish cancel within the time its function had left');
    };
    const handler = makeCancelRequestHandler(async () => h.deps, h.log);

    // Act
    const response = parsed(
      await handler(event('POST', `/requests/${REQUEST.requestId}/cancel`, { requestId: REQUEST.requestId }), {
        getRemainingTimeInMillis: () => 29_000,
      }),
    );

    // Assess: 29 s less a quarter kept for the answer, less the little the cancel took before.
    expect(offered).toHaveLength(1);
    expect(offered[0]).toBeLessThanOrEqual(21_750);
    expect(offered[0]).toBeGreaterThan(15_000);
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'CANCEL_INCOMPLETE' } } });
  });

  it('POST …/keep keeps the delivery, DELETE …/keep releases it', async () => {
    // Prepare
    const h = harness();
    await publish(h, REQUEST);
    const handler = makeKeepDeliveryHandler(h.deps);
    const path = `/requests/${REQUEST.requestId}/keep`;

    // Act
    const kept = parsed(await handler(event('POST', path, { requestId: REQUEST.requestId })));
    const released = parsed(await handler(event('DELETE', path, { requestId: REQUEST.requestId })));

    // Assess
    expect(kept).toMatchObject({ status: 200, body: { kept: true } });
    expect(released).toMatchObject({ status: 200, body: { kept: false } });
  });

  it('POST …/resend resends; a path id with a malformed escape is refused as no request id', async () => {
    // Prepare
    const h = harness();
    await deliver(h, REQUEST);
    const handler = makeResendDownloadEmailHandler(h.deps);

    // Act
    const resent = parsed(await handler(event('POST', '/requests/x/resend', { requestId: encodeURIComponent(REQUEST.requestId) })));
    const malformed = parsed(await handler(event('POST', '/requests/x/resend', { requestId: 't1-%E0%A4%A' })));

    // Assess
    expect(resent).toMatchObject({ status: 200, body: { resent: 1 } });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
  });
});

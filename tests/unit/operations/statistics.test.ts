/** `GET /statistics` on fakes: the query's months checked, the records and the active triggers summed up. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { outcomeRecord, RequestOutcome } from '../../../lib/domain/statistics';
import { StorageUnavailableError } from '../../../lib/errors';
import { makeStatisticsHandler } from '../../../lib/handlers/operations';
import { requestStatistics, type StatisticsDeps } from '../../../lib/operations/statistics';
import { InMemoryStatisticsStore, InMemoryTriggerStore, RecordingLogger, seedMousRequest } from '../fakes';

const NOW = new Date('2026-11-24T12:00:00Z');

function harness() {
  const statistics = new InMemoryStatisticsStore();
  const triggers = new InMemoryTriggerStore();
  const deps: StatisticsDeps = { statistics, triggers, now: () => NOW, log: new RecordingLogger() };
  return { deps, statistics, triggers };
}

/** A request of the seed's ticket made at `requestedAt`. */
function requestAt(requestedAt: string, ticket: string) {
  return { ...seedMousRequest({ helpdeskTicket: ticket }), requestId: `t${ticket}-x`, requestedAt };
}

function event(query: Record<string, string> | null): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: '/statistics',
    pathParameters: null,
    queryStringParameters: query,
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

describe('requestStatistics', () => {
  it('sums up the recorded outcomes and the requests still in work, from the first month to this one', async () => {
    // Prepare
    const h = harness();
    const replied = requestAt('2026-09-30T23:00:00.000Z', '1');
    const inWork = requestAt('2026-11-02T08:00:00.000Z', '2');
    await h.statistics.record(outcomeRecord(replied, RequestOutcome.NotEntitled, new Date('2026-10-01T00:10:00Z')));
    h.triggers.seed({ name: inWork.triggerName, mous: inWork.mous, requestId: inWork.requestId, createdAt: inWork.requestedAt });

    // Act
    const result = await requestStatistics(h.deps, {});

    // Assess
    expect(result.status).toBe(200);
    if (result.status !== 200) return;
    expect(result.body.from).toBe('2026-09');
    expect(result.body.to).toBe('2026-11');
    expect(result.body.months.map((period) => [period.month, period.requests, period.notEntitled, period.inProgress])).toEqual([
      ['2026-09', 1, 1, 0],
      ['2026-10', 0, 0, 0],
      ['2026-11', 1, 0, 1],
    ]);
    expect(result.body.overall).toMatchObject({ requests: 2, notEntitled: 1, inProgress: 1 });
  });

  it('shows only the months asked for', async () => {
    // Prepare
    const h = harness();
    await h.statistics.record(outcomeRecord(requestAt('2026-09-15T00:00:00.000Z', '1'), RequestOutcome.Cancelled, NOW));
    await h.statistics.record(outcomeRecord(requestAt('2026-11-15T00:00:00.000Z', '2'), RequestOutcome.Failed, NOW));

    // Act
    const result = await requestStatistics(h.deps, { from: '2026-10', to: '2026-11' });

    // Assess
    expect(result).toMatchObject({ status: 200, body: { from: '2026-10', to: '2026-11', overall: { requests: 1, failed: 1, cancelled: 0 } } });
  });

  it.each([
    [{ from: '2026-13' }, 'from', 'from must be a month as YYYY-MM, e.g. 2026-11; got "2026-13"'],
    [{ to: '2026-1' }, 'to', 'to must be a month as YYYY-MM, e.g. 2026-11; got "2026-1"'],
    [{ from: '' }, 'from', 'from must be a month as YYYY-MM, e.g. 2026-11; got ""'],
    [{ from: '2026-11', to: '2026-10' }, 'to', 'to (2026-10) must not be before from (2026-11)'],
  ])('refuses %j naming the field %s', async (query, field, message) => {
    // Prepare
    const h = harness();

    // Act
    const result = await requestStatistics(h.deps, query);

    // Assess
    expect(result).toEqual({ status: 400, body: { error: { code: 'VALIDATION_ERROR', field, message } } });
  });
});

describe('the statistics handler', () => {
  it('reads from and to from the query and answers JSON', async () => {
    // Prepare
    const h = harness();
    const handler = makeStatisticsHandler(h.deps);

    // Act
    const response = await handler(event({ from: '2026-10', to: '2026-11' }));
    const all = await handler(event(null));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toMatchObject({
      from: '2026-10',
      to: '2026-11',
      percentileMethod: 'nearest-rank',
      overall: { month: 'overall', requests: 0 },
    });
    expect(JSON.parse(all.body)).toMatchObject({ from: '2026-11', to: '2026-11' });
  });

  it('answers 400 for a malformed month and 503 when S3 does not answer', async () => {
    // Prepare
    const h = harness();
    const handler = makeStatisticsHandler(h.deps);
    h.statistics.failures.failNext('list', new StorageUnavailableError('S3 did not list the request outcomes.'));

    // Act
    const malformed = await handler(event({ from: 'November' }));
    const unavailable = await handler(event(null));

    // Assess
    expect({ status: malformed.statusCode, body: JSON.parse(malformed.body) }).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', field: 'from' } },
    });
    expect({ status: unavailable.statusCode, body: JSON.parse(unavailable.body) }).toEqual({
      status: 503,
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'S3 did not list the request outcomes. Try again later.' } },
    });
  });
});

/**
 * The stats sheet on the local cloud: requests driven through it record their outcomes where they end (a
 * reply, a delivery from the cluster, a delivery re-used from it), and `GET /statistics` and `calms stats --csv`
 * answer the exact figures of a known set of outcomes. Tickets 78000..78999 belong to this file.
 */
import { monthOf, type OutcomeRecord, RequestOutcome, type Statistics, summarise } from '../../lib/domain/statistics';
import { S3DeliveryStore } from '../../lib/storage/S3DeliveryStore';
import { S3StatisticsStore } from '../../lib/storage/S3StatisticsStore';
import { S3TriggerStore } from '../../lib/storage/S3TriggerStore';
import { createLogger } from '../../lib/log';
import { calms } from './support/calms';
import { api, s3, service, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { type AcceptedRequest, testRequests } from './support/requests';

const ARC = 'stats-test@example.org';

const requests = testRequests(78000, ARC);

async function ended(accepted: { executionArn: string }, status: string): Promise<void> {
  const execution = await waitForExecution(accepted.executionArn, 150_000);
  expect([execution.status, execution.error, execution.cause]).toEqual([status, undefined, undefined]);
}

async function getStatistics(query: string): Promise<{ status: number; body: any }> {
  const { apiUrl, apiKey } = api();
  const response = await fetch(`${apiUrl}/statistics${query}`, { headers: { 'x-api-key': apiKey } });
  return { status: response.status, body: await response.json() };
}

const statistics = () => new S3StatisticsStore(s3(), service().dataBucket);

describe('statistics of requests driven through the local cloud', () => {
  const outcomes = new Map<string, OutcomeRecord>();
  let notEntitled: AcceptedRequest;
  let calibrated: AcceptedRequest;
  let reused: AcceptedRequest;

  beforeAll(async () => {
    // Stella Stranger may not have the proprietary MOUS; a calibrator selection no other test asks for is
    // calibrated on the cluster, and the same selection asked again is copied from that delivery.
    notEntitled = await requests.submit('uid___A001_X2f1e_X102', { projectCode: '2022.1.00999.S' });
    const selection = { calibratorFields: ['J1337-1257'] };
    calibrated = await requests.submit('uid___A001_X3a0_X201', selection);
    await Promise.all([ended(notEntitled, 'SUCCEEDED'), ended(calibrated, 'SUCCEEDED')]);
    reused = await requests.submit('uid___A001_X3a0_X201', selection);
    await ended(reused, 'SUCCEEDED');
    const month = monthOf(new Date().toISOString());
    for (const record of await statistics().list({ from: month, to: month })) outcomes.set(record.requestId, record);
  }, 300_000);

  test('each request ends with one record of its outcome; a delivery counts its tarballs, a re-used one as saved', async () => {
    const deliveries = new S3DeliveryStore(s3(), service().dataBucket);
    const [calibratedManifest, reusedManifest] = await Promise.all([
      deliveries.readManifest(calibrated.requestId),
      deliveries.readManifest(reused.requestId),
    ]);
    const bytes = calibratedManifest!.tarballs.reduce((total, tarball) => total + tarball.bytes, 0);

    expect(outcomes.get(notEntitled.requestId)).toMatchObject({
      outcome: 'NOT_ENTITLED',
      helpdeskTicket: '78001',
      mous: 'uid___A001_X2f1e_X102',
      reused: false,
      bytesDelivered: 0,
    });
    expect(calibratedManifest!.tarballs.map((tarball) => tarball.source)).toEqual(['cluster', 'cluster']);
    expect(outcomes.get(calibrated.requestId)).toMatchObject({
      outcome: 'DELIVERED',
      helpdeskTicket: '78002',
      reused: false,
      bytesDelivered: bytes,
      bytesReused: 0,
    });
    expect(bytes).toBeGreaterThan(0);
    expect(reusedManifest!.tarballs.every((tarball) => tarball.source !== 'cluster')).toBe(true);
    expect(outcomes.get(reused.requestId)).toMatchObject({
      outcome: 'DELIVERED',
      helpdeskTicket: '78003',
      reused: true,
      bytesDelivered: bytes,
      bytesReused: bytes,
    });
    for (const record of [notEntitled, calibrated, reused].map((accepted) => outcomes.get(accepted.requestId)!)) {
      expect(Date.parse(record.endedAt)).toBeGreaterThan(Date.parse(record.requestedAt));
    }
  });

  test('GET /statistics of this month sums up what the bucket holds: the outcomes and the active triggers', async () => {
    const month = monthOf(new Date().toISOString());
    const triggers = new S3TriggerStore(
      s3(),
      service().dataBucket,
      createLogger({}, () => undefined),
    );
    // Other test files' requests may end meanwhile: compare once the bucket read the same before and after.
    const [expected, answered] = await eventually(
      async () => {
        const before = summarise(await statistics().list({ from: month, to: month }), await triggers.listActive(), {
          from: month,
          to: month,
          currentMonth: month,
        });
        const answer = await getStatistics(`?from=${month}&to=${month}`);
        const after = summarise(await statistics().list({ from: month, to: month }), await triggers.listActive(), {
          from: month,
          to: month,
          currentMonth: month,
        });
        return JSON.stringify(before) === JSON.stringify(after) ? ([after, answer] as const) : undefined;
      },
      'two equal readings of the bucket',
      60_000,
      1000,
    );

    expect(answered).toEqual({ status: 200, body: expected });
    expect(answered.body.overall.requests).toBeGreaterThanOrEqual(3);
    expect(answered.body.overall.delivered).toBeGreaterThanOrEqual(2);
    expect(answered.body.overall.notEntitled).toBeGreaterThanOrEqual(1);
    expect(answered.body.overall.bytesSavedByReuse).toBeGreaterThanOrEqual(outcomes.get(reused.requestId)!.bytesReused);
  });
});

describe('statistics of a known set of outcomes', () => {
  // In months long past, which no other request of the shared cloud falls in. February has none.
  const at = (iso: string, seconds: number) => ({ requestedAt: iso, endedAt: new Date(Date.parse(iso) + seconds * 1000).toISOString() });
  const base = {
    helpdeskTicket: '78500',
    mous: 'uid___A001_X3a0_X201',
    projectCode: '2023.1.00456.S',
    reused: false,
    bytesDelivered: 0,
    bytesReused: 0,
  };
  const KNOWN: OutcomeRecord[] = [
    { ...base, requestId: 't78500-jan-1', ...at('2001-01-05T10:00:00.000Z', 3600), outcome: RequestOutcome.Delivered, bytesDelivered: 23_068_672 },
    {
      ...base,
      requestId: 't78500-jan-2',
      ...at('2001-01-06T10:00:00.000Z', 120),
      outcome: RequestOutcome.Delivered,
      reused: true,
      bytesDelivered: 23_068_672,
      bytesReused: 23_068_672,
    },
    { ...base, requestId: 't78500-jan-3', ...at('2001-01-07T10:00:00.000Z', 5400), outcome: RequestOutcome.Delivered, bytesDelivered: 11_534_336 },
    { ...base, requestId: 't78500-jan-4', ...at('2001-01-08T10:00:00.000Z', 30), outcome: RequestOutcome.NotEntitled },
    { ...base, requestId: 't78500-mar-1', ...at('2001-03-01T00:00:00.000Z', 30), outcome: RequestOutcome.InvalidMousUid },
    { ...base, requestId: 't78500-mar-2', ...at('2001-03-02T00:00:00.000Z', 30), outcome: RequestOutcome.MousNotDelivered },
    { ...base, requestId: 't78500-mar-3', ...at('2001-03-03T00:00:00.000Z', 900), outcome: RequestOutcome.Failed },
    { ...base, requestId: 't78500-mar-4', ...at('2001-03-31T23:59:59.000Z', 60), outcome: RequestOutcome.Cancelled },
  ];

  beforeAll(async () => {
    const store = statistics();
    for (const record of KNOWN) await store.record(record);
  });

  test('GET /statistics answers the exact figures, every month of the range, and overall', async () => {
    const answer = await getStatistics('?from=2001-01&to=2001-03');

    const none = { delivered: 0, notEntitled: 0, invalidMousUid: 0, mousNotDelivered: 0, failed: 0, cancelled: 0 };
    const noDelivery = { medianTurnaroundSeconds: null, p90TurnaroundSeconds: null, reuseRate: null, bytesDelivered: 0, bytesSavedByReuse: 0 };
    const expected: Statistics = {
      from: '2001-01',
      to: '2001-03',
      percentileMethod: 'nearest-rank',
      months: [
        {
          month: '2001-01',
          requests: 4,
          inProgress: 0,
          ...none,
          delivered: 3,
          notEntitled: 1,
          medianTurnaroundSeconds: 3600,
          p90TurnaroundSeconds: 5400,
          reuseRate: 1 / 3,
          bytesDelivered: 57_671_680,
          bytesSavedByReuse: 23_068_672,
        },
        { month: '2001-02', requests: 0, inProgress: 0, ...none, ...noDelivery },
        { month: '2001-03', requests: 4, inProgress: 0, ...none, invalidMousUid: 1, mousNotDelivered: 1, failed: 1, cancelled: 1, ...noDelivery },
      ],
      overall: {
        month: 'overall',
        requests: 8,
        inProgress: 0,
        delivered: 3,
        notEntitled: 1,
        invalidMousUid: 1,
        mousNotDelivered: 1,
        failed: 1,
        cancelled: 1,
        medianTurnaroundSeconds: 3600,
        p90TurnaroundSeconds: 5400,
        reuseRate: 1 / 3,
        bytesDelivered: 57_671_680,
        bytesSavedByReuse: 23_068_672,
      },
    };
    expect(answer).toEqual({ status: 200, body: expected });
  });

  test('calms stats --csv prints them for a spreadsheet; a malformed month is refused naming it', async () => {
    const csv = await calms(['stats', '--from', '2001-01', '--to', '2001-03', '--csv']);
    const malformed = await calms(['stats', '--from', '2001-1']);
    const refused = await getStatistics('?to=March');

    expect(csv).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'month,requests,inProgress,delivered,notEntitled,invalidMousUid,mousNotDelivered,failed,cancelled,medianTurnaroundSeconds,p90TurnaroundSeconds,reuseRate,bytesDelivered,bytesSavedByReuse',
        '2001-01,4,0,3,1,0,0,0,0,3600,5400,0.3333333333333333,57671680,23068672',
        '2001-02,0,0,0,0,0,0,0,0,,,,0,0',
        '2001-03,4,0,0,0,1,1,1,1,,,,0,0',
        'overall,8,0,3,1,1,1,1,1,3600,5400,0.3333333333333333,57671680,23068672',
        '',
      ].join('\r\n'),
    });
    expect(malformed).toEqual({ code: 2, stdout: '', stderr: 'Invalid from: from must be a month as YYYY-MM, e.g. 2026-11; got "2001-1"\n' });
    expect(refused).toEqual({
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', field: 'to', message: 'to must be a month as YYYY-MM, e.g. 2026-11; got "March"' } },
    });
  });
});

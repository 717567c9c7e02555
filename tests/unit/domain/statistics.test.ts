import type { DeliveryManifest } from '../../../lib/domain/delivery';
import {
  type ActiveRequest,
  csvField,
  deliveredRecord,
  monthsBetween,
  nearestRankPercentile,
  outcomeRecord,
  type PeriodStatistics,
  RequestOutcome,
  statisticsCsv,
  summarise,
} from '../../../lib/domain/statistics';
import { outcomeRecordOf, seedMousRequest } from '../fakes';

const active = (requestId: string, createdAt: string): ActiveRequest => ({ requestId, createdAt });

const EMPTY = {
  requests: 0,
  inProgress: 0,
  delivered: 0,
  notEntitled: 0,
  invalidMousUid: 0,
  mousNotDelivered: 0,
  failed: 0,
  cancelled: 0,
  medianTurnaroundSeconds: null,
  p90TurnaroundSeconds: null,
  reuseRate: null,
  bytesDelivered: 0,
  bytesSavedByReuse: 0,
} satisfies Omit<PeriodStatistics, 'month'>;

/**
 * The known set: August has two deliveries (one re-used) and two replies, September nothing, October one of
 * each other outcome, a delivery whose trigger is not removed yet, a failure awaiting its re-drive and two
 * requests in work (one made at 00:30 on 1 November in UTC+1, so in October); November one delivery made at
 * midnight UTC on its first day. July is outside the range asked for.
 */
const RECORDS = [
  outcomeRecordOf('july', '2026-07-31T23:59:59Z', RequestOutcome.Delivered, 10, { delivered: 99 }),
  outcomeRecordOf('aug-1', '2026-08-03T10:00:00Z', RequestOutcome.Delivered, 3600, { delivered: 2000 }),
  outcomeRecordOf('aug-2', '2026-08-10T00:00:00Z', RequestOutcome.Delivered, 600, { delivered: 1000, reused: 1000 }),
  outcomeRecordOf('aug-3', '2026-08-11T00:00:00Z', RequestOutcome.NotEntitled),
  outcomeRecordOf('aug-4', '2026-08-31T23:59:59.999Z', RequestOutcome.InvalidMousUid),
  outcomeRecordOf('oct-1', '2026-10-01T00:00:00Z', RequestOutcome.MousNotDelivered),
  outcomeRecordOf('oct-2', '2026-10-02T00:00:00Z', RequestOutcome.Failed, 900),
  outcomeRecordOf('oct-3', '2026-10-03T00:00:00Z', RequestOutcome.Cancelled),
  outcomeRecordOf('oct-4', '2026-10-04T00:00:00Z', RequestOutcome.Delivered, 7200, { delivered: 3000 }),
  outcomeRecordOf('nov-1', '2026-11-01T00:00:00Z', RequestOutcome.Delivered, 1800, { delivered: 4000 }),
];
const ACTIVE = [
  active('oct-2', '2026-10-02T00:00:00Z'),
  active('oct-4', '2026-10-04T00:00:00Z'),
  active('oct-5', '2026-10-20T00:00:00Z'),
  active('oct-6', '2026-11-01T00:30:00+01:00'),
];

describe('nearestRankPercentile', () => {
  it.each([
    [[15, 20, 35, 40, 50], 5, 15],
    [[15, 20, 35, 40, 50], 30, 20],
    [[15, 20, 35, 40, 50], 40, 20],
    [[15, 20, 35, 40, 50], 50, 35],
    [[15, 20, 35, 40, 50], 100, 50],
    [[4, 1, 3, 2], 50, 2],
    [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 90, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90, 10],
    [[42], 90, 42],
  ])('of %j at %i is %i: the ⌈p·n/100⌉-th smallest, always one of the values', (values, p, expected) => {
    // Prepare: the values

    // Act
    const value = nearestRankPercentile(values, p);

    // Assess
    expect(value).toBe(expected);
  });

  it('has none for no values, and refuses a percentile outside (0, 100]', () => {
    // Prepare: nothing

    // Act
    const none = nearestRankPercentile([], 50);

    // Assess
    expect(none).toBeUndefined();
    expect(() => nearestRankPercentile([1], 0)).toThrow(RangeError);
    expect(() => nearestRankPercentile([1], 101)).toThrow(RangeError);
  });
});

describe('summarise', () => {
  it('gives the exact figures of a known set, per month (UTC) with empty months, and overall', () => {
    // Prepare: RECORDS and ACTIVE

    // Act
    const statistics = summarise(RECORDS, ACTIVE, { from: '2026-08', to: '2026-11', currentMonth: '2026-11' });

    // Assess
    expect(statistics).toEqual({
      from: '2026-08',
      to: '2026-11',
      percentileMethod: 'nearest-rank',
      months: [
        {
          ...EMPTY,
          month: '2026-08',
          requests: 4,
          delivered: 2,
          notEntitled: 1,
          invalidMousUid: 1,
          medianTurnaroundSeconds: 600,
          p90TurnaroundSeconds: 3600,
          reuseRate: 0.5,
          bytesDelivered: 3000,
          bytesSavedByReuse: 1000,
        },
        { ...EMPTY, month: '2026-09' },
        {
          ...EMPTY,
          month: '2026-10',
          requests: 6,
          inProgress: 3,
          delivered: 1,
          mousNotDelivered: 1,
          failed: 1,
          cancelled: 1,
          medianTurnaroundSeconds: 7200,
          p90TurnaroundSeconds: 7200,
          reuseRate: 0,
          bytesDelivered: 3000,
        },
        {
          ...EMPTY,
          month: '2026-11',
          requests: 1,
          delivered: 1,
          medianTurnaroundSeconds: 1800,
          p90TurnaroundSeconds: 1800,
          reuseRate: 0,
          bytesDelivered: 4000,
        },
      ],
      overall: {
        month: 'overall',
        requests: 11,
        inProgress: 3,
        delivered: 4,
        notEntitled: 1,
        invalidMousUid: 1,
        mousNotDelivered: 1,
        failed: 1,
        cancelled: 1,
        medianTurnaroundSeconds: 1800,
        p90TurnaroundSeconds: 7200,
        reuseRate: 0.25,
        bytesDelivered: 10000,
        bytesSavedByReuse: 1000,
      },
    });
  });

  it('without a range runs from the first month with a request to this month', () => {
    // Prepare
    const records = [outcomeRecordOf('a', '2026-09-15T00:00:00Z', RequestOutcome.NotEntitled)];

    // Act
    const statistics = summarise(records, [active('b', '2026-10-01T00:00:00Z')], { currentMonth: '2026-11' });

    // Assess
    expect(statistics.months.map((period) => [period.month, period.requests, period.inProgress])).toEqual([
      ['2026-09', 1, 0],
      ['2026-10', 1, 1],
      ['2026-11', 0, 0],
    ]);
    expect(statistics.overall).toEqual({ ...EMPTY, month: 'overall', requests: 2, inProgress: 1, notEntitled: 1 });
  });

  it('with nothing requested shows this month empty; a request dated after it extends the range', () => {
    // Prepare
    const later = [outcomeRecordOf('skewed', '2027-01-01T00:00:00Z', RequestOutcome.Cancelled)];

    // Act
    const nothing = summarise([], [], { currentMonth: '2026-11' });
    const extended = summarise(later, [], { currentMonth: '2026-11' });

    // Assess
    expect(nothing).toEqual({
      from: '2026-11',
      to: '2026-11',
      percentileMethod: 'nearest-rank',
      months: [{ ...EMPTY, month: '2026-11' }],
      overall: { ...EMPTY, month: 'overall' },
    });
    expect(extended.months.map((period) => period.month)).toEqual(['2027-01']);
  });
});

describe('the records of outcomes', () => {
  const REQUEST = seedMousRequest();
  const manifest = (sources: readonly string[]): DeliveryManifest => ({
    requestId: REQUEST.requestId,
    mous: REQUEST.mous,
    projectCode: REQUEST.projectCode,
    helpdeskTicket: REQUEST.helpdeskTicket,
    calibratorFields: REQUEST.calibratorFields,
    stagedAt: '2019-09-02T15:00:00.000Z',
    expiresAt: '2019-09-30T15:00:00.000Z',
    retentionDays: 28,
    token: 'a'.repeat(64),
    tarballs: sources.map((source, index) => ({ name: `eb${index}.ms.split.cal.tar`, bytes: 1000 * (index + 1), sha256: 'e'.repeat(64), source })),
  });
  const ENDED = new Date('2019-09-02T15:01:00Z');

  it('a delivery counts the bytes of its tarballs, and as re-used only when every one was copied', () => {
    // Prepare
    const copied = 'deliveries/t1/eb.ms.split.cal.tar';

    // Act
    const mixed = deliveredRecord(REQUEST, manifest(['cluster', copied]), ENDED);
    const allCopied = deliveredRecord(REQUEST, manifest([copied, copied]), ENDED);

    // Assess
    expect(mixed).toEqual({
      requestId: REQUEST.requestId,
      helpdeskTicket: '16140',
      mous: 'uid___A001_X1296_X675',
      projectCode: '2017.1.00727.S',
      requestedAt: '2019-09-02T14:00:27.000Z',
      endedAt: '2019-09-02T15:01:00.000Z',
      outcome: 'DELIVERED',
      reused: false,
      bytesDelivered: 3000,
      bytesReused: 2000,
    });
    expect(allCopied).toMatchObject({ reused: true, bytesDelivered: 3000, bytesReused: 3000 });
  });

  it('an outcome without delivery has no bytes', () => {
    // Prepare: REQUEST

    // Act
    const cancelled = outcomeRecord(REQUEST, RequestOutcome.Cancelled, ENDED);

    // Assess
    expect(cancelled).toMatchObject({ outcome: 'CANCELLED', endedAt: '2019-09-02T15:01:00.000Z', reused: false, bytesDelivered: 0, bytesReused: 0 });
  });
});

describe('the CSV', () => {
  it.each([
    ['2026-11', '2026-11'],
    [42, '42'],
    [0.25, '0.25'],
    [null, ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['line\nfeed', '"line\nfeed"'],
  ])('writes %j as %j (RFC 4180)', (value, expected) => {
    // Prepare: the value

    // Act
    const field = csvField(value);

    // Assess
    expect(field).toBe(expected);
  });

  it('has a header, a row per month, empty ones included, and the overall row, each ending in CRLF', () => {
    // Prepare
    const statistics = summarise(RECORDS, ACTIVE, { from: '2026-08', to: '2026-11', currentMonth: '2026-11' });

    // Act
    const csv = statisticsCsv(statistics);

    // Assess
    expect(csv).toBe(
      [
        'month,requests,inProgress,delivered,notEntitled,invalidMousUid,mousNotDelivered,failed,cancelled,medianTurnaroundSeconds,p90TurnaroundSeconds,reuseRate,bytesDelivered,bytesSavedByReuse',
        '2026-08,4,0,2,1,1,0,0,0,600,3600,0.5,3000,1000',
        '2026-09,0,0,0,0,0,0,0,0,,,,0,0',
        '2026-10,6,3,1,0,0,1,1,1,7200,7200,0,3000,0',
        '2026-11,1,0,1,0,0,0,0,0,1800,1800,0,4000,0',
        'overall,11,3,4,1,1,1,1,1,1800,7200,0.25,10000,1000',
        '',
      ].join('\r\n'),
    );
  });
});

describe('monthsBetween', () => {
  it('counts across a year end, and gives none when from is after to', () => {
    // Prepare: nothing

    // Act
    const across = monthsBetween('2026-11', '2027-02');
    const none = monthsBetween('2026-11', '2026-10');

    // Assess
    expect(across).toEqual(['2026-11', '2026-12', '2027-01', '2027-02']);
    expect(none).toEqual([]);
  });
});

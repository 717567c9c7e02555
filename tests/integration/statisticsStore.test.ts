/**
 * The S3 adapter of the request outcomes against real servers: the local cloud's S3 (s3rver behind the edge)
 * always, and Ceph RGW when CI has started it (CALMS_TEST_CEPH_ENDPOINT, see .ci/ceph.sh), each in a bucket of
 * its own. One untagged object per request under its month, the latest outcome winning; listed by months.
 */
import { GetObjectTaggingCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type OutcomeRecord, RequestOutcome } from '../../lib/domain/statistics';
import { S3StatisticsStore } from '../../lib/storage/S3StatisticsStore';
import { outcomeRecordOf } from '../unit/fakes/statisticsStore';
import { s3Backends } from './support/s3Backends';

const BACKENDS = s3Backends('calms-statistics');

/** A request that ended an hour after it was made; a delivered one with one 11 MiB MS. */
const record = (requestId: string, requestedAt: string, outcome: RequestOutcome = RequestOutcome.NotEntitled): OutcomeRecord =>
  outcomeRecordOf(requestId, requestedAt, outcome, 3600, { delivered: outcome === RequestOutcome.Delivered ? 11_534_336 : 0 });

const byId = (records: readonly OutcomeRecord[]) => [...records].sort((a, b) => a.requestId.localeCompare(b.requestId));

describe.each(BACKENDS)('request outcomes on $name', (backend) => {
  let client: S3Client;
  let bucket: string;
  let store: S3StatisticsStore;

  beforeAll(async () => {
    client = backend.client();
    bucket = await backend.bucket(client);
    store = new S3StatisticsStore(client, bucket);
  });

  test('nothing recorded: nothing listed', async () => {
    expect(await store.list({})).toEqual([]);
  });

  test('one untagged object per request under the UTC month of its request; a later outcome replaces the earlier', async () => {
    const failed = record('t1-redriven', '2026-10-31T23:30:00.000Z', RequestOutcome.Failed);
    const delivered = { ...record('t1-redriven', '2026-10-31T23:30:00.000Z', RequestOutcome.Delivered), endedAt: '2026-11-02T09:00:00.000Z' };

    await store.record(failed);
    await store.record(delivered);

    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'statistics/2026-10/' }));
    expect(Contents.map((object) => object.Key)).toEqual(['statistics/2026-10/t1-redriven.json']);
    const { TagSet = [] } = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'statistics/2026-10/t1-redriven.json' }));
    expect(TagSet).toEqual([]);
    expect(await store.list({ from: '2026-10', to: '2026-10' })).toEqual([delivered]);
  });

  test('lists the months of the range, both ends included, either end open', async () => {
    const months = ['2025-12', '2026-01', '2026-02', '2026-03'];
    const records = months.map((month, index) => record(`t2-${month}`, `${month}-0${index + 1}T12:00:00.000Z`));
    for (const each of records) await store.record(each);

    expect(byId(await store.list({ from: '2026-01', to: '2026-02' }))).toEqual(records.slice(1, 3));
    expect(byId(await store.list({ to: '2026-01' }))).toEqual(records.slice(0, 2));
    expect(byId(await store.list({ from: '2026-03', to: '2026-03' }))).toEqual(records.slice(3));
    expect(byId(await store.list({ from: '2026-02' })).map((each) => each.requestId)).toEqual(['t1-redriven', 't2-2026-02', 't2-2026-03']);
    expect(await store.list({ from: '2026-04', to: '2026-09' })).toEqual([]);
  });

  test('lists more records than one page of a listing holds', async () => {
    const many = Array.from({ length: 1005 }, (_, index) => record(`t3-${String(index).padStart(4, '0')}`, '2024-06-15T00:00:00.000Z'));
    for (let start = 0; start < many.length; start += 50) await Promise.all(many.slice(start, start + 50).map((each) => store.record(each)));

    const listed = await store.list({ from: '2024-06', to: '2024-06' });

    expect(byId(listed)).toEqual(many);
  });
});

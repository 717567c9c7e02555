/**
 * The S3 adapter of the staging slots against real servers: the local cloud's S3 (s3rver behind the edge)
 * always, and Ceph RGW when CI has started it (CALMS_TEST_CEPH_ENDPOINT, see .ci/ceph.sh), each test in a bucket
 * of its own. The holders are replaced only by conditional writes, so executions racing through separate
 * clients never take more slots than there are; Ceph wants If-Match without the ETag's quotes, which the store
 * must find out by itself.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mousRequest, type MousRequest } from '../../lib/domain/request';
import type { QueueEntry, SlotHolder } from '../../lib/domain/slots';
import type { Logger } from '../../lib/log';
import { queueEntryOf, StagingQueue } from '../../lib/slots/StagingQueue';
import { S3SlotStore, SLOTS_PREFIX } from '../../lib/storage/S3SlotStore';
import { s3Backends } from './support/s3Backends';

const HOLDERS_KEY = `${SLOTS_PREFIX}holders.json`;

const BACKENDS = s3Backends('calms-slots');

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, with: () => silent };
const RULES = { count: 2, leaseSeconds: 900, queueGraceSeconds: 3600, waitSeconds: 30, stepSeconds: 840 };
/** No Step Functions here: every execution is unknown to it, so none counts as ended. */
const NO_EXECUTIONS = { describe: async () => undefined };
const T0 = Date.parse('2026-11-24T12:00:00Z');

/** Request `index` of a run, arriving `index` seconds after T0, of its own ticket. */
function arrival(run: string, index: number): MousRequest {
  const ticket = { projectCode: '2017.1.00727.S', userName: 'Judit Szulagyi', userEmail: 'judits@phys.ethz.ch', arcContact: 'evkampe@eso.org' };
  return mousRequest(
    { ...ticket, helpdeskTicket: String(30000 + index), mous: ['uid___A001_X1296_X675'], calibratorFields: [], force: false },
    'uid___A001_X1296_X675',
    new Date(T0 + index * 1000),
    `${run}${index.toString().padStart(2, '0')}`,
    'calms.test',
  );
}

function holderOf(entry: QueueEntry, leaseSeconds = 900): SlotHolder {
  return { ...entry, acquiredAt: new Date().toISOString(), leaseUntil: new Date(Date.now() + leaseSeconds * 1000).toISOString() };
}

/** A client that lets `before` run once, just before the first conditional write of the holders goes out. */
function interceptingFirstHoldersWrite(client: S3Client, before: () => Promise<void>): S3Client {
  let done = false;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        if (!done && command instanceof PutObjectCommand && command.input.Key === HOLDERS_KEY) {
          done = true;
          await before();
        }
        return target.send(command as never);
      };
    },
  });
}

const ids = (items: readonly { requestId: string }[]) => items.map((item) => item.requestId);
const unquotedOf = (store: S3SlotStore) => (store as unknown as { unquotedEtags: boolean }).unquotedEtags;

describe.each(BACKENDS)('staging slots on $name', (backend) => {
  let client: S3Client;
  let bucket: string;
  let run: string;
  // Every client made, so their sockets can be closed at the end.
  const clients: S3Client[] = [];
  const newClient = (): S3Client => {
    const made = backend.client();
    clients.push(made);
    return made;
  };

  afterAll(() => {
    for (const made of clients) made.destroy();
  });

  beforeEach(async () => {
    client = newClient();
    bucket = await backend.bucket(client);
    run = randomBytes(2).toString('hex');
  });

  test('updateHolders creates the holders, then replaces them; a change of nothing writes nothing', async () => {
    const store = new S3SlotStore(client, bucket);
    const [a, b] = [queueEntryOf(arrival(run, 1)), queueEntryOf(arrival(run, 2))];

    expect(await store.readHolders()).toEqual([]);
    const created = await store.updateHolders((holders) => ({ holders: [...holders, holderOf(a)], result: holders.length }));
    const afterCreate = await store.readHolders();
    // A store that has not written yet replaces what another one created (on Ceph: learning the ETag form).
    const other = new S3SlotStore(newClient(), bucket);
    const replaced = await other.updateHolders((holders) => ({ holders: [...holders, holderOf(b)], result: holders.length }));
    const { ETag: before } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: HOLDERS_KEY }));
    const unchanged = await other.updateHolders((holders) => ({ result: ids(holders) }));
    const stored = await client.send(new GetObjectCommand({ Bucket: bucket, Key: HOLDERS_KEY }));

    expect(created).toBe(0);
    expect(ids(afterCreate)).toEqual([a.requestId]);
    expect(replaced).toBe(1);
    expect(unchanged).toEqual([a.requestId, b.requestId]);
    expect(stored.ETag).toBe(before);
    expect(ids(JSON.parse(await stored.Body!.transformToString('utf8')) as SlotHolder[])).toEqual([a.requestId, b.requestId]);
    expect(unquotedOf(other)).toBe(backend.unquotedEtags);
  });

  test('of 20 executions asking at once through their own clients, never more than 2 get a slot, and those are the 2 earliest', async () => {
    const requests = Array.from({ length: 20 }, (_, index) => arrival(run, index));
    const intake = new S3SlotStore(client, bucket);
    for (const request of requests) await intake.joinQueue(queueEntryOf(request));
    // One holder already written, expired: the racers replace the holders (If-Match), not create them.
    await intake.updateHolders(() => ({ holders: [holderOf(queueEntryOf(arrival(run, 99)), -60)], result: undefined }));
    const queues = requests.map(() => new StagingQueue(new S3SlotStore(newClient(), bucket), RULES, () => new Date(), silent, NO_EXECUTIONS));
    const earliest = ids(requests);

    // Only the head of the queue may take a slot, and only once the holders have started their jobs, so it takes
    // rounds of everybody asking (as their Wait states do), the holders submitting their jobs in between.
    const rounds: { winners: string[]; holders: string[] }[] = [];
    for (let round = 0; round < 6 && (rounds.at(-1)?.holders.length ?? 0) < 2; round += 1) {
      const outcomes = await Promise.all(
        [...requests.keys()].reverse().map(async (index) => ({ index, outcome: await queues[index]!.acquire(requests[index]!) })),
      );
      rounds.push({
        winners: outcomes
          .filter(({ outcome }) => outcome.acquired)
          .map(({ index }) => requests[index]!.requestId)
          .sort(),
        holders: ids(await intake.readHolders()).sort(),
      });
      for (const holder of rounds.at(-1)!.holders) await queues[earliest.indexOf(holder)]!.renew(holder, true);
    }
    const extra = await Promise.all(requests.map((request, index) => queues[index]!.acquire(request)));
    const waiting = await intake.readQueue();

    for (const { holders } of rounds) expect(holders).toEqual(earliest.slice(0, holders.length));
    // One at a time: each round lets in one request more, once the holders before it have started their jobs.
    expect(rounds.map(({ holders }) => holders.length)).toEqual([1, 2]);
    expect(rounds.at(-1)!.holders).toEqual(earliest.slice(0, 2));
    expect((await intake.readHolders()).every((holder) => holder.jobStartedAt !== undefined)).toBe(true);
    expect(extra.map((outcome) => outcome.acquired)).toEqual(requests.map((_, index) => index < 2));
    expect(ids(await intake.readHolders()).sort()).toEqual(earliest.slice(0, 2));
    expect(ids(waiting)).toEqual(earliest.slice(2));
    expect(extra.slice(2).map((outcome) => !outcome.acquired && outcome.position)).toEqual(earliest.slice(2).map((_, index) => index + 1));
  });

  test('of 10 executions changing the holders at once through their own clients, no change is lost', async () => {
    const entries = Array.from({ length: 10 }, (_, index) => queueEntryOf(arrival(run, index)));
    const stores = entries.map(() => new S3SlotStore(newClient(), bucket));

    await Promise.all(
      entries.map((entry, index) => stores[index]!.updateHolders((holders) => ({ holders: [...holders, holderOf(entry)], result: undefined }))),
    );
    const holders = await stores[0]!.readHolders();

    expect(ids(holders).sort()).toEqual(ids(entries).sort());
  });

  test.each([
    ['created (If-None-Match)', false],
    ['replaced (If-Match)', true],
  ])('a write of another execution between the read and the write of the holders %s is retried, not lost', async (_, existing) => {
    const [mine, theirs, earlier] = [1, 2, 3].map((index) => queueEntryOf(arrival(run, index))) as [QueueEntry, QueueEntry, QueueEntry];
    if (existing) await new S3SlotStore(client, bucket).updateHolders(() => ({ holders: [holderOf(earlier)], result: undefined }));
    const other = new S3SlotStore(newClient(), bucket);
    const store = new S3SlotStore(
      interceptingFirstHoldersWrite(newClient(), () =>
        other.updateHolders((holders) => ({ holders: [...holders, holderOf(theirs)], result: undefined })),
      ),
      bucket,
    );
    const seen: string[][] = [];

    const result = await store.updateHolders((holders) => {
      seen.push(ids(holders));
      return { holders: [...holders, holderOf(mine)], result: 'written' };
    });
    const holders = await store.readHolders();

    const before = existing ? [earlier.requestId] : [];
    expect(result).toBe('written');
    expect(seen[0]).toEqual(before);
    expect(seen.at(-1)).toEqual([...before, theirs.requestId]);
    expect(ids(holders)).toEqual([...before, theirs.requestId, mine.requestId]);
  });

  test('a queue entry is one object per request; joining again advances its touchedAt, leaving is idempotent', async () => {
    const store = new S3SlotStore(client, bucket);
    const [a, b] = [queueEntryOf(arrival(run, 1)), queueEntryOf(arrival(run, 2))];
    await store.joinQueue(b);
    await store.joinQueue(a);
    const first = await store.readQueue();
    // LastModified has a resolution of a second.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    await store.joinQueue(a);
    const second = await store.readQueue();
    await store.leaveQueue(a);
    await store.leaveQueue(a);
    const third = await store.readQueue();

    const touched = (entries: typeof first, entry: QueueEntry) => entries.find((stored) => stored.requestId === entry.requestId)!.touchedAt.getTime();
    expect(ids(first)).toEqual([a.requestId, b.requestId]);
    expect(first.map(({ touchedAt: _touched, ...entry }) => entry)).toEqual([a, b]);
    expect(ids(second)).toEqual([a.requestId, b.requestId]);
    expect(touched(second, a)).toBeGreaterThan(touched(first, a));
    expect(touched(second, b)).toBe(touched(first, b));
    expect(Math.abs(touched(second, a) - Date.now())).toBeLessThan(60_000);
    expect(ids(third)).toEqual([b.requestId]);
  });
});

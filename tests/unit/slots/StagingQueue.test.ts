import * as slotRules from '../../../lib/domain/slots';
import { liveHolders, queueKey, type SlotHolder } from '../../../lib/domain/slots';
import { mousRequest, type MousRequest } from '../../../lib/domain/request';
import { StorageUnavailableError, WorkflowUnavailableError } from '../../../lib/errors';
import { withInvocationDeadline } from '../../../lib/invocation';
import { queueEntryOf } from '../../../lib/slots/StagingQueue';
import { fakeStagingQueue, InMemorySlotStore, SEED_TICKET, TEST_MAIL_DOMAIN } from '../fakes';

const T0 = new Date('2026-11-24T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** A request of its own ticket that arrived `seconds` after T0. */
function arrival(name: string, seconds: number): MousRequest {
  return mousRequest(
    { ...SEED_TICKET, helpdeskTicket: String(16000 + name.charCodeAt(0)) },
    SEED_TICKET.mous[0]!,
    at(seconds),
    name,
    TEST_MAIL_DOMAIN,
  );
}

/** Requests a, b, c, … arriving a minute apart, each joined at its arrival, as intake leaves them. */
async function arrived(count: number, options: Parameters<typeof fakeStagingQueue>[0] = {}) {
  const harness = fakeStagingQueue({ store: new InMemorySlotStore(T0), ...options });
  const requests = [...'abcdefghijklmnopqrstuvwxyz'].slice(0, count).map((name, index) => arrival(name, index * 60));
  for (const [index, request] of requests.entries()) {
    harness.store.setNow(at(index * 60));
    await harness.queue.join(request);
  }
  harness.store.setNow(at(count * 60));
  return { ...harness, requests };
}

describe('StagingQueue', () => {
  describe('join and leave', () => {
    it('keeps one entry per request, in arrival order, and leaving is idempotent', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3);

      // Act
      await queue.leave(requests[1]!);
      await queue.leave(requests[1]!);

      // Assess
      expect(store.queued()).toEqual([requests[0]!.requestId, requests[2]!.requestId]);
      expect(store.entries.get(queueKey(queueEntryOf(requests[0]!)))).toEqual({ ...queueEntryOf(requests[0]!), touchedAt: at(0) });
    });
  });

  describe('acquire', () => {
    it('gives free slots in arrival order, takes the holder out of the queue, and logs it', async () => {
      // Prepare
      const { queue, store, log, requests, rules } = await arrived(1);

      // Act
      const outcome = await queue.acquire(requests[0]!);

      // Assess
      const leaseUntil = new Date(at(60).getTime() + rules.leaseSeconds * 1000).toISOString();
      expect(outcome).toEqual({ acquired: true, leaseUntil });
      expect(store.currentHolders()).toEqual([{ ...queueEntryOf(requests[0]!), acquiredAt: at(60).toISOString(), leaseUntil }]);
      expect(store.queued()).toEqual([]);
      expect(log.lines).toContainEqual({
        level: 'info',
        message: 'staging slot acquired',
        keys: { requestId: requests[0]!.requestId, ticket: requests[0]!.helpdeskTicket, mous: requests[0]!.mous, leaseUntil },
      });
    });

    it('never gives out more than N slots; the others learn their place, the holders and how long to wait', async () => {
      // Prepare
      const { queue, store, log, requests } = await arrived(5, { rules: { count: 2, waitSeconds: 45 } });

      // Act
      const outcomes = [];
      for (const request of requests) {
        const outcome = await queue.acquire(request);
        outcomes.push(outcome);
        // Its job submitted, the holder lets the next one in.
        if (outcome.acquired) await queue.renew(request.requestId, true);
      }

      // Assess
      const holders = [requests[0]!.requestId, requests[1]!.requestId];
      expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false, false, false]);
      expect(outcomes.slice(2)).toEqual([1, 2, 3].map((position) => ({ acquired: false, position, holders })));
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual(holders);
      expect(store.queued()).toEqual(requests.slice(2).map((request) => request.requestId));
      expect(log.lines.filter((line) => line.message === 'waiting for a staging slot').map((line) => line.keys.position)).toEqual([1, 2, 3]);
    });

    it('does not give a later arrival the slot an earlier waiter needs, even when the later one asks first', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3, { rules: { count: 2 } });
      const [first, second, third] = requests as [MousRequest, MousRequest, MousRequest];
      await queue.acquire(first);
      await queue.renew(first.requestId, true);

      // Act
      const thirdAsks = await queue.acquire(third);
      const secondAsks = await queue.acquire(second);
      const thirdAsksAgain = await queue.acquire(third);

      // Assess
      expect(thirdAsks).toMatchObject({ acquired: false, position: 2 });
      expect(secondAsks.acquired).toBe(true);
      expect(thirdAsksAgain).toMatchObject({ acquired: false, position: 1 });
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([first.requestId, second.requestId]);
    });

    it('serves the waiters in arrival order as slots come free, whatever order they ask in', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(4, { rules: { count: 1 } });
      const [a, b, c, d] = requests as [MousRequest, MousRequest, MousRequest, MousRequest];
      await queue.acquire(a);
      const served: string[] = [a.requestId];

      // Act
      for (const holder of [a, b, c]) {
        await queue.release(holder);
        for (const asking of [d, c, b].filter((request) => !served.includes(request.requestId))) {
          if ((await queue.acquire(asking)).acquired) served.push(asking.requestId);
        }
        store.advance(60);
      }

      // Assess
      expect(served).toEqual([a, b, c, d].map((request) => request.requestId));
    });

    it('lets a holder asking again keep its slot with a fresh lease, leaving no queue entry behind', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(3, { rules: { count: 1 } });
      await queue.acquire(requests[0]!);
      const acquired = store.holderOf(requests[0]!.requestId)!;
      store.advance(300);

      // Act
      const again = await queue.acquire(requests[0]!);

      // Assess
      const leaseUntil = new Date(store.now().getTime() + rules.leaseSeconds * 1000).toISOString();
      expect(again).toEqual({ acquired: true, leaseUntil });
      expect(store.currentHolders()).toEqual([{ ...acquired, leaseUntil }]);
      expect(store.queued()).toEqual([requests[1]!.requestId, requests[2]!.requestId]);
    });

    it('frees the slot of a holder that stopped renewing (crashed) once its lease has run out', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(2, { rules: { count: 1 } });
      await queue.acquire(requests[0]!);
      store.advance(rules.leaseSeconds - 1);
      const before = await queue.acquire(requests[1]!);
      store.advance(1);

      // Act
      const after = await queue.acquire(requests[1]!);

      // Assess
      expect(before).toMatchObject({ acquired: false, position: 1, holders: [requests[0]!.requestId] });
      expect(after.acquired).toBe(true);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([requests[1]!.requestId]);
    });

    it('lets the next request in to a free slot only once the holder has started its job, writing nothing before', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3, { rules: { count: 3, waitSeconds: 45 } });
      const [first, second, third] = requests as [MousRequest, MousRequest, MousRequest];
      await queue.acquire(first);
      const writes = store.holderWrites;

      // Act
      const beforeStart = await queue.acquire(second);
      const thirdBeforeStart = await queue.acquire(third);
      const writesBeforeStart = store.holderWrites - writes;
      store.advance(30);
      await queue.renew(first.requestId);
      const afterMereRenewal = await queue.acquire(second);
      store.advance(30);
      await queue.renew(first.requestId, true);
      const afterStart = await queue.acquire(second);
      const thirdAfterSecond = await queue.acquire(third);

      // Assess
      expect(beforeStart).toEqual({ acquired: false, position: 1, holders: [first.requestId] });
      expect(thirdBeforeStart).toMatchObject({ acquired: false, position: 2 });
      expect(writesBeforeStart).toBe(0);
      expect(afterMereRenewal).toMatchObject({ acquired: false, position: 1 });
      expect(afterStart.acquired).toBe(true);
      expect(thirdAfterSecond).toEqual({ acquired: false, position: 1, holders: [first.requestId, second.requestId] });
      expect(store.queued()).toEqual([third.requestId]);
    });

    it('no longer waits for a holder that crashed before starting its job, once its lease has run out', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(2, { rules: { count: 2 } });
      const [crashed, next] = requests as [MousRequest, MousRequest];
      await queue.acquire(crashed);
      store.advance(rules.leaseSeconds - 1);
      const before = await queue.acquire(next);
      store.advance(1);

      // Act
      const after = await queue.acquire(next);

      // Assess
      expect(before).toMatchObject({ acquired: false, position: 1, holders: [crashed.requestId] });
      expect(after.acquired).toBe(true);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([next.requestId]);
    });

    it('gives up a queue entry untouched past the grace period: it no longer blocks, and is removed', async () => {
      // Prepare
      const { queue, store, log, requests, rules } = await arrived(3, { rules: { count: 1 } });
      const [holder, gone, waiting] = requests as [MousRequest, MousRequest, MousRequest];
      await queue.acquire(holder);
      await queue.release(holder);
      store.setNow(at(60 + rules.queueGraceSeconds));

      // Act
      const outcome = await queue.acquire(waiting);

      // Assess
      expect(outcome.acquired).toBe(true);
      expect(store.queued()).toEqual([]);
      expect(store.callsOf('leaveQueue').map((call) => call.requestId)).toContain(gone.requestId);
      expect(log.lines).toContainEqual({
        level: 'info',
        message: 'queue entry given up: its request did not come back for it',
        keys: { requestId: gone.requestId },
      });
    });

    it('keeps the place of a waiting request that asks again within the grace period', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(3, { rules: { count: 1, leaseSeconds: 7200 } });
      const [holder, patient, later] = requests as [MousRequest, MousRequest, MousRequest];
      await queue.acquire(holder);
      for (let asked = 0; asked < 3; asked += 1) {
        store.advance(rules.queueGraceSeconds - 1);
        await queue.acquire(holder);
        expect(await queue.acquire(patient)).toMatchObject({ acquired: false, position: 1 });
        expect(await queue.acquire(later)).toMatchObject({ acquired: false, position: 2 });
      }
      await queue.release(holder);
      store.advance(rules.queueGraceSeconds - 1);

      // Act
      const laterAsks = await queue.acquire(later);
      const patientAsks = await queue.acquire(patient);

      // Assess
      expect(laterAsks).toMatchObject({ acquired: false, position: 2 });
      expect(patientAsks.acquired).toBe(true);
    });

    it('writes the holders only when they change: a refusal with nothing expired writes nothing', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3, { rules: { count: 1 } });
      await queue.acquire(requests[0]!);
      const writes = store.holderWrites;

      // Act
      await queue.acquire(requests[1]!);
      await queue.acquire(requests[2]!);

      // Assess
      expect(store.holderWrites).toBe(writes);
    });

    it('decides again when another execution wrote the holders between its read and its write', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3, { rules: { count: 2 } });
      const other = queueEntryOf(arrival('z', -600));
      const started = { jobStartedAt: store.now().toISOString() };
      store.interleave((holders) => [
        ...holders,
        { ...other, acquiredAt: store.now().toISOString(), leaseUntil: at(9999).toISOString(), ...started },
      ]);

      // Act
      const outcome = await queue.acquire(requests[0]!);

      // Assess
      expect(outcome.acquired).toBe(true);
      expect(store.conflicts).toBe(1);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([other.requestId, requests[0]!.requestId]);
    });

    it('is refused when the write that got in between let in a request that has not started its job yet', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3, { rules: { count: 2 } });
      const other = queueEntryOf(arrival('z', -600));
      store.interleave((holders) => [...holders, { ...other, acquiredAt: store.now().toISOString(), leaseUntil: at(9999).toISOString() }]);

      // Act
      const outcome = await queue.acquire(requests[0]!);

      // Assess
      expect(outcome).toMatchObject({ acquired: false, position: 1, holders: [other.requestId] });
      expect(store.conflicts).toBe(1);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([other.requestId]);
      expect(store.queued()).toContain(requests[0]!.requestId);
    });

    it('is refused when the write that got in between took the last slot', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(3, { rules: { count: 1 } });
      const [first, second] = requests as [MousRequest, MousRequest];
      store.interleave((holders) => [
        ...holders,
        { ...queueEntryOf(first), acquiredAt: store.now().toISOString(), leaseUntil: at(9999).toISOString() },
      ]);
      await queue.leave(first);

      // Act
      const outcome = await queue.acquire(second);

      // Assess
      expect(outcome).toMatchObject({ acquired: false, position: 1, holders: [first.requestId] });
      expect(store.conflicts).toBe(1);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([first.requestId]);
    });

    it('of many requests asking at once, again and again, lets in only the earliest, one after the other, never more than N', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(12, { rules: { count: 3 } });
      let most = 0;
      store.onHoldersWritten = (holders) => (most = Math.max(most, holders.length));
      const rounds: string[][] = [];

      // Act
      for (let round = 0; round < 6; round += 1) {
        await Promise.all([...requests].reverse().map((request) => queue.acquire(request)));
        rounds.push(store.currentHolders().map((holder) => holder.requestId));
        // Between the rounds the holders submit their jobs, which lets the next one in.
        for (const holder of rounds.at(-1)!) await queue.renew(holder, true);
      }

      // Assess
      const earliest = requests.map((request) => request.requestId);
      for (const holders of rounds) expect(holders).toEqual(earliest.slice(0, holders.length));
      expect(rounds.map((holders) => holders.length)).toEqual([1, 2, 3, 3, 3, 3]);
      expect(rounds.at(-1)).toEqual(earliest.slice(0, 3));
      expect(most).toBe(3);
      expect(store.queued()).toEqual(earliest.slice(3));
    });

    it("lets the store's outage through, having taken no slot", async () => {
      // Prepare
      const { queue, store, requests } = await arrived(1);
      store.failures.failNext('updateHolders', new StorageUnavailableError('S3 did not answer'));

      // Act
      const outcome = queue.acquire(requests[0]!);

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(store.currentHolders()).toEqual([]);
      expect(store.queued()).toEqual([requests[0]!.requestId]);
    });
  });

  describe('renew', () => {
    it('gives the holder a fresh lease', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(1);
      await queue.acquire(requests[0]!);
      store.advance(rules.leaseSeconds - 1);

      // Act
      const renewed = await queue.renew(requests[0]!.requestId);

      // Assess
      expect(renewed).toBe(true);
      expect(store.holderOf(requests[0]!.requestId)!.leaseUntil).toBe(new Date(store.now().getTime() + rules.leaseSeconds * 1000).toISOString());
    });

    it("notes when the holder's job started, once: later renewals, told so again or not, keep the first time", async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(2, { rules: { count: 2 } });
      const [holder, other] = requests as [MousRequest, MousRequest];
      await queue.acquire(holder);
      store.advance(10);
      await queue.renew(holder.requestId);
      const beforeStart = store.holderOf(holder.requestId)!;
      const startedAt = store.advance(20);

      // Act
      const started = await queue.renew(holder.requestId, true);
      const afterStart = store.holderOf(holder.requestId)!;
      store.advance(30);
      await queue.renew(holder.requestId, true);
      store.advance(30);
      await queue.renew(holder.requestId);
      await queue.acquire(other);

      // Assess
      expect(started).toBe(true);
      expect(beforeStart).not.toHaveProperty('jobStartedAt');
      expect(afterStart).toEqual({
        ...beforeStart,
        jobStartedAt: startedAt.toISOString(),
        leaseUntil: new Date(startedAt.getTime() + rules.leaseSeconds * 1000).toISOString(),
      });
      expect(store.holderOf(holder.requestId)).toEqual({
        ...afterStart,
        leaseUntil: new Date(store.now().getTime() + rules.leaseSeconds * 1000).toISOString(),
      });
      expect(store.holderOf(other.requestId)).toBeDefined();
      expect(store.holderOf(other.requestId)).not.toHaveProperty('jobStartedAt');
    });

    it('answers false, warns and writes nothing when told of a job start for a slot it no longer holds', async () => {
      // Prepare
      const { queue, store, log, requests, rules } = await arrived(2, { rules: { count: 1 } });
      const [late, next] = requests as [MousRequest, MousRequest];
      await queue.acquire(late);
      store.advance(rules.leaseSeconds);
      await queue.acquire(next);
      const writes = store.holderWrites;

      // Act
      const renewed = await queue.renew(late.requestId, true);

      // Assess
      expect(renewed).toBe(false);
      expect(store.holderWrites).toBe(writes);
      expect(store.currentHolders()).toEqual([expect.not.objectContaining({ jobStartedAt: expect.anything() })]);
      expect(log.messages('warn')).toEqual(['staging slot lease lost: renewed too late, the slot went to another request']);
    });

    it('answers false and warns when the slot went to another request while the lease had run out', async () => {
      // Prepare
      const { queue, store, log, requests, rules } = await arrived(2, { rules: { count: 1 } });
      const [late, next] = requests as [MousRequest, MousRequest];
      await queue.acquire(late);
      store.advance(rules.leaseSeconds);
      await queue.acquire(next);

      // Act
      const renewed = await queue.renew(late.requestId);

      // Assess
      expect(renewed).toBe(false);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([next.requestId]);
      expect(log.lines).toContainEqual({
        level: 'warn',
        message: 'staging slot lease lost: renewed too late, the slot went to another request',
        keys: { requestId: late.requestId },
      });
    });

    it('answers false for a request that never held a slot, and writes nothing', async () => {
      // Prepare
      const { queue, store, requests } = await arrived(2);
      await queue.acquire(requests[0]!);
      const writes = store.holderWrites;

      // Act
      const renewed = await queue.renew(requests[1]!.requestId);

      // Assess
      expect(renewed).toBe(false);
      expect(store.holderWrites).toBe(writes);
    });

    it('renews despite a write of another execution in between, without losing that write', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(2);
      await queue.acquire(requests[0]!);
      const other = { ...queueEntryOf(requests[1]!), acquiredAt: store.now().toISOString(), leaseUntil: at(9999).toISOString() };
      store.interleave((holders) => [...holders, other]);
      store.advance(10);

      // Act
      const renewed = await queue.renew(requests[0]!.requestId);

      // Assess
      expect(renewed).toBe(true);
      expect(store.conflicts).toBe(1);
      expect(store.currentHolders()).toEqual([
        {
          ...queueEntryOf(requests[0]!),
          acquiredAt: at(120).toISOString(),
          leaseUntil: new Date(store.now().getTime() + rules.leaseSeconds * 1000).toISOString(),
        },
        other,
      ]);
    });
  });

  describe('release', () => {
    it('gives the slot back to the next request and logs it', async () => {
      // Prepare
      const { queue, store, log, requests } = await arrived(2, { rules: { count: 1 } });
      await queue.acquire(requests[0]!);

      // Act
      await queue.release(requests[0]!);

      // Assess
      expect(store.currentHolders()).toEqual([]);
      expect((await queue.acquire(requests[1]!)).acquired).toBe(true);
      expect(log.messages('info')).toContain('staging slot released');
    });

    it('is idempotent: releasing again changes nothing and logs nothing more', async () => {
      // Prepare
      const { queue, store, log, requests } = await arrived(2);
      await queue.acquire(requests[0]!);
      await queue.renew(requests[0]!.requestId, true);
      await queue.acquire(requests[1]!);
      await queue.release(requests[0]!);
      const writes = store.holderWrites;

      // Act
      await queue.release(requests[0]!);

      // Assess
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([requests[1]!.requestId]);
      expect(store.holderWrites).toBe(writes);
      expect(log.messages().filter((message) => message === 'staging slot released')).toHaveLength(1);
    });

    it('also gives up the place in the queue of a request that was still waiting', async () => {
      // Prepare
      const { queue, store, log, requests } = await arrived(3, { rules: { count: 1 } });
      await queue.acquire(requests[0]!);
      await queue.acquire(requests[1]!);

      // Act
      await queue.release(requests[1]!);

      // Assess
      expect(store.queued()).toEqual([requests[2]!.requestId]);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([requests[0]!.requestId]);
      expect(log.messages()).not.toContain('staging slot released');
    });
  });

  describe('view', () => {
    it('lists the live holders and the live waiters in order with their places, as operators see them', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(5, { rules: { count: 2 } });
      const [a, b, c, d, e] = requests as [MousRequest, MousRequest, MousRequest, MousRequest, MousRequest];
      await queue.acquire(a);
      await queue.renew(a.requestId, true);
      await queue.acquire(b);
      store.advance(rules.leaseSeconds - 10);
      await queue.renew(b.requestId);
      await queue.acquire(e);
      await queue.acquire(c);
      store.advance(10);

      // Act
      const view = await queue.view();

      // Assess
      expect(view).toEqual({
        slots: 2,
        holders: [store.holderOf(b.requestId)],
        waiting: [
          { ...queueEntryOf(c), position: 1 },
          { ...queueEntryOf(d), position: 2 },
          { ...queueEntryOf(e), position: 3 },
        ],
      });
    });

    it('leaves out waiters untouched past the grace period', async () => {
      // Prepare
      const { queue, store, requests, rules } = await arrived(2, { rules: { count: 1 } });
      store.setNow(at(rules.queueGraceSeconds + 30));

      // Act
      const view = await queue.view();

      // Assess
      expect(view.waiting).toEqual([{ ...queueEntryOf(requests[1]!), position: 1 }]);
    });
  });

  describe('the dead hold nothing', () => {
    const executionOf = (request: MousRequest) => queueEntryOf(request).execution!;

    it.each(['ABORTED', 'TIMED_OUT', 'FAILED', 'SUCCEEDED'] as const)(
      'gives up the place of a queue head whose execution ended %s, and lets the next one in at once',
      async (status) => {
        // Prepare
        const { queue, store, log, executions, requests } = await arrived(2);
        const [dead, next] = requests as [MousRequest, MousRequest];
        executions.end(executionOf(dead), status);
        executions.run(executionOf(next));

        // Act
        const outcome = await queue.acquire(next);

        // Assess
        expect(outcome.acquired).toBe(true);
        expect(store.queued()).toEqual([]);
        expect(log.lines).toContainEqual({
          level: 'warn',
          message: 'queue place given up: its execution has ended',
          keys: { givenUp: dead.requestId, execution: executionOf(dead), status },
        });
      },
    );

    it('asks Step Functions only when kept from a slot, and keeps a place whose execution runs or has not started yet', async () => {
      // Prepare: a runs; b's execution is not known yet (intake writes the place before it starts it).
      const { queue, store, executions, requests } = await arrived(3, { rules: { count: 1 } });
      const [first, notStarted, third] = requests as [MousRequest, MousRequest, MousRequest];
      executions.run(executionOf(first));

      // Act
      const outcomes = [await queue.acquire(first)];
      const askedWhileFree = [...executions.asked];
      await queue.renew(first.requestId, true);
      outcomes.push(await queue.acquire(third));

      // Assess
      expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, false]);
      expect(askedWhileFree).toEqual([]);
      expect(executions.asked).toEqual([executionOf(notStarted)]);
      expect(store.queued()).toEqual([notStarted.requestId, third.requestId]);
    });

    it('gives up the slot of a holder whose execution has ended, long before its lease runs out', async () => {
      // Prepare: both slots held, leases good for 15 minutes; one holder was stopped by hand.
      const { queue, store, log, executions, requests } = await arrived(3);
      const [stopped, working, waiting] = requests as [MousRequest, MousRequest, MousRequest];
      for (const holder of [stopped, working]) {
        store.seedHolder(holder, { jobStartedAt: store.now() });
        await queue.leave(holder);
      }
      executions.end(executionOf(stopped));
      executions.run(executionOf(working));

      // Act
      const outcome = await queue.acquire(waiting);

      // Assess
      expect(outcome.acquired).toBe(true);
      expect(store.currentHolders().map((holder) => holder.requestId)).toEqual([working.requestId, waiting.requestId]);
      expect(log.messages('warn')).toEqual(['staging slot given up: its execution has ended']);
    });

    it("gives up a re-drive's place only when the re-drive has ended, not because its failed first attempt did", async () => {
      // Prepare
      const { queue, store, executions, requests } = await arrived(2);
      const redriven = { ...requests[0]!, redrive: 1 };
      const next = requests[1]!;
      await queue.join(redriven);
      executions.end(redriven.requestId, 'FAILED');
      executions.run(`${redriven.requestId}-redrive-1`);

      // Act
      const outcome = await queue.acquire(next);

      // Assess
      expect(outcome).toMatchObject({ acquired: false, position: 2 });
      expect(executions.asked).toEqual([`${redriven.requestId}-redrive-1`]);
      expect(store.queued()).toEqual([redriven.requestId, next.requestId]);
    });

    it('keeps the place when Step Functions does not answer: the grace period still ends it', async () => {
      // Prepare
      const { queue, store, log, executions, requests } = await arrived(2);
      executions.end(executionOf(requests[0]!));
      executions.failures.failNext('describe', new WorkflowUnavailableError('Step Functions did not describe: throttled'));

      // Act
      const outcome = await queue.acquire(requests[1]!);

      // Assess
      expect(outcome).toMatchObject({ acquired: false, position: 2 });
      expect(store.queued()).toEqual(requests.map((request) => request.requestId));
      expect(log.messages('warn')).toEqual(['could not tell whether an execution in the staging queue still runs']);
    });

    it('shows no free slot with requests waiting behind a dead one: looking gives its place up', async () => {
      // Prepare
      const { queue, executions, requests } = await arrived(3);
      executions.end(executionOf(requests[0]!));

      // Act
      const view = await queue.view();

      // Assess
      expect(view.holders).toEqual([]);
      expect(view.waiting.map((entry) => entry.requestId)).toEqual([requests[1]!.requestId, requests[2]!.requestId]);
    });

    it("shows a dead holder's slot as free once someone waits for it", async () => {
      // Prepare
      const { queue, store, executions, requests } = await arrived(2, { rules: { count: 1 } });
      store.seedHolder(requests[0]!, { jobStartedAt: store.now() });
      await queue.leave(requests[0]!);
      executions.end(executionOf(requests[0]!), 'TIMED_OUT');

      // Act
      const view = await queue.view();

      // Assess
      expect(view.holders).toEqual([]);
      expect(view.waiting.map((entry) => entry.requestId)).toEqual([requests[1]!.requestId]);
    });
  });

  describe('waitForSlot', () => {
    it('takes a slot within one look of its release, inside one step', async () => {
      // Prepare: one slot, held; it is released 62 s into the step.
      const holder = arrival('h', -60);
      let releasedAt: number | undefined;
      const store = new InMemorySlotStore(T0);
      const { queue, requests } = await arrived(1, {
        store,
        rules: { count: 1, waitSeconds: 5, stepSeconds: 840 },
        sleep: async (ms) => {
          store.advance(ms / 1000);
          if (releasedAt === undefined && store.now().getTime() >= at(60 + 62).getTime()) {
            await queue.release(holder);
            releasedAt = store.now().getTime();
          }
        },
      });
      store.seedHolder(holder, { jobStartedAt: T0 });

      // Act
      const outcome = await queue.waitForSlot(requests[0]!);

      // Assess
      expect(outcome.acquired).toBe(true);
      expect(releasedAt).toBeDefined();
      expect(store.now().getTime() - releasedAt!).toBeLessThanOrEqual(5_000);
      expect(store.holderOf(requests[0]!.requestId)).toBeDefined();
    });

    it('hands over after one step, its place renewed, reading only the holders between looks when others are ahead', async () => {
      // Prepare: the slot stays held the whole step; a is at the head (renewing its place as it waits), b behind it.
      const store = new InMemorySlotStore(T0);
      let head: MousRequest | undefined;
      const { queue, requests } = await arrived(2, {
        store,
        rules: { count: 1, waitSeconds: 5, stepSeconds: 840, queueGraceSeconds: 600 },
        sleep: async (ms) => {
          store.advance(ms / 1000);
          if (head) await store.joinQueue(queueEntryOf(head));
        },
      });
      head = requests[0]!;
      const holder = arrival('h', -60);
      store.seedHolder(holder, { jobStartedAt: T0, leaseUntil: at(3600) });
      const stepStart = store.now().getTime();
      const readsBefore = store.callsOf('readQueue').length;

      // Act
      const outcome = await queue.waitForSlot(requests[1]!);

      // Assess
      expect(outcome).toEqual({ acquired: false, position: 2, holders: [holder.requestId] });
      const waited = store.now().getTime() - stepStart;
      expect(waited).toBe(840_000);
      expect(store.callsOf('readHolders').length).toBeGreaterThan(150);
      // The first look, then one per renewal of the place (every 200 s): never one per poll.
      expect(store.callsOf('readQueue').length - readsBefore).toBeLessThanOrEqual(6);
      expect(store.entries.get(queueKey(queueEntryOf(requests[1]!)))!.touchedAt.getTime()).toBeGreaterThan(
        store.now().getTime() - 600_000 / 3 - 5_000,
      );
    });

    it("waits no longer than its invocation has left, less the answer's reserve", async () => {
      // Prepare
      const { queue, store, requests } = await arrived(2, { rules: { count: 1, waitSeconds: 5, stepSeconds: 840 } });
      store.seedHolder(arrival('h', -60), { jobStartedAt: T0, leaseUntil: at(3600) });
      const stepStart = store.now().getTime();

      // Act: 60 s left keeps 15 s for the answer.
      const outcome = await withInvocationDeadline(
        { getRemainingTimeInMillis: () => 60_000 },
        () => queue.waitForSlot(requests[1]!),
        () => store.now().getTime(),
      );

      // Assess
      expect(outcome.acquired).toBe(false);
      expect(store.now().getTime() - stepStart).toBe(45_000);
    });
  });
});

/**
 * Executions simulated on a fake clock: each arrives (intake joins the queue), asks for the first time a random
 * while later (so later arrivals often ask first), then polls at random intervals. A holder submits its job a
 * random few ticks after it got its slot (its renewal then notes the job started), renews at every tick, works
 * a random while and releases. Some crash: as waiters, as holders still starting their job, or as holders at
 * work. Within a tick the executions act concurrently, in random order, so their writes of the holders race.
 */
interface Simulated {
  readonly request: MousRequest;
  readonly arrival: number;
  readonly work: number;
  /** Seconds from getting the slot to the job on the cluster: choosing a node and submitting take a while. */
  readonly startDelay: number;
  /** Crashes a random while after getting its slot, before its job has started. */
  readonly crashesStarting: boolean;
  crashAt?: number;
  state: 'coming' | 'waiting' | 'holding' | 'done' | 'crashed';
  asked: boolean;
  nextAsk: number;
  startAt: number;
  started: boolean;
  releaseAt: number;
  acquiredAt?: number;
}

interface SimulationResult {
  readonly violations: string[];
  /** Request ids in the order their holders writes took effect. */
  readonly acquired: string[];
  /** Request ids in the order their jobs started on the cluster. */
  readonly started: string[];
  readonly arrivalOrder: string[];
  readonly crashedWaiting: string[];
  /** Holders that crashed after getting their slot, before their job started. */
  readonly crashedStarting: string[];
  readonly ticks: number;
  /** Asks of a request while an earlier arrival had not asked yet: the cases FIFO is about. */
  readonly earlyAsks: number;
  /** Refusals of the head of the queue with a slot free, because a holder was still starting its job. */
  readonly heldBackByStart: number;
  /** Holders writes refused because another execution wrote first (and retried). */
  readonly conflicts: number;
  readonly crashedHolding: number;
  /** The most live holders at once: one at a time in, yet the slots are used. */
  readonly mostHolding: number;
}

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function simulate(seed: number, options: { slots: number; executions: number; crashes: boolean }): Promise<SimulationResult> {
  const rand = random(seed);
  const between = (low: number, high: number) => low + Math.floor(rand() * (high - low + 1));
  const TICK = 5;
  const rules = { count: options.slots, leaseSeconds: 60, queueGraceSeconds: 300, waitSeconds: 30, stepSeconds: 840 };
  const { queue, store } = fakeStagingQueue({ store: new InMemorySlotStore(T0), rules });
  const violations: string[] = [];
  const acquired: string[] = [];
  const started: string[] = [];
  const acquiredAtTick = new Map<string, number>();
  const ids = (items: readonly { requestId: string }[]) => items.map((item) => item.requestId);
  let earlyAsks = 0;
  let heldBackByStart = 0;
  let mostHolding = 0;

  // The order of acquisition is the order of the holders writes that added them.
  const written = new Set<string>();
  store.onHoldersWritten = (holders) => {
    const live = liveHolders(holders, store.now());
    if (live.length > rules.count) violations.push(`${live.length} live holders written at ${store.now().toISOString()}`);
    mostHolding = Math.max(mostHolding, live.length);
    const starting = live.filter((holder) => holder.jobStartedAt === undefined);
    if (starting.length > 1) violations.push(`${ids(starting).join(', ')} let in together, their jobs not started, at ${store.now().toISOString()}`);
    for (const holder of holders) {
      if (!written.has(holder.requestId)) acquired.push(holder.requestId);
      written.add(holder.requestId);
    }
  };

  const sims: Simulated[] = Array.from({ length: options.executions }, (_, index) => {
    const arrivalSeconds = between(0, 600);
    const crashes = options.crashes && rand() < 0.2;
    const crashesStarting = options.crashes && !crashes && rand() < 0.15;
    return {
      request: mousRequest(
        { ...SEED_TICKET, helpdeskTicket: String(20000 + index) },
        SEED_TICKET.mous[0]!,
        at(arrivalSeconds),
        `x${index}`,
        TEST_MAIL_DOMAIN,
      ),
      arrival: arrivalSeconds,
      work: between(10, 300),
      startDelay: between(1, 6) * TICK,
      crashesStarting,
      crashAt: crashes ? arrivalSeconds + between(0, 600) : undefined,
      state: 'coming',
      asked: false,
      // The first ask comes after the entitlement and re-use checks: anywhere within the grace period.
      nextAsk: arrivalSeconds + between(0, rules.queueGraceSeconds - 2 * TICK),
      startAt: Infinity,
      started: false,
      releaseAt: Infinity,
    };
  });
  const byArrival = [...sims].sort((a, b) => (queueKey(queueEntryOf(a.request)) < queueKey(queueEntryOf(b.request)) ? -1 : 1));
  const rank = new Map(byArrival.map((sim, index) => [sim.request.requestId, index]));
  const holding = () => sims.filter((sim) => sim.state === 'holding').length;

  const act = async (sim: Simulated, now: number): Promise<void> => {
    if (sim.crashAt !== undefined && now >= sim.crashAt && (sim.state === 'waiting' || sim.state === 'holding')) {
      sim.state = 'crashed';
      return;
    }
    const mine = rank.get(sim.request.requestId)!;
    if (sim.state === 'waiting' && now >= sim.nextAsk) {
      if (sims.some((other) => !other.asked && other.state === 'waiting' && rank.get(other.request.requestId)! < mine)) earlyAsks += 1;
      sim.asked = true;
      const outcome = await queue.acquire(sim.request);
      if (outcome.acquired) {
        sim.state = 'holding';
        sim.acquiredAt = now;
        sim.startAt = now + sim.startDelay;
        sim.releaseAt = sim.startAt + sim.work;
        // Crashing before the job started: at the latest in the tick it would have started.
        if (sim.crashesStarting) sim.crashAt = now + between(1, sim.startDelay);
        acquiredAtTick.set(sim.request.requestId, now);
        if (holding() > rules.count) violations.push(`${holding()} executions hold a slot at +${now}s`);
      } else {
        // No overtaking: once a later arrival got a slot (in an earlier tick), an earlier live waiter is never refused.
        const overtaker = [...acquiredAtTick].find(([id, tick]) => tick < now && rank.get(id)! > mine);
        if (overtaker) violations.push(`${sim.request.requestId} refused at +${now}s after the later ${overtaker[0]} acquired at +${overtaker[1]}s`);
        if (outcome.position === 1 && holding() < rules.count && sims.some((other) => other.state === 'holding' && !other.started))
          heldBackByStart += 1;
        sim.nextAsk = now + between(1, rules.waitSeconds);
      }
    } else if (sim.state === 'holding') {
      if (now >= sim.releaseAt) {
        // The execution has stopped using the cluster before it gives the slot back.
        sim.state = 'done';
        await queue.release(sim.request);
        return;
      }
      const starting = !sim.started && now >= sim.startAt;
      if (starting) {
        // The job is on the cluster now; every earlier live arrival's job must be there already.
        const earlier = sims.find(
          (other) => rank.get(other.request.requestId)! < mine && (other.state === 'waiting' || (other.state === 'holding' && !other.started)),
        );
        if (earlier) violations.push(`${sim.request.requestId} started its job at +${now}s before the earlier ${earlier.request.requestId}`);
        sim.started = true;
        started.push(sim.request.requestId);
      }
      if (!(await queue.renew(sim.request.requestId, starting))) {
        violations.push(`${sim.request.requestId} lost its slot at +${now}s although it renewed in time`);
      }
    }
  };

  let now = 0;
  const limit = 600 + options.executions * 400 + 2000;
  for (; now <= limit && sims.some((sim) => sim.state === 'coming' || sim.state === 'waiting' || sim.state === 'holding'); now += TICK) {
    store.setNow(at(now));
    for (const sim of byArrival) {
      if (sim.state === 'coming' && sim.arrival <= now) {
        await queue.join(sim.request);
        sim.state = 'waiting';
      }
    }
    const order = sims.map((sim) => ({ sim, key: rand() })).sort((a, b) => a.key - b.key);
    await Promise.all(order.map(({ sim }) => act(sim, now)));
  }
  for (const sim of sims) {
    if (sim.state === 'waiting') violations.push(`${sim.request.requestId} still waits at +${now}s`);
  }
  const crashedHolders = sims.filter((sim) => sim.state === 'crashed' && sim.acquiredAt !== undefined);
  return {
    violations,
    acquired,
    started,
    arrivalOrder: byArrival.map((sim) => sim.request.requestId),
    crashedWaiting: sims.filter((sim) => sim.state === 'crashed' && sim.acquiredAt === undefined).map((sim) => sim.request.requestId),
    crashedStarting: crashedHolders.filter((sim) => !sim.started).map((sim) => sim.request.requestId),
    ticks: now / TICK,
    earlyAsks,
    heldBackByStart,
    conflicts: store.conflicts,
    crashedHolding: crashedHolders.length,
    mostHolding,
  };
}

describe('StagingQueue, simulated executions (property)', () => {
  const SEEDS = Array.from({ length: 12 }, (_, index) => 1000 + index * 7919);

  it.each(SEEDS.flatMap((seed) => [1, 2, 3].map((slots) => [seed, slots] as const)))(
    'seed %i with %i slots: never more than N hold a slot, slots are taken and jobs started in arrival order, everyone is served',
    async (seed, slots) => {
      // Act
      const result = await simulate(seed, { slots, executions: 14, crashes: false });

      // Assess
      expect(result.violations).toEqual([]);
      expect(result.acquired).toEqual(result.arrivalOrder);
      expect(result.started).toEqual(result.arrivalOrder);
    },
  );

  it.each(SEEDS.flatMap((seed) => [1, 2].map((slots) => [seed, slots] as const)))(
    'seed %i with %i slots and crashes: the slots of crashed executions come free, also before their jobs started, and the order still holds',
    async (seed, slots) => {
      // Act
      const result = await simulate(seed, { slots, executions: 14, crashes: true });

      // Assess
      expect(result.violations).toEqual([]);
      expect(result.acquired).toEqual(result.arrivalOrder.filter((id) => !result.crashedWaiting.includes(id)));
      expect(result.started).toEqual(result.acquired.filter((id) => !result.crashedStarting.includes(id)));
    },
  );

  it('exercises what it claims: later arrivals asking first, racing writes, waiting for job starts, crashes of waiters and holders', async () => {
    // Act
    const results = await Promise.all(SEEDS.map((seed) => simulate(seed, { slots: 2, executions: 14, crashes: true })));

    // Assess
    const total = (count: (result: SimulationResult) => number) => results.reduce((sum, result) => sum + count(result), 0);
    expect(total((result) => result.earlyAsks)).toBeGreaterThan(20);
    expect(total((result) => result.conflicts)).toBeGreaterThan(5);
    expect(total((result) => result.heldBackByStart)).toBeGreaterThan(10);
    expect(total((result) => result.crashedWaiting.length)).toBeGreaterThan(3);
    expect(total((result) => result.crashedHolding - result.crashedStarting.length)).toBeGreaterThan(3);
    expect(total((result) => result.crashedStarting.length)).toBeGreaterThan(3);
    expect(results.filter((result) => result.mostHolding === 2).length).toBeGreaterThan(SEEDS.length / 2);
  });

  describe('can fail', () => {
    afterEach(() => jest.restoreAllMocks());

    it('catches a rule that serves whoever asks first', async () => {
      // Prepare
      const decide = slotRules.decideAcquire;
      jest.spyOn(slotRules, 'decideAcquire').mockImplementation((holders, _queue, claimant, now, rules) => decide(holders, [], claimant, now, rules));

      // Act
      const results = await Promise.all(SEEDS.slice(0, 4).map((seed) => simulate(seed, { slots: 2, executions: 14, crashes: false })));

      // Assess
      expect(results.flatMap((result) => result.violations).some((violation) => violation.includes('after the later'))).toBe(true);
    });

    it('catches a rule that gives out one slot too many', async () => {
      // Prepare
      const decide = slotRules.decideAcquire;
      jest
        .spyOn(slotRules, 'decideAcquire')
        .mockImplementation((holders, queue, claimant, now, rules) => decide(holders, queue, claimant, now, { ...rules, count: rules.count + 1 }));

      // Act
      const results = await Promise.all(SEEDS.slice(0, 4).map((seed) => simulate(seed, { slots: 2, executions: 14, crashes: false })));

      // Assess
      expect(
        results.flatMap((result) => result.violations).some((violation) => violation.includes('hold a slot') || violation.includes('live holders')),
      ).toBe(true);
    });

    it('catches a rule that lets the next request in before the holders have started their jobs', async () => {
      // Prepare: the rule as it was, deciding as if every holder had started, and writing them back as they were.
      const decide = slotRules.decideAcquire;
      jest.spyOn(slotRules, 'decideAcquire').mockImplementation((holders, queue, claimant, now, rules) => {
        const starting = new Set(holders.filter((holder) => holder.jobStartedAt === undefined).map((holder) => holder.requestId));
        const asFound = (holder: SlotHolder): SlotHolder => {
          if (!starting.has(holder.requestId)) return holder;
          const { jobStartedAt: _started, ...rest } = holder;
          return rest;
        };
        const decision = decide(
          holders.map((holder) => ({ ...holder, jobStartedAt: holder.jobStartedAt ?? now.toISOString() })),
          queue,
          claimant,
          now,
          rules,
        );
        return decision.acquired
          ? { ...decision, holder: asFound(decision.holder), holders: decision.holders.map(asFound) }
          : { ...decision, holders: decision.holders.map(asFound) };
      });

      // Act
      const results = await Promise.all(SEEDS.slice(0, 4).map((seed) => simulate(seed, { slots: 2, executions: 14, crashes: false })));

      // Assess
      const violations = results.flatMap((result) => result.violations);
      expect(violations.some((violation) => violation.includes('let in together'))).toBe(true);
      expect(violations.some((violation) => violation.includes('started its job') && violation.includes('before the earlier'))).toBe(true);
      expect(results.some((result) => result.started.join() !== result.arrivalOrder.join())).toBe(true);
    });
  });
});

import {
  decideAcquire,
  liveHolders,
  liveQueue,
  type QueueEntry,
  queueKey,
  renewLease,
  type SlotHolder,
  type SlotRules,
  type StoredQueueEntry,
} from '../../../lib/domain/slots';

const NOW = new Date('2026-11-24T12:00:00Z');
const RULES: SlotRules = { count: 2, leaseSeconds: 900, queueGraceSeconds: 3600 };
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

/** A request that arrived `seconds` after (before, if negative) NOW. */
function entry(requestId: string, seconds = 0): QueueEntry {
  return { requestId, helpdeskTicket: '16140', mous: `uid___A001_X1296_${requestId}`, arrivedAt: at(seconds).toISOString() };
}

function stored(queued: QueueEntry, touchedSeconds = 0): StoredQueueEntry {
  return { ...queued, touchedAt: at(touchedSeconds) };
}

/** A holder whose job is on the cluster (started), unless `started` is false: then it is still starting it. */
function holder(requestId: string, leaseSeconds = 600, arrivedSeconds = -7200, started = true): SlotHolder {
  const held = { ...entry(requestId, arrivedSeconds), acquiredAt: at(-1800).toISOString(), leaseUntil: at(leaseSeconds).toISOString() };
  return started ? { ...held, jobStartedAt: at(-1700).toISOString() } : held;
}

/** A holder that has not started its job yet. */
const starting = (requestId: string, leaseSeconds = 600): SlotHolder => holder(requestId, leaseSeconds, -7200, false);

const ids = (items: readonly { requestId: string }[]) => items.map((item) => item.requestId);

describe('queueKey', () => {
  it('sorts by arrival time, then by request id for requests of the same moment', () => {
    // Prepare
    const entries = [entry('r-b', 10), entry('r-c', -5), entry('r-a', 10), entry('r-z', 9)];

    // Act
    const sorted = [...entries].sort((a, b) => (queueKey(a) < queueKey(b) ? -1 : 1));

    // Assess
    expect(ids(sorted)).toEqual(['r-c', 'r-z', 'r-a', 'r-b']);
  });
});

describe('liveHolders', () => {
  it('keeps leases running past now and drops those ending at or before it', () => {
    // Prepare
    const holders = [holder('r-running', 1), holder('r-ending-now', 0), holder('r-ended', -1)];

    // Act
    const live = liveHolders(holders, NOW);

    // Assess
    expect(ids(live)).toEqual(['r-running']);
  });
});

describe('liveQueue', () => {
  it('orders the entries by arrival, without holders and without entries untouched for the grace period', () => {
    // Prepare
    const entries = [
      stored(entry('r-3', 30)),
      stored(entry('r-holding', 5)),
      stored(entry('r-1', 10), -RULES.queueGraceSeconds + 1),
      stored(entry('r-gone', 0), -RULES.queueGraceSeconds),
      stored(entry('r-2', 20)),
    ];

    // Act
    const live = liveQueue(entries, [holder('r-holding')], NOW, RULES);

    // Assess
    expect(ids(live)).toEqual(['r-1', 'r-2', 'r-3']);
  });
});

describe('decideAcquire', () => {
  it('gives a free slot to a request with nobody ahead, on a fresh lease', () => {
    // Prepare
    const claimant = entry('r-1');

    // Act
    const decision = decideAcquire([holder('r-other')], [stored(claimant)], claimant, NOW, RULES);

    // Assess
    const expected: SlotHolder = { ...claimant, acquiredAt: NOW.toISOString(), leaseUntil: at(900).toISOString() };
    expect(decision).toEqual({ acquired: true, holder: expected, holders: [holder('r-other'), expected] });
  });

  it('never gives out more than the number of slots: with all taken it answers the place in the queue', () => {
    // Prepare
    const claimant = entry('r-new', 60);
    const queue = [stored(entry('r-earlier', 30)), stored(claimant)];

    // Act
    const decision = decideAcquire([holder('r-a'), holder('r-b')], queue, claimant, NOW, RULES);

    // Assess
    expect(decision).toEqual({ acquired: false, position: 2, holders: [holder('r-a'), holder('r-b')] });
  });

  it('refuses when more holders are stored than slots (the count was lowered)', () => {
    // Prepare
    const claimant = entry('r-new');

    // Act
    const decision = decideAcquire([holder('r-a'), holder('r-b'), holder('r-c')], [stored(claimant)], claimant, NOW, RULES);

    // Assess
    expect(decision.acquired).toBe(false);
  });

  it('does not let a later arrival take the last slot from an earlier waiter, even when it asks first', () => {
    // Prepare
    const earlier = entry('r-earlier', 10);
    const later = entry('r-later', 20);
    const queue = [stored(later), stored(earlier)];
    const holders = [holder('r-a')];

    // Act
    const laterAsks = decideAcquire(holders, queue, later, NOW, RULES);
    const earlierAsks = decideAcquire(holders, queue, earlier, NOW, RULES);

    // Assess
    expect(laterAsks).toEqual({ acquired: false, position: 2, holders });
    expect(earlierAsks.acquired).toBe(true);
  });

  it('serves only the head of the queue, one at a time, even with several slots free', () => {
    // Prepare
    const queue = [stored(entry('r-1', 10)), stored(entry('r-2', 20)), stored(entry('r-3', 30))];

    // Act
    const secondWithAllFree = decideAcquire([], queue, entry('r-2', 20), NOW, RULES);
    const third = decideAcquire([], queue, entry('r-3', 30), NOW, RULES);
    const first = decideAcquire([], queue, entry('r-1', 10), NOW, RULES);
    const firstStarted = first.acquired ? renewLease(first.holders, 'r-1', NOW, RULES, true) : undefined;
    const secondOnceFirstStarted = firstStarted ? decideAcquire(firstStarted, queue, entry('r-2', 20), NOW, RULES) : undefined;
    const thirdOnceFirstStarted = firstStarted ? decideAcquire(firstStarted, queue, entry('r-3', 30), NOW, RULES) : undefined;

    // Assess
    expect(secondWithAllFree).toEqual({ acquired: false, position: 2, holders: [] });
    expect(third).toMatchObject({ acquired: false, position: 3 });
    expect(first.acquired).toBe(true);
    expect(secondOnceFirstStarted?.acquired).toBe(true);
    expect(thirdOnceFirstStarted).toMatchObject({ acquired: false, position: 2 });
  });

  it('lets nobody in, not even the head of the queue to a free slot, while a holder has not started its job', () => {
    // Prepare
    const claimant = entry('r-head', 10);
    const queue = [stored(claimant), stored(entry('r-next', 20))];
    const holders = [holder('r-working'), starting('r-starting')];

    // Act
    const decision = decideAcquire(holders, queue, claimant, NOW, { ...RULES, count: 3 });

    // Assess
    expect(decision).toEqual({ acquired: false, position: 1, holders });
  });

  it('lets the head of the queue in once every holder has started its job', () => {
    // Prepare
    const claimant = entry('r-head', 10);
    const queue = [stored(claimant), stored(entry('r-next', 20))];
    const rules = { ...RULES, count: 3 };
    const holders = [holder('r-working'), starting('r-starting')];

    // Act
    const before = decideAcquire(holders, queue, claimant, NOW, rules);
    const onlyRenewed = decideAcquire(renewLease(holders, 'r-starting', NOW, rules)!, queue, claimant, NOW, rules);
    const afterStart = decideAcquire(renewLease(holders, 'r-starting', NOW, rules, true)!, queue, claimant, NOW, rules);

    // Assess
    expect(before.acquired).toBe(false);
    expect(onlyRenewed.acquired).toBe(false);
    expect(afterStart.acquired).toBe(true);
    expect(ids(afterStart.holders)).toEqual(['r-working', 'r-starting', 'r-head']);
    expect(afterStart.acquired && afterStart.holder.jobStartedAt).toBeUndefined();
  });

  it('no longer waits for a holder that crashed before starting its job, once its lease has run out', () => {
    // Prepare
    const claimant = entry('r-new');
    const queue = [stored(claimant)];

    // Act
    const whileLeased = decideAcquire([holder('r-a'), starting('r-crashed', 1)], queue, claimant, NOW, { ...RULES, count: 3 });
    const leaseOver = decideAcquire([holder('r-a'), starting('r-crashed', 0)], queue, claimant, NOW, { ...RULES, count: 3 });

    // Assess
    expect(whileLeased).toMatchObject({ acquired: false, position: 1 });
    expect(leaseOver.acquired).toBe(true);
    expect(ids(leaseOver.holders)).toEqual(['r-a', 'r-new']);
  });

  it('orders requests of the same moment by request id', () => {
    // Prepare
    const a = entry('r-a', 0);
    const b = entry('r-b', 0);
    const queue = [stored(b), stored(a)];

    // Act
    const bAsks = decideAcquire([holder('r-x')], queue, b, NOW, RULES);
    const aAsks = decideAcquire([holder('r-x')], queue, a, NOW, RULES);

    // Assess
    expect(bAsks).toMatchObject({ acquired: false, position: 2 });
    expect(aAsks.acquired).toBe(true);
  });

  it('lets a holder asking again keep its slot with a fresh lease, without taking a second one', () => {
    // Prepare
    const own = holder('r-own', 60);
    const claimant: QueueEntry = { requestId: own.requestId, helpdeskTicket: own.helpdeskTicket, mous: own.mous, arrivedAt: own.arrivedAt };
    const queue = [stored(entry('r-waiting', -9000))];

    // Act
    const decision = decideAcquire([holder('r-other'), own], queue, claimant, NOW, RULES);

    // Assess
    const renewed = { ...own, leaseUntil: at(900).toISOString() };
    expect(decision).toEqual({ acquired: true, holder: renewed, holders: [holder('r-other'), renewed] });
    expect(renewed.acquiredAt).toBe(own.acquiredAt);
    expect(renewed.jobStartedAt).toBe(own.jobStartedAt);
  });

  it('lets a holder that has not started its job yet, asking again, keep its slot, still not started', () => {
    // Prepare
    const own = starting('r-own', 60);
    const claimant: QueueEntry = { requestId: own.requestId, helpdeskTicket: own.helpdeskTicket, mous: own.mous, arrivedAt: own.arrivedAt };

    // Act
    const decision = decideAcquire([starting('r-other'), own], [], claimant, NOW, RULES);

    // Assess
    const renewed = { ...own, leaseUntil: at(900).toISOString() };
    expect(decision).toEqual({ acquired: true, holder: renewed, holders: [starting('r-other'), renewed] });
    expect(renewed).not.toHaveProperty('jobStartedAt');
  });

  it('frees the slot of a holder whose lease ran out (it stopped or crashed), and drops it', () => {
    // Prepare
    const claimant = entry('r-new');

    // Act
    const decision = decideAcquire([holder('r-crashed', -1), holder('r-a')], [stored(claimant)], claimant, NOW, { ...RULES, count: 2 });

    // Assess
    expect(decision.acquired).toBe(true);
    expect(ids(decision.holders)).toEqual(['r-a', 'r-new']);
  });

  it('treats a holder whose lease ran out as a new claimant, queued by its arrival', () => {
    // Prepare
    const expired = holder('r-expired', -1, 100);
    const claimant: QueueEntry = {
      requestId: expired.requestId,
      helpdeskTicket: expired.helpdeskTicket,
      mous: expired.mous,
      arrivedAt: expired.arrivedAt,
    };
    const queue = [stored(entry('r-earlier', 50)), stored(claimant)];

    // Act
    const decision = decideAcquire([expired, holder('r-a')], queue, claimant, NOW, RULES);

    // Assess
    expect(decision).toEqual({ acquired: false, position: 2, holders: [holder('r-a')] });
  });

  it('does not count a waiter ahead that went away (untouched past the grace period)', () => {
    // Prepare
    const claimant = entry('r-new', 60);
    const queue = [stored(entry('r-gone', 0), -RULES.queueGraceSeconds), stored(claimant)];

    // Act
    const decision = decideAcquire([holder('r-a')], queue, claimant, NOW, RULES);

    // Assess
    expect(decision.acquired).toBe(true);
  });

  it('still counts a waiter ahead touched just within the grace period', () => {
    // Prepare
    const claimant = entry('r-new', 60);
    const queue = [stored(entry('r-slow', 0), -RULES.queueGraceSeconds + 1), stored(claimant)];

    // Act
    const decision = decideAcquire([holder('r-a')], queue, claimant, NOW, RULES);

    // Assess
    expect(decision).toMatchObject({ acquired: false, position: 2 });
  });

  it('does not count an earlier request that holds a slot as waiting ahead', () => {
    // Prepare
    const claimant = entry('r-new', 60);
    const queue = [stored(entry('r-a', 0)), stored(claimant)];

    // Act
    const decision = decideAcquire([{ ...holder('r-a'), arrivedAt: entry('r-a', 0).arrivedAt }], queue, claimant, NOW, RULES);

    // Assess
    expect(decision.acquired).toBe(true);
  });

  it('gives a claimant whose entry is missing from the queue read its place by arrival all the same', () => {
    // Prepare
    const claimant = entry('r-new', 60);

    // Act
    const decision = decideAcquire([holder('r-a')], [stored(entry('r-later', 90)), stored(entry('r-earlier', 30))], claimant, NOW, RULES);

    // Assess
    expect(decision).toMatchObject({ acquired: false, position: 2 });
  });
});

describe('renewLease', () => {
  it('gives the holder a fresh lease and leaves the others as they are', () => {
    // Prepare
    const holders = [holder('r-a', 10), holder('r-b', 20)];

    // Act
    const renewed = renewLease(holders, 'r-b', NOW, RULES);

    // Assess
    expect(renewed).toEqual([holder('r-a', 10), { ...holder('r-b'), leaseUntil: at(900).toISOString() }]);
  });

  it('does not mark a job started when not told so', () => {
    // Prepare
    const holders = [starting('r-a', 10)];

    // Act
    const renewed = renewLease(holders, 'r-a', NOW, RULES);

    // Assess
    expect(renewed).toEqual([{ ...starting('r-a'), leaseUntil: at(900).toISOString() }]);
    expect(renewed![0]).not.toHaveProperty('jobStartedAt');
  });

  it("notes when the holder's job started, with a fresh lease, and leaves the others as they are", () => {
    // Prepare
    const holders = [starting('r-a', 10), starting('r-b', 20)];

    // Act
    const renewed = renewLease(holders, 'r-b', at(30), RULES, true);

    // Assess
    expect(renewed).toEqual([starting('r-a', 10), { ...starting('r-b'), leaseUntil: at(930).toISOString(), jobStartedAt: at(30).toISOString() }]);
  });

  it('notes the job start once: later renewals, told so again or not, keep the first time', () => {
    // Prepare
    const started = renewLease([starting('r-a', 10)], 'r-a', at(30), RULES, true)!;

    // Act
    const again = renewLease(started, 'r-a', at(60), RULES, true)!;
    const later = renewLease(again, 'r-a', at(90), RULES)!;

    // Assess
    expect(again[0]).toMatchObject({ jobStartedAt: at(30).toISOString(), leaseUntil: at(960).toISOString() });
    expect(later[0]).toMatchObject({ jobStartedAt: at(30).toISOString(), leaseUntil: at(990).toISOString() });
  });

  it('answers undefined for a request that holds no slot (any more), also when told its job started', () => {
    // Prepare
    const holders = [holder('r-a'), starting('r-b')];

    // Act
    const renewed = renewLease(holders, 'r-lost', NOW, RULES);
    const startedWithoutSlot = renewLease(holders, 'r-lost', NOW, RULES, true);

    // Assess
    expect(renewed).toBeUndefined();
    expect(startedWithoutSlot).toBeUndefined();
  });
});

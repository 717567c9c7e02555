/**
 * The seed's "up to two stagecalms instances at the same time", across all executions: N slots, held on
 * leases, and a queue in arrival order. Pure: the decisions, given what the store holds.
 *
 * A request joins the queue when it arrives (intake), so that one arriving earlier is ahead even if its
 * execution reaches the slots later. Only the head of the queue may take a free slot, and only once every holder
 * has started its job: requests are let in one at a time, oldest first, so their jobs also start on the cluster
 * in arrival order (two requests let in together would race to submit). When two slots free at once, the
 * second request waits an attempt or two longer.
 */

/** One request's place in the queue; its arrival time orders the queue. */
export interface QueueEntry {
  readonly requestId: string;
  readonly helpdeskTicket: string;
  readonly mous: string;
  /** ISO 8601, UTC: when the request arrived at intake. */
  readonly arrivedAt: string;
  /**
   * The execution that holds the place or slot (the request's own, or its re-drive's): once it has ended, the
   * place is given up. Absent in entries written before it was recorded: the request id, its first execution.
   */
  readonly execution?: string;
}

/** A queue entry as the store found it: when it was last written (joined, or renewed by a waiting execution). */
export interface StoredQueueEntry extends QueueEntry {
  readonly touchedAt: Date;
}

export interface SlotHolder extends QueueEntry {
  /** ISO 8601, UTC. */
  readonly acquiredAt: string;
  /** ISO 8601, UTC: renewed while the holder works; past it the slot is free again. */
  readonly leaseUntil: string;
  /** ISO 8601, UTC: when the holder's job was submitted to the cluster; until then nobody else is let in. */
  readonly jobStartedAt?: string;
}

export interface SlotRules {
  readonly count: number;
  readonly leaseSeconds: number;
  /** A queue entry untouched this long belongs to a request that went away. */
  readonly queueGraceSeconds: number;
}

/** Sorts like arrival: by arrival time, then request id (the MOUS of one ticket arrive together). */
export function queueKey(entry: QueueEntry): string {
  return `${entry.arrivedAt}_${entry.requestId}`;
}

export function liveHolders(holders: readonly SlotHolder[], now: Date): SlotHolder[] {
  return holders.filter((holder) => Date.parse(holder.leaseUntil) > now.getTime());
}

/** The queue in order, without holders and without the entries of requests that went away. */
export function liveQueue(entries: readonly StoredQueueEntry[], holders: readonly SlotHolder[], now: Date, rules: SlotRules): StoredQueueEntry[] {
  const holding = new Set(holders.map((holder) => holder.requestId));
  const cutoff = now.getTime() - rules.queueGraceSeconds * 1000;
  return entries
    .filter((entry) => !holding.has(entry.requestId) && entry.touchedAt.getTime() > cutoff)
    .sort((a, b) => (queueKey(a) < queueKey(b) ? -1 : queueKey(a) > queueKey(b) ? 1 : 0));
}

export type AcquireDecision =
  | { readonly acquired: true; readonly holders: SlotHolder[]; readonly holder: SlotHolder }
  /** `position` counts from 1: the number of requests ahead of it, plus one. */
  | { readonly acquired: false; readonly position: number; readonly holders: readonly SlotHolder[] };

/**
 * Whether `claimant` gets a slot now. Expired leases are dropped (their holders stopped or crashed); a holder
 * asking again keeps its slot with a fresh lease.
 */
export function decideAcquire(
  holders: readonly SlotHolder[],
  queue: readonly StoredQueueEntry[],
  claimant: QueueEntry,
  now: Date,
  rules: SlotRules,
): AcquireDecision {
  const live = liveHolders(holders, now);
  const leaseUntil = new Date(now.getTime() + rules.leaseSeconds * 1000).toISOString();
  const own = live.find((holder) => holder.requestId === claimant.requestId);
  if (own) {
    const renewed = { ...own, leaseUntil };
    return { acquired: true, holder: renewed, holders: live.map((holder) => (holder === own ? renewed : holder)) };
  }
  const ahead = liveQueue(queue, live, now, rules).filter((entry) => queueKey(entry) < queueKey(claimant)).length;
  const starting = live.some((holder) => holder.jobStartedAt === undefined);
  if (ahead === 0 && live.length < rules.count && !starting) {
    const holder: SlotHolder = { ...claimant, acquiredAt: now.toISOString(), leaseUntil };
    return { acquired: true, holder, holders: [...live, holder] };
  }
  return { acquired: false, position: ahead + 1, holders: live };
}

/** The execution holding `entry`'s place or slot. */
export function executionOf(entry: QueueEntry): string {
  return entry.execution ?? entry.requestId;
}

/** A slot is open to the head of the queue: one is free, and every holder has started its job. */
export function hasOpenSlot(holders: readonly SlotHolder[], now: Date, rules: SlotRules): boolean {
  const live = liveHolders(holders, now);
  return live.length < rules.count && live.every((holder) => holder.jobStartedAt !== undefined);
}

/**
 * Who keeps `claimant` from a slot, when it did not get one: the head of the queue if requests are ahead of it
 * (only the head may take a slot), else the holders (every slot taken, or one still starting its job). If one of
 * them belongs to an execution that has ended, its place or slot is given up at once.
 */
export function blockersOf(
  holders: readonly SlotHolder[],
  queue: readonly StoredQueueEntry[],
  claimant: QueueEntry,
  now: Date,
  rules: SlotRules,
): QueueEntry[] {
  const live = liveHolders(holders, now);
  const head = liveQueue(queue, live, now, rules).find((entry) => entry.requestId !== claimant.requestId);
  if (head && queueKey(head) < queueKey(claimant)) return [head];
  return live.filter((holder) => holder.requestId !== claimant.requestId);
}

/**
 * A fresh lease for `requestId` (and with `jobStarted`, the note that its job is on the cluster, unless an
 * earlier note says so already), or undefined when it holds no slot (any more).
 */
export function renewLease(
  holders: readonly SlotHolder[],
  requestId: string,
  now: Date,
  rules: SlotRules,
  jobStarted = false,
): SlotHolder[] | undefined {
  const leaseUntil = new Date(now.getTime() + rules.leaseSeconds * 1000).toISOString();
  if (!holders.some((holder) => holder.requestId === requestId)) return undefined;
  return holders.map((holder) => {
    if (holder.requestId !== requestId) return holder;
    const jobStartedAt = holder.jobStartedAt ?? (jobStarted ? now.toISOString() : undefined);
    return jobStartedAt === undefined ? { ...holder, leaseUntil } : { ...holder, leaseUntil, jobStartedAt };
  });
}

/**
 * The staging slots as the steps use them: join the queue on arrival, acquire a slot (or learn one's place),
 * renew the lease while working, release on every way out. Every operation is idempotent, so a retried or
 * re-driven step does no harm.
 */
import { decideAcquire, liveHolders, liveQueue, type QueueEntry, renewLease, type SlotHolder, type SlotRules, type StoredQueueEntry } from '../domain/slots';
import { type MousRequest, requestLogKeys } from '../domain/request';
import type { Logger } from '../log';
import type { SlotStore } from '../storage/SlotStore';

export type AcquireOutcome =
  | { readonly acquired: true; readonly leaseUntil: string }
  /** `waitSeconds`: how long to wait before asking again (the state machine's Wait reads it). */
  | { readonly acquired: false; readonly position: number; readonly holders: readonly string[]; readonly waitSeconds: number };

/** What operators see (`calms queue`): who holds the slots, and who waits, in order. */
export interface QueueView {
  readonly slots: number;
  readonly holders: readonly SlotHolder[];
  readonly waiting: readonly (QueueEntry & { readonly position: number })[];
}

export function queueEntryOf(request: MousRequest): QueueEntry {
  return { requestId: request.requestId, helpdeskTicket: request.helpdeskTicket, mous: request.mous, arrivedAt: request.requestedAt };
}

export class StagingQueue {
  constructor(
    private readonly store: SlotStore,
    private readonly rules: SlotRules & { readonly waitSeconds: number },
    private readonly now: () => Date,
    private readonly log: Logger,
  ) {}

  join(request: MousRequest): Promise<void> {
    return this.store.joinQueue(queueEntryOf(request));
  }

  /** Leaves the queue without having needed a slot (not entitled, re-used, failed before calibrating). */
  leave(request: MousRequest): Promise<void> {
    return this.store.leaveQueue(queueEntryOf(request));
  }

  async acquire(request: MousRequest): Promise<AcquireOutcome> {
    const entry = queueEntryOf(request);
    const log = this.log.with(requestLogKeys(request));
    // Renewing the entry keeps the place of a request that waits longer than the grace period.
    await this.store.joinQueue(entry);
    const queue = await this.store.readQueue();
    await this.forgetDeparted(queue);
    const now = this.now();
    const decision = await this.store.updateHolders((holders) => {
      const decided = decideAcquire(holders, queue, entry, now, this.rules);
      const changed = decided.acquired || decided.holders.length !== holders.length;
      return { holders: changed ? decided.holders : undefined, result: decided };
    });
    if (decision.acquired) {
      await this.store.leaveQueue(entry);
      log.info('staging slot acquired', { leaseUntil: decision.holder.leaseUntil });
      return { acquired: true, leaseUntil: decision.holder.leaseUntil };
    }
    const holders = decision.holders.map((holder) => holder.requestId);
    log.info('waiting for a staging slot', { position: decision.position, holders: holders.join(',') });
    return { acquired: false, position: decision.position, holders, waitSeconds: this.rules.waitSeconds };
  }

  /**
   * A fresh lease; with `jobStarted`, also the note that the holder's job is on the cluster, which lets the next
   * request in. A holder that lost its slot (it was silent past its lease) is told in the log.
   */
  async renew(requestId: string, jobStarted = false): Promise<boolean> {
    const now = this.now();
    const held = await this.store.updateHolders((holders) => {
      const renewed = renewLease(holders, requestId, now, this.rules, jobStarted);
      return { holders: renewed, result: renewed !== undefined };
    });
    if (!held) this.log.warn('staging slot lease lost: renewed too late, the slot went to another request', { requestId });
    return held;
  }

  /** Gives the slot back (if held) and the place in the queue (if any). */
  async release(request: MousRequest): Promise<void> {
    const released = await this.store.updateHolders((holders) => {
      const rest = holders.filter((holder) => holder.requestId !== request.requestId);
      return { holders: rest.length === holders.length ? undefined : rest, result: rest.length !== holders.length };
    });
    await this.store.leaveQueue(queueEntryOf(request));
    if (released) this.log.info('staging slot released', requestLogKeys(request));
  }

  async view(): Promise<QueueView> {
    const now = this.now();
    const holders = liveHolders(await this.store.readHolders(), now);
    const waiting = liveQueue(await this.store.readQueue(), holders, now, this.rules).map(({ touchedAt: _touched, ...entry }, index) => ({
      ...entry,
      position: index + 1,
    }));
    return { slots: this.rules.count, holders, waiting };
  }

  /** Entries untouched past the grace period belong to executions that ended without leaving the queue. */
  private async forgetDeparted(queue: readonly StoredQueueEntry[]): Promise<void> {
    const cutoff = this.now().getTime() - this.rules.queueGraceSeconds * 1000;
    for (const entry of queue.filter((candidate) => candidate.touchedAt.getTime() <= cutoff)) {
      await this.store.leaveQueue(entry);
      this.log.info('queue entry given up: its request did not come back for it', { requestId: entry.requestId });
    }
  }
}

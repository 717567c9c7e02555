/**
 * The staging slots as the steps use them: join the queue on arrival, acquire a slot (or learn one's place),
 * wait for one, renew the lease while working, release on every way out. Every operation is idempotent, so a
 * retried or re-driven step does no harm.
 *
 * The dead hold nothing: when a request finds itself kept from a slot, it asks Step Functions whether the
 * executions in its way (the head of the queue, or the holders) still run, and gives up the place or slot of one
 * that has ended, whatever its status (stopped by hand, timed out, failed), at once rather than after its grace
 * period or lease.
 */
import {
  blockersOf,
  decideAcquire,
  executionOf,
  hasOpenSlot,
  liveHolders,
  liveQueue,
  type QueueEntry,
  renewLease,
  type SlotHolder,
  type SlotRules,
  type StoredQueueEntry,
} from '../domain/slots';
import { attemptExecutionName } from '../domain/redrive';
import { type MousRequest, requestLogKeys } from '../domain/request';
import { timeLeftMs } from '../invocation';
import type { Logger } from '../log';
import type { SlotStore } from '../storage/SlotStore';
import type { Executions, ExecutionStatus } from '../workflow/Workflow';

export type AcquireOutcome =
  | { readonly acquired: true; readonly leaseUntil: string }
  | { readonly acquired: false; readonly position: number; readonly holders: readonly string[] };

export interface QueueTiming {
  /** Seconds between two looks at the slots while a request waits for one. */
  readonly waitSeconds: number;
  /** How long one waiting step waits before it hands over to the next (less if its invocation has less left). */
  readonly stepSeconds: number;
}

interface Ended {
  readonly entry: QueueEntry;
  readonly status: ExecutionStatus;
}

/** A waiting request renews its place this many times per grace period, so it is never taken for gone. */
const RENEWALS_PER_GRACE = 3;
/** A look gives up at most this many dead places or slots before it answers. */
const MAX_GIVE_UPS_PER_LOOK = 10;

/** What operators see (`calms queue`): who holds the slots, and who waits, in order. */
export interface QueueView {
  readonly slots: number;
  readonly holders: readonly SlotHolder[];
  readonly waiting: readonly (QueueEntry & { readonly position: number })[];
}

export function queueEntryOf(request: MousRequest): QueueEntry {
  return {
    requestId: request.requestId,
    helpdeskTicket: request.helpdeskTicket,
    mous: request.mous,
    arrivedAt: request.requestedAt,
    execution: attemptExecutionName(request.requestId, request.redrive ?? 0),
  };
}

export class StagingQueue {
  constructor(
    private readonly store: SlotStore,
    private readonly rules: SlotRules & QueueTiming,
    private readonly now: () => Date,
    private readonly log: Logger,
    /** Step Functions: whether the execution holding a place or slot still runs. */
    private readonly executions: Pick<Executions, 'describe'>,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  join(request: MousRequest): Promise<void> {
    return this.store.joinQueue(queueEntryOf(request));
  }

  /** Leaves the queue without having needed a slot (not entitled, re-used, failed before calibrating). */
  leave(request: MousRequest): Promise<void> {
    return this.store.leaveQueue(queueEntryOf(request));
  }

  /** One look: a slot if the queue allows, else the request's place (renewed, so it is kept while it waits). */
  async acquire(request: MousRequest): Promise<AcquireOutcome> {
    const entry = queueEntryOf(request);
    await this.store.joinQueue(entry);
    const outcome = await this.look(entry);
    if (!outcome.acquired) {
      this.log.with(requestLogKeys(request)).info('waiting for a staging slot', { position: outcome.position, holders: outcome.holders.join(',') });
    }
    return outcome;
  }

  /**
   * Waits inside this invocation for a slot, for at most the configured step (less if the invocation has less
   * left), looking every `waitSeconds`: the history gets one step per `stepSeconds` of waiting, and a freed slot
   * is taken within one look. Between looks only the holders are read (one small object); the whole queue only
   * when a slot is open, when the request is at the head, and to renew its place.
   */
  async waitForSlot(request: MousRequest): Promise<AcquireOutcome> {
    const entry = queueEntryOf(request);
    const pollMs = this.rules.waitSeconds * 1000;
    const renewMs = (this.rules.queueGraceSeconds * 1000) / RENEWALS_PER_GRACE;
    const started = this.now().getTime();
    const until = started + Math.min(this.rules.stepSeconds * 1000, timeLeftMs(started) ?? Infinity);
    await this.store.joinQueue(entry);
    let renewedAt = started;
    let outcome = await this.look(entry);
    // The last look is at the step's end, so each step waits its whole length.
    while (!outcome.acquired && this.now().getTime() < until) {
      await this.sleep(Math.min(pollMs, until - this.now().getTime()));
      const now = this.now();
      if (now.getTime() - renewedAt >= renewMs) {
        await this.store.joinQueue(entry);
        renewedAt = now.getTime();
      } else if (outcome.position > 1 && !hasOpenSlot(await this.store.readHolders(), now, this.rules)) {
        continue;
      }
      outcome = await this.look(entry);
    }
    if (!outcome.acquired) {
      this.log.with(requestLogKeys(request)).info('waiting for a staging slot', { position: outcome.position, holders: outcome.holders.join(',') });
    }
    return outcome;
  }

  /**
   * Decides once; kept from a slot by an execution that has ended, gives up its place or slot and decides again.
   */
  private async look(entry: QueueEntry): Promise<AcquireOutcome> {
    for (let giveUps = 0; ; giveUps += 1) {
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
        this.log.with(requestLogKeys(entry)).info('staging slot acquired', { leaseUntil: decision.holder.leaseUntil });
        return { acquired: true, leaseUntil: decision.holder.leaseUntil };
      }
      const waiting = { acquired: false as const, position: decision.position, holders: decision.holders.map((holder) => holder.requestId) };
      if (giveUps >= MAX_GIVE_UPS_PER_LOOK) return waiting;
      const dead = await this.ended(blockersOf(decision.holders, queue, entry, now, this.rules));
      if (dead.length === 0) return waiting;
      await this.giveUp(dead, decision.holders);
    }
  }

  /**
   * Of `entries`, those whose execution has ended. One that Step Functions does not know (intake writes the
   * place before it starts the execution), or cannot tell about now, counts as alive: its lease or grace period
   * still ends it.
   */
  private async ended(entries: readonly QueueEntry[]): Promise<Ended[]> {
    const found = await Promise.all(
      entries.map(async (entry): Promise<Ended | undefined> => {
        try {
          const execution = await this.executions.describe(executionOf(entry));
          return execution && execution.status !== 'RUNNING' ? { entry, status: execution.status } : undefined;
        } catch (error) {
          this.log.warn('could not tell whether an execution in the staging queue still runs', { execution: executionOf(entry), error });
          return undefined;
        }
      }),
    );
    return found.filter((dead): dead is Ended => dead !== undefined);
  }

  /** Idempotent: the watcher of executions' ends may have given them up already. */
  private async giveUp(dead: readonly Ended[], holders: readonly SlotHolder[]): Promise<void> {
    for (const { entry, status } of dead) {
      const held = holders.find((holder) => holder.requestId === entry.requestId && executionOf(holder) === executionOf(entry));
      if (held) {
        await this.store.updateHolders((current) => {
          const rest = current.filter((holder) => !(holder.requestId === held.requestId && holder.acquiredAt === held.acquiredAt));
          return { holders: rest.length === current.length ? undefined : rest, result: undefined };
        });
        this.log.warn('staging slot given up: its execution has ended', { givenUp: entry.requestId, execution: executionOf(entry), status });
      } else {
        await this.store.leaveQueue(entry);
        this.log.warn('queue place given up: its execution has ended', { givenUp: entry.requestId, execution: executionOf(entry), status });
      }
    }
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

  /**
   * What operators see. Looking is enough to give up the place or slot of an execution that has ended and keeps
   * others waiting, so the view never shows free slots with requests waiting behind a dead one.
   */
  async view(): Promise<QueueView> {
    for (let giveUps = 0; ; giveUps += 1) {
      const now = this.now();
      const stored = await this.store.readHolders();
      const holders = liveHolders(stored, now);
      const queue = liveQueue(await this.store.readQueue(), holders, now, this.rules);
      const blockers = queue.length === 0 ? [] : hasOpenSlot(holders, now, this.rules) ? [queue[0]!] : holders;
      const dead = giveUps < MAX_GIVE_UPS_PER_LOOK ? await this.ended(blockers) : [];
      if (dead.length > 0) {
        await this.giveUp(dead, stored);
        continue;
      }
      const waiting = queue.map(({ touchedAt: _touched, ...entry }, index) => ({ ...entry, position: index + 1 }));
      return { slots: this.rules.count, holders, waiting };
    }
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

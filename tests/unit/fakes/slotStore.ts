import { type QueueEntry, queueKey, type SlotHolder, type SlotRules, type StoredQueueEntry } from '../../../lib/domain/slots';
import type { MousRequest } from '../../../lib/domain/request';
import type { HoldersChange, SlotStore } from '../../../lib/storage/SlotStore';
import { type QueueTiming, queueEntryOf, StagingQueue } from '../../../lib/slots/StagingQueue';
import type { ExecutionDetail, Executions, ExecutionStatus } from '../../../lib/workflow/Workflow';
import { StorageUnavailableError } from '../../../lib/errors';
import { Failures } from './failures';
import { RecordingLogger } from './logger';

type Method = keyof SlotStore;

/** One call the fake received, with the request it was about (none for the reads). */
export interface SlotStoreCall {
  readonly method: Method;
  readonly requestId?: string;
}

/** A write of the holders by "another execution", run between the read and the write of `updateHolders`. */
export type InterleavedWrite = (holders: readonly SlotHolder[]) => readonly SlotHolder[];

const MAX_ATTEMPTS = 25;

/**
 * An in-memory `SlotStore` with the semantics of the S3 one: the holders are one versioned value replaced only
 * if nobody wrote since it was read (retrying `change` on a conflict), queue entries are one per request and
 * carry the time they were last written (`touchedAt`, from the store's settable clock).
 *
 * `updateHolders` yields to the event loop between its read and its write, so concurrent callers really race and
 * conflict; `interleave(write)` makes another execution's write land in exactly that gap, once.
 */
export class InMemorySlotStore implements SlotStore {
  /** Queue entries by their key (arrival, then request id), as the S3 store names its objects. */
  readonly entries = new Map<string, StoredQueueEntry>();
  readonly calls: SlotStoreCall[] = [];
  readonly failures = new Failures<Method>();
  /** Writes of the holders that took effect, and attempts refused because somebody wrote first. */
  holderWrites = 0;
  conflicts = 0;
  /** Called after every holders write, with the holders written (a test can check an invariant here). */
  onHoldersWritten: (holders: readonly SlotHolder[]) => void = () => undefined;

  private holders: readonly SlotHolder[] = [];
  private version = 0;
  private readonly interleaved: InterleavedWrite[] = [];

  constructor(private clock: Date = new Date('2026-11-24T12:00:00Z')) {}

  /** The store's clock: `touchedAt` of the entries written now. */
  readonly now = (): Date => this.clock;

  setNow(at: Date): void {
    this.clock = at;
  }

  advance(seconds: number): Date {
    this.clock = new Date(this.clock.getTime() + seconds * 1000);
    return this.clock;
  }

  /** Lets another execution write the holders between the next read and write of `updateHolders`. */
  interleave(write: InterleavedWrite): void {
    this.interleaved.push(write);
  }

  /** Puts holders in place, as earlier executions would have left them. */
  seedHolders(holders: readonly SlotHolder[]): void {
    this.holders = structuredClone(holders);
    this.version += 1;
  }

  /**
   * `request` holding a slot since `acquiredAt` until `leaseUntil` (default: the store's clock plus 15 minutes),
   * its job started on the cluster at `jobStartedAt`. Without `jobStartedAt` the holder is still starting its
   * job, and nobody else is let in until it has.
   */
  seedHolder(request: MousRequest | QueueEntry, options: { acquiredAt?: Date; leaseUntil?: Date; jobStartedAt?: Date } = {}): SlotHolder {
    const entry = 'triggerName' in request ? queueEntryOf(request) : request;
    const holder: SlotHolder = {
      ...entry,
      acquiredAt: (options.acquiredAt ?? this.clock).toISOString(),
      leaseUntil: (options.leaseUntil ?? new Date(this.clock.getTime() + 900_000)).toISOString(),
      ...(options.jobStartedAt ? { jobStartedAt: options.jobStartedAt.toISOString() } : {}),
    };
    this.seedHolders([...this.holders.filter((other) => other.requestId !== holder.requestId), holder]);
    return holder;
  }

  /** A queue entry written at `touchedAt` (default: now). */
  seedEntry(request: MousRequest | QueueEntry, touchedAt: Date = this.clock): void {
    const entry = 'triggerName' in request ? queueEntryOf(request) : request;
    this.entries.set(queueKey(entry), { ...entry, touchedAt });
  }

  /** The holders as stored, expired leases included. */
  currentHolders(): SlotHolder[] {
    return structuredClone([...this.holders]);
  }

  holderOf(requestId: string): SlotHolder | undefined {
    return this.currentHolders().find((holder) => holder.requestId === requestId);
  }

  /** Request ids of the queue entries, in queue order. */
  queued(): string[] {
    return [...this.entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry.requestId);
  }

  callsOf(method: Method): SlotStoreCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  async joinQueue(entry: QueueEntry): Promise<void> {
    this.record('joinQueue', entry.requestId);
    const { requestId, helpdeskTicket, mous, arrivedAt, execution } = entry;
    this.entries.set(queueKey(entry), { requestId, helpdeskTicket, mous, arrivedAt, ...(execution ? { execution } : {}), touchedAt: this.clock });
  }

  async leaveQueue(entry: QueueEntry): Promise<void> {
    this.record('leaveQueue', entry.requestId);
    this.entries.delete(queueKey(entry));
  }

  async readQueue(): Promise<StoredQueueEntry[]> {
    this.record('readQueue');
    return [...this.entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => ({ ...entry }));
  }

  async readHolders(): Promise<SlotHolder[]> {
    this.record('readHolders');
    return this.currentHolders();
  }

  async updateHolders<T>(change: (holders: readonly SlotHolder[]) => HoldersChange<T>): Promise<T> {
    this.record('updateHolders');
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const readVersion = this.version;
      const { holders: next, result } = change(this.currentHolders());
      if (!next) return result;
      // The write travels on a later turn of the event loop; others may write first.
      await new Promise((resolve) => setImmediate(resolve));
      const other = this.interleaved.shift();
      if (other) this.write(other(this.currentHolders()));
      if (this.version !== readVersion) {
        this.conflicts += 1;
        continue;
      }
      this.write(next);
      return result;
    }
    throw new StorageUnavailableError(`the staging slot holders changed ${MAX_ATTEMPTS} times`);
  }

  private write(holders: readonly SlotHolder[]): void {
    this.holders = structuredClone([...holders]);
    this.version += 1;
    this.holderWrites += 1;
    this.onHoldersWritten(this.currentHolders());
  }

  private record(method: Method, requestId?: string): void {
    this.calls.push({ method, requestId });
    this.failures.check(method);
  }
}

export type StagingQueueRules = SlotRules & QueueTiming;

export const DEFAULT_SLOT_RULES: StagingQueueRules = { count: 2, leaseSeconds: 900, queueGraceSeconds: 3600, waitSeconds: 60, stepSeconds: 840 };

/**
 * Step Functions as the staging queue asks it: the status of each execution set here (`end` it to make it
 * dead); one never set is unknown to it, as an execution intake has not started yet. Records every name asked.
 */
export class FakeExecutionStatuses implements Pick<Executions, 'describe'> {
  readonly asked: string[] = [];
  readonly failures = new Failures<'describe'>();
  private readonly statuses = new Map<string, ExecutionStatus>();

  run(execution: string): void {
    this.statuses.set(execution, 'RUNNING');
  }

  end(execution: string, status: ExecutionStatus = 'ABORTED'): void {
    this.statuses.set(execution, status);
  }

  async describe(name: string): Promise<ExecutionDetail | undefined> {
    this.asked.push(name);
    this.failures.check('describe');
    const status = this.statuses.get(name);
    return status === undefined ? undefined : { name, executionArn: `arn:${name}`, status, startedAt: '2026-11-24T12:00:00.000Z', input: {} };
  }
}

/**
 * A `StagingQueue` over `store` (a new one unless given), with the rules given (the defaults otherwise), on the
 * store's clock unless another is given. Its log is returned to look at.
 */
export function fakeStagingQueue(
  options: {
    store?: InMemorySlotStore;
    rules?: Partial<StagingQueueRules>;
    now?: () => Date;
    log?: RecordingLogger;
    executions?: FakeExecutionStatuses;
    /** Waits between looks; by default the store's clock moves on by the time asked. */
    sleep?: (ms: number) => Promise<void>;
  } = {},
): { queue: StagingQueue; store: InMemorySlotStore; log: RecordingLogger; rules: StagingQueueRules; executions: FakeExecutionStatuses } {
  const store = options.store ?? new InMemorySlotStore();
  const rules = { ...DEFAULT_SLOT_RULES, ...options.rules };
  const log = options.log ?? new RecordingLogger();
  const executions = options.executions ?? new FakeExecutionStatuses();
  const sleep = options.sleep ?? (async (ms: number) => void store.advance(ms / 1000));
  const queue = new StagingQueue(store, rules, options.now ?? store.now, log, executions, sleep);
  return { queue, store, log, rules, executions };
}

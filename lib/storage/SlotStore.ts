/**
 * Where the staging slots and their queue are kept. The holders change only by {@link SlotStore.updateHolders},
 * which must be atomic across all executions (S3: a conditional write on one object); queue entries are one
 * object per request, written by their own request only, so they need no condition.
 * Implementations throw `StorageUnavailableError` when the store does not answer.
 */
import type { QueueEntry, SlotHolder, StoredQueueEntry } from '../domain/slots';

export interface HoldersChange<T> {
  /** The new holders; undefined to leave them as they are. */
  readonly holders?: readonly SlotHolder[];
  readonly result: T;
}

export interface SlotStore {
  /** Writes the request's queue entry, or renews it (its `touchedAt` becomes now). */
  joinQueue(entry: QueueEntry): Promise<void>;
  /** Idempotent. */
  leaveQueue(entry: QueueEntry): Promise<void>;
  readQueue(): Promise<StoredQueueEntry[]>;
  readHolders(): Promise<SlotHolder[]>;
  /**
   * Reads the holders, applies `change` and writes the result only if nobody else wrote in between; on a
   * conflict it reads again and applies `change` again, so `change` must be a pure function of the holders.
   */
  updateHolders<T>(change: (holders: readonly SlotHolder[]) => HoldersChange<T>): Promise<T>;
}

/**
 * The trigger records of the procedure: one per MOUS request, kept until the MOUS is completely processed,
 * so that a second request for a MOUS still in work is noticed.
 */
import type { MousRequest } from '../domain/request';

export interface TriggerRecord {
  /** `trigger-<MOUS>-YYYY-MM-DDThh-mm-ss.txt` */
  readonly name: string;
  readonly mous: string;
  readonly requestId: string;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
}

/** The trigger a request was accepted under: intake records it, the request's way out removes it. */
export function triggerRecordOf(request: MousRequest): TriggerRecord {
  return { name: request.triggerName, mous: request.mous, requestId: request.requestId, createdAt: request.requestedAt };
}

export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly existing: TriggerRecord };

/** The port. Implementations throw `StorageUnavailableError` when the store does not answer. */
export interface TriggerStore {
  /**
   * Records the trigger and its text, unless a trigger for the same MOUS is still active; with `force` it is
   * recorded anyway. Two concurrent claims for one MOUS: exactly one wins where the store is atomic.
   */
  claim(trigger: TriggerRecord, text: string, force: boolean): Promise<ClaimResult>;
  /** Removes the trigger; the MOUS is free again unless a later (forced) request holds it. Idempotent. */
  remove(trigger: TriggerRecord): Promise<void>;
  listActive(): Promise<TriggerRecord[]>;
}

import type { ClaimResult, TriggerRecord, TriggerStore } from '../../../lib/storage/TriggerStore';
import { Failures } from './failures';

/**
 * An atomic in-memory `TriggerStore` with the semantics of the S3 one: one active claim per MOUS, `force`
 * replaces it, `remove` deletes the trigger text and frees the MOUS only when the claim is this request's.
 */
export class InMemoryTriggerStore implements TriggerStore {
  /** Trigger texts by trigger name, as operators would read them. */
  readonly texts = new Map<string, string>();
  /** The request holding each MOUS. */
  readonly claims = new Map<string, TriggerRecord>();
  readonly calls: { readonly method: 'claim' | 'remove' | 'listActive'; readonly trigger?: TriggerRecord; readonly force?: boolean }[] = [];
  readonly failures = new Failures<'claim' | 'remove' | 'listActive'>();

  /** Puts an active trigger in place, as an earlier request would have left it. */
  seed(trigger: TriggerRecord, text = `trigger text of ${trigger.name}\n`): void {
    this.claims.set(trigger.mous, trigger);
    this.texts.set(trigger.name, text);
  }

  async claim(trigger: TriggerRecord, text: string, force: boolean): Promise<ClaimResult> {
    this.calls.push({ method: 'claim', trigger, force });
    this.failures.check('claim');
    const existing = this.claims.get(trigger.mous);
    if (existing && !force) return { claimed: false, existing };
    this.claims.set(trigger.mous, trigger);
    this.texts.set(trigger.name, text);
    return { claimed: true };
  }

  async remove(trigger: TriggerRecord): Promise<void> {
    this.calls.push({ method: 'remove', trigger });
    this.failures.check('remove');
    this.texts.delete(trigger.name);
    if (this.claims.get(trigger.mous)?.requestId === trigger.requestId) this.claims.delete(trigger.mous);
  }

  async listActive(): Promise<TriggerRecord[]> {
    this.calls.push({ method: 'listActive' });
    this.failures.check('listActive');
    return [...this.claims.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Calls of one method, in order. */
  callsOf(method: 'claim' | 'remove' | 'listActive') {
    return this.calls.filter((call) => call.method === method);
  }
}

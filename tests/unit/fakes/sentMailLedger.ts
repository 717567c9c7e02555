import type { SentMailLedger } from '../../../lib/mail/SentMailLedger';
import { Failures } from './failures';

/** An in-memory `SentMailLedger`: `requestId/kind` → Message-ID and whether the send was confirmed. */
export class InMemorySentMailLedger implements SentMailLedger {
  readonly records = new Map<string, string>();
  readonly confirmed = new Set<string>();
  readonly failures = new Failures<'claim' | 'confirm' | 'release' | 'wasSent'>();

  async claim(requestId: string, kind: string, messageId: string): Promise<'claimed' | 'sending' | 'sent'> {
    this.failures.check('claim');
    const key = `${requestId}/${kind}`;
    if (this.records.has(key)) return this.confirmed.has(key) ? 'sent' : 'sending';
    this.records.set(key, messageId);
    return 'claimed';
  }

  async confirm(requestId: string, kind: string, messageId: string): Promise<void> {
    this.failures.check('confirm');
    this.records.set(`${requestId}/${kind}`, messageId);
    this.confirmed.add(`${requestId}/${kind}`);
  }

  async release(requestId: string, kind: string): Promise<void> {
    this.failures.check('release');
    this.records.delete(`${requestId}/${kind}`);
  }

  async wasSent(requestId: string, kind: string): Promise<boolean> {
    this.failures.check('wasSent');
    return this.records.has(`${requestId}/${kind}`);
  }

  /** The Message-ID recorded for `kind`, if that email was claimed. */
  messageIdOf(requestId: string, kind: string): string | undefined {
    return this.records.get(`${requestId}/${kind}`);
  }
}

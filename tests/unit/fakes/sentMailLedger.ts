import type { SentMailLedger } from '../../../lib/mail/SentMailLedger';
import { Failures } from './failures';

/** An in-memory `SentMailLedger`: `requestId/kind` → Message-ID. */
export class InMemorySentMailLedger implements SentMailLedger {
  readonly records = new Map<string, string>();
  readonly failures = new Failures<'wasSent' | 'recordSent'>();

  async wasSent(requestId: string, kind: string): Promise<boolean> {
    this.failures.check('wasSent');
    return this.records.has(`${requestId}/${kind}`);
  }

  async recordSent(requestId: string, kind: string, messageId: string): Promise<void> {
    this.failures.check('recordSent');
    this.records.set(`${requestId}/${kind}`, messageId);
  }

  /** The Message-ID recorded for `kind`, if that email was sent. */
  messageIdOf(requestId: string, kind: string): string | undefined {
    return this.records.get(`${requestId}/${kind}`);
  }
}

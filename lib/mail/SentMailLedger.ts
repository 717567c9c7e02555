/**
 * Remembers which emails of a request went out, so that a retried or re-driven step never sends one twice.
 */
export interface SentMailLedger {
  wasSent(requestId: string, kind: string): Promise<boolean>;
  recordSent(requestId: string, kind: string, messageId: string): Promise<void>;
}

/** The ledger's kind of the CANCELLED email, recorded last by a cancel: the sign that a request was cancelled. */
export const CANCELLED_KIND = 'cancelled';

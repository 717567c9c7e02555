/**
 * Remembers which emails of a request went out, so that a retried or re-driven step never sends one twice.
 * The intent to send is recorded before the email goes to the relay and confirmed once the relay took it, so a
 * ledger that cannot be written stops the send rather than a repeat of it.
 */
export interface SentMailLedger {
  /**
   * Records the intent to send this request's `kind` email, unless a record of it exists: one caller wins, and
   * what the others find is said by the answer. A record `sending` is one whose send was never confirmed.
   */
  claim(requestId: string, kind: string, messageId: string): Promise<'claimed' | 'sending' | 'sent'>;
  /** The relay took the email. */
  confirm(requestId: string, kind: string, messageId: string): Promise<void>;
  /** The relay did not take it: the claim goes, so that a retry sends it. */
  release(requestId: string, kind: string): Promise<void>;
  /** Whether the email was claimed: sent, or being sent, or in doubt. */
  wasSent(requestId: string, kind: string): Promise<boolean>;
}

/** The ledger's kind of the user's download email: once recorded, the user has a link (and may be sent it again). */
export const DOWNLOAD_EMAIL_KIND = 'delivered';

/** The ledger's kind of the CANCELLED email, recorded last by a cancel: the sign that a request was cancelled. */
export const CANCELLED_KIND = 'cancelled';

import type { Logger } from '../log';
import type { SentMailLedger } from './SentMailLedger';
import type { MailMessage, Mailer } from './Mailer';

/**
 * Sends `message` unless the ledger says this request's `kind` email already went out. The record is written
 * after the relay accepted the message, so a crash in between can repeat it once; the Message-ID stays the
 * same, so mail clients show the repeat as the same message.
 */
export async function sendOnce(
  deps: { mailer: Mailer; ledger: SentMailLedger; log: Logger },
  requestId: string,
  kind: string,
  message: MailMessage,
): Promise<'sent' | 'already sent'> {
  if (await deps.ledger.wasSent(requestId, kind)) {
    deps.log.info('email already sent, not sending again', { kind, messageId: message.messageId });
    return 'already sent';
  }
  await deps.mailer.send(message);
  await deps.ledger.recordSent(requestId, kind, message.messageId);
  deps.log.info('email sent', { kind, messageId: message.messageId, subject: message.subject });
  return 'sent';
}

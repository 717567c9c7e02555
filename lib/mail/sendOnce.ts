import type { Logger } from '../log';
import type { SentMailLedger } from './SentMailLedger';
import type { MailMessage, Mailer } from './Mailer';

/**
 * Sends `message` unless this request's `kind` email was already claimed. The claim is a conditional write made
 * before the relay is called, so a ledger that cannot be written sends nothing (the step fails and is retried),
 * and a ledger that fails after the claim cannot make a retry send again.
 *
 * The window of doubt is between the claim and its confirmation: a step that dies there (after the relay took
 * the email, or before) leaves a claim that is never confirmed. It errs towards sending at most once: such an
 * email is not sent again, and the log says it is in doubt (the relay's log tells whether it went out).
 */
export async function sendOnce(
  deps: { mailer: Mailer; ledger: SentMailLedger; log: Logger },
  requestId: string,
  kind: string,
  message: MailMessage,
): Promise<'sent' | 'already sent'> {
  const claim = await deps.ledger.claim(requestId, kind, message.messageId);
  if (claim !== 'claimed') {
    if (claim === 'sending')
      deps.log.error('email in doubt: an earlier attempt claimed it and never confirmed it; not sending again', {
        kind,
        messageId: message.messageId,
      });
    else deps.log.info('email already sent, not sending again', { kind, messageId: message.messageId });
    return 'already sent';
  }
  try {
    await deps.mailer.send(message);
  } catch (error) {
    // The relay did not take it: without the claim, a retry sends it. A claim that cannot be withdrawn leaves the
    // email in doubt, which is the lesser harm than a second copy.
    await deps.ledger.release(requestId, kind).catch((release: unknown) =>
      deps.log.error('email in doubt: the relay did not take it and its claim could not be withdrawn', {
        kind,
        messageId: message.messageId,
        error: release,
      }),
    );
    throw error;
  }
  // The claim alone already keeps a retry from sending again, so an unconfirmed send does not fail the step.
  await deps.ledger
    .confirm(requestId, kind, message.messageId)
    .catch((error: unknown) => deps.log.warn('email sent, but its record could not be confirmed', { kind, messageId: message.messageId, error }));
  deps.log.info('email sent', { kind, messageId: message.messageId, subject: message.subject });
  return 'sent';
}

/** The email that tells the ARC contact a request was cancelled, in the style of AOG's replies. Pure. */
import type { MailMessage } from '../mail/Mailer';
import { type MailAddresses, quotedRequest, requestSubject } from '../domain/messages';
import { type MousRequest, mousUidUri } from '../domain/request';

export const CANCELLED_WORD = 'CANCELLED';

/** `2026-11-24T23:21:06.123Z` → `2026-11-24 23:21:06 UTC`. */
function readable(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * To the ARC contact, CC the maintainer and AOG, threaded to the request email: the word above the quoted
 * request, as AOG answered NOT ENTITLED, with one line saying what became of it.
 */
export function cancelledReply(request: MousRequest, addresses: MailAddresses, cancelledAt: Date): MailMessage {
  const text = [
    CANCELLED_WORD,
    '',
    `The request ${request.requestId} was cancelled on ${readable(cancelledAt)}: the calibrated data of MOUS ${mousUidUri(request.mous)} will not be delivered.`,
    '',
    quotedRequest(request, addresses),
    '',
  ].join('\n');
  return {
    to: [request.arcContact],
    cc: [addresses.maintainer, addresses.aog],
    subject: `Re: ${requestSubject(request.mous)}, helpdesk ticket ${request.helpdeskTicket}`,
    text,
    messageId: request.requestMessageId.replace(/^</, '<cancelled.'),
    inReplyTo: request.requestMessageId,
    references: [request.requestMessageId],
  };
}

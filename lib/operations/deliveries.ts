/**
 * What operators do with a published delivery: keep it beyond its expiry (the seed's `.donotremove`) and undo
 * that, and send the user's download email again (it went to spam, or the user lost it).
 */
import { downloadEmail, lifetimeOf } from '../domain/delivery';
import { followUpMessageId, type MailAddresses } from '../domain/messages';
import type { Mailer } from '../mail/Mailer';
import { sendOnce } from '../mail/sendOnce';
import { DOWNLOAD_EMAIL_KIND, type SentMailLedger } from '../mail/SentMailLedger';
import { DeliveryNotFoundError } from '../storage/DeliveryStore';
import { currentState, deliveryStatus, type DeliveryStatus, latestAttempt, type OperationsDeps, requestOf } from './requests';
import { failed, invalidRequestId, ok, type OperationResult, requestNotFound } from './results';

export interface ResendDeps extends OperationsDeps {
  readonly mailer: Mailer;
  readonly ledger: SentMailLedger;
  readonly addresses: MailAddresses;
  readonly noReply: string;
}

export interface KeepOutcome extends DeliveryStatus {
  readonly requestId: string;
}

/**
 * Whether a request's delivery can be kept beyond its expiry, or released: it must have been published and not
 * yet deleted (an expired one is kept again until the lifecycle rule deleted it).
 */
export function mayKeep<Delivery extends Pick<DeliveryStatus, 'kept'>>(delivery: Delivery | undefined): delivery is Delivery {
  return delivery !== undefined;
}

/** Why the user's download email cannot be sent again: never sent, its delivery deleted, or expired and not kept. */
export type ResendRefusal = 'NOT_DELIVERED' | 'DELIVERY_REMOVED' | 'DELIVERY_EXPIRED';

export function resendRefusal(emailSent: boolean, delivery: Pick<DeliveryStatus, 'expired'> | undefined): ResendRefusal | undefined {
  if (!emailSent) return 'NOT_DELIVERED';
  if (!delivery) return 'DELIVERY_REMOVED';
  return delivery.expired ? 'DELIVERY_EXPIRED' : undefined;
}

/** `POST /requests/{requestId}/keep` (`kept` true) and `DELETE …/keep` (false). */
export async function keepDelivery(
  deps: Pick<OperationsDeps, 'store' | 'downloadBaseUrl' | 'now' | 'log'>,
  requestId: string,
  kept: boolean,
): Promise<OperationResult<KeepOutcome>> {
  const invalid = invalidRequestId(requestId);
  if (invalid) return invalid;
  if (!mayKeep(await deliveryStatus(deps, requestId))) return noDelivery(requestId);
  try {
    await deps.store.setKept(requestId, kept);
  } catch (error) {
    if (error instanceof DeliveryNotFoundError) return noDelivery(requestId);
    throw error;
  }
  deps.log.info(kept ? 'delivery kept beyond its expiry' : 'delivery no longer kept: it expires as usual', { requestId });
  const delivery = await deliveryStatus(deps, requestId);
  // Removed by the lifecycle rule between the two calls.
  if (!delivery) return noDelivery(requestId);
  return ok({ requestId, ...delivery });
}

export interface ResendOutcome {
  readonly requestId: string;
  readonly sentTo: string;
  readonly messageId: string;
  readonly link: string;
  /** How many times the email has been sent again, this time included. */
  readonly resent: number;
}

/** Kinds of the resent emails in the ledger: `resent-1`, `resent-2`, … */
const RESENT_KIND = 'resent-';
const MOST_RESENDS = 1000;

/**
 * `POST /requests/{requestId}/resend`: the user's download email again, under a Message-ID of its own. Its text is
 * the first one's but for the life left to the data (lib/domain/delivery.ts, lifetimeOf).
 */
export async function resendDownloadEmail(deps: ResendDeps, requestId: string): Promise<OperationResult<ResendOutcome>> {
  const invalid = invalidRequestId(requestId);
  if (invalid) return invalid;
  const execution = await latestAttempt(deps.executions, requestId);
  if (!execution) return requestNotFound(requestId);
  const request = requestOf(execution);
  const emailSent = await deps.ledger.wasSent(requestId, DOWNLOAD_EMAIL_KIND);
  const delivery = emailSent ? await deliveryStatus(deps, requestId) : undefined;
  const refusal = resendRefusal(emailSent, delivery);
  if (refusal === 'NOT_DELIVERED') {
    const state = currentState(await deps.executions.recentStates(execution.name, (events) => events.some((event) => event.phase === 'entered')));
    return failed(
      409,
      refusal,
      `Request ${requestId} has not been delivered (${execution.status}${state ? `, ${state}` : ''}): the user was never sent a download email.`,
    );
  }
  if (refusal === 'DELIVERY_REMOVED' || !delivery) {
    return failed(409, 'DELIVERY_REMOVED', `The delivery of request ${requestId} has been deleted: its link no longer works.`);
  }
  if (refusal === 'DELIVERY_EXPIRED') {
    return failed(
      409,
      refusal,
      `The delivery of request ${requestId} expired on ${delivery.expiresAt}: its link no longer works. Keep it first (calms keep) to send the link again.`,
    );
  }
  let resent = 1;
  while (resent < MOST_RESENDS && (await deps.ledger.wasSent(requestId, `${RESENT_KIND}${resent}`))) resent += 1;
  const messageId = followUpMessageId(request, `${RESENT_KIND}${resent}`);
  const { link } = delivery;
  const message = downloadEmail(request, link, lifetimeOf(delivery, deps.now()), { ...deps.addresses, noReply: deps.noReply }, messageId);
  const { log } = deps;
  await sendOnce({ mailer: deps.mailer, ledger: deps.ledger, log }, requestId, `${RESENT_KIND}${resent}`, message);
  return ok({ requestId, sentTo: request.userEmail, messageId, link, resent });
}

function noDelivery(requestId: string): OperationResult<never> {
  return failed(404, 'DELIVERY_NOT_FOUND', `Request ${requestId} has no delivery: it was never published, or it has expired and been deleted.`);
}

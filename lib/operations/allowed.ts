/**
 * What the CalMS API would do for a request, read from its own status answer (`GET /requests/{requestId}`) by the
 * rules cancel, keep, resend and re-drive apply themselves: the console offers only these. The answer arrives as
 * JSON from elsewhere, so anything missing or not understood allows nothing.
 */
import { EndedBy } from '../domain/executionEnd';
import { isJsonObject } from '../json';
import { mayCancel } from './cancel';
import { mayKeep, resendRefusal } from './deliveries';
import { redriveRefusal } from './redrive';
import { EXECUTION_STATUSES } from '../workflow/Workflow';
import type { DeliveryStatus } from './requests';

export interface AllowedActions {
  readonly cancel: boolean;
  /** Keep the delivery beyond its expiry: offered while it is not kept. */
  readonly keep: boolean;
  /** Let a kept delivery expire as usual: offered while it is kept. */
  readonly release: boolean;
  /** Send the user's download email again. */
  readonly resend: boolean;
  /** Resume where it failed; its history may still hold no state a re-drive can resume (the API says so). */
  readonly redrive: boolean;
}

export const NOTHING_ALLOWED: AllowedActions = { cancel: false, keep: false, release: false, resend: false, redrive: false };

/** The delivery of a status answer, if it has one it can read (a kept flag and whether it expired). */
function deliveryOf(answer: Record<string, unknown>): Pick<DeliveryStatus, 'kept' | 'expired'> | 'unreadable' | undefined {
  const { delivery } = answer;
  if (delivery === undefined) return undefined;
  if (!isJsonObject(delivery) || typeof delivery.kept !== 'boolean' || typeof delivery.expired !== 'boolean') return 'unreadable';
  return { kept: delivery.kept, expired: delivery.expired };
}

export function allowedActions(answer: unknown): AllowedActions {
  const status = isJsonObject(answer) ? EXECUTION_STATUSES.find((known) => known === answer.status) : undefined;
  if (!isJsonObject(answer) || status === undefined) return NOTHING_ALLOWED;
  const delivery = deliveryOf(answer);
  if (delivery === 'unreadable') return NOTHING_ALLOWED;
  return {
    cancel: mayCancel(status),
    keep: mayKeep(delivery) && !delivery.kept,
    release: mayKeep(delivery) && delivery.kept,
    resend: resendRefusal(answer.downloadEmailSent === true, delivery) === undefined,
    redrive: redriveRefusal(status, answer.endedBy === EndedBy.Cancel) === undefined,
  };
}

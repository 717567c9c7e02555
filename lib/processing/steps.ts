/**
 * The working steps of one MOUS request's execution, in the procedure's order. Each step is idempotent:
 * Step Functions may run it again after a retry or a re-drive, and no email goes out twice.
 */
import type { Archive } from '../archive/Archive';
import { decideEntitlement, EntitlementOutcome, gatherEntitlementFacts } from '../domain/entitlement';
import { attemptKind } from '../domain/redrive';
import { failureNotice, followUpMessageId, type MailAddresses, outcomeReply, type ReplyOutcome, requestEmail } from '../domain/messages';
import { type Failure, readableFailure } from '../domain/failure';
import type { MousRequest } from '../domain/request';
import { outcomeRecord, RequestOutcome } from '../domain/statistics';
import type { Logger } from '../log';
import type { Mailer } from '../mail/Mailer';
import { sendOnce } from '../mail/sendOnce';
import type { StagingQueue } from '../slots/StagingQueue';
import type { SentMailLedger } from '../mail/SentMailLedger';
import type { CancelMarks } from '../storage/CancelMarks';
import type { StatisticsStore } from '../storage/StatisticsStore';
import { type TriggerStore, triggerRecordOf } from '../storage/TriggerStore';

export interface StepDeps {
  readonly archive: Archive;
  readonly triggers: TriggerStore;
  readonly mailer: Mailer;
  readonly ledger: SentMailLedger;
  /** Looked for by steps that may still run when their request is cancelled. */
  readonly cancelMarks: CancelMarks;
  /** Where each request's outcome is recorded, for the stats sheet. */
  readonly statistics: StatisticsStore;
  readonly addresses: MailAddresses;
  /** The staging slots: a request leaves their queue on every way out that does not calibrate. */
  readonly queue: StagingQueue;
  readonly now: () => Date;
  readonly log: Logger;
}

/** The email `triggerCalMSCreation.sh` sent: to AOG, CC the ARC contact and the maintainer. */
export async function emailRequestToAog(deps: StepDeps, request: MousRequest): Promise<{ messageId: string }> {
  const { log } = deps;
  await sendOnce({ ...deps, log }, request.requestId, 'request', requestEmail(request, deps.addresses));
  return { messageId: request.requestMessageId };
}

/** AOG's "Verification of entitlement and availability", on the day the execution runs. */
export async function checkEntitlement(deps: StepDeps, request: MousRequest): Promise<{ outcome: string; reason: string }> {
  const decision = decideEntitlement(await gatherEntitlementFacts(deps.archive, request), deps.now());
  deps.log.info('entitlement decided', { outcome: decision.outcome, reason: decision.reason });
  return decision;
}

const REPLY_OUTCOMES: Record<string, ReplyOutcome> = {
  [EntitlementOutcome.NotEntitled]: 'NOT_ENTITLED',
  [EntitlementOutcome.InvalidMousUid]: 'INVALID_MOUS_UID',
  [EntitlementOutcome.MousNotDelivered]: 'MOUS_NOT_DELIVERED',
};

/** AOG's reply above the quoted request; this concludes the request, so its trigger goes. */
export async function replyToRequest(deps: StepDeps, request: MousRequest, outcome: string): Promise<{ replied: ReplyOutcome }> {
  const reply = REPLY_OUTCOMES[outcome];
  if (!reply) throw new Error(`no reply is defined for outcome ${outcome}`);
  const { log } = deps;
  await sendOnce(
    { ...deps, log },
    request.requestId,
    `reply-${reply}`,
    outcomeReply(request, reply, deps.addresses, followUpMessageId(request, 'reply')),
  );
  await deps.statistics.record(outcomeRecord(request, reply, deps.now()));
  await deps.queue.leave(request);
  await removeTrigger(deps, request);
  return { replied: reply };
}

export async function removeTrigger(deps: StepDeps, request: MousRequest): Promise<void> {
  await deps.triggers.remove(triggerRecordOf(request));
}

/**
 * The failure report's fallback (`NotifyMaintainerBriefly`): the report itself failed (the relay refused it, the
 * log could not be read or kept, S3 stayed away), so the maintainer gets a short notice saying so, with the
 * failure and the ways out. What the report did first is done here too, as far as it can be.
 */
export async function notifyMaintainerBriefly(deps: StepDeps, request: MousRequest, caught: Failure, reportFailure: Failure): Promise<Failure> {
  const { log } = deps;
  const failure = readableFailure(caught);
  // The report went out and something after it failed: the maintainer knows already.
  if (await deps.ledger.wasSent(request.requestId, attemptKind('failure', request))) return failure;
  const unsent = readableFailure(reportFailure);
  await deps.queue.release(request).catch((error: unknown) => log.error('staging slot not released after a failed report', { error }));
  const details = `The full failure report could not be sent (${unsent.Error}: ${unsent.Cause}); the execution's history in Step Functions has the rest.`;
  const kind = attemptKind('failure-brief', request);
  await sendOnce({ ...deps, log }, request.requestId, kind, failureNotice(request, failure, deps.addresses, kind, details));
  await deps.statistics
    .record(outcomeRecord(request, RequestOutcome.Failed, deps.now()))
    .catch((error: unknown) => log.error('failed request not recorded for the statistics', { error }));
  log.error('request failed; the report failed too; maintainer notified briefly', { errorName: failure.Error, reportError: unsent.Error });
  return failure;
}

/**
 * Tells the maintainer that a request could not be completed, with what failed, so they can investigate
 * (the seed's "copy the whole output into an email to the maintainer"). The trigger stays: the MOUS is not done.
 * Returns the failure in readable form, for the execution's own error and cause.
 */
export async function notifyMaintainerOfFailure(
  deps: StepDeps,
  request: MousRequest,
  caught: Failure,
  details: { readonly text?: string } = {},
): Promise<Failure> {
  const { log } = deps;
  const failure = readableFailure(caught);
  // Whatever failed, the request no longer needs the cluster: its slot or its place in the queue goes.
  await deps.queue.release(request);
  // Each attempt's failure is news to the maintainer; a retried report of the same attempt is not.
  const kind = attemptKind('failure', request);
  await sendOnce({ ...deps, log }, request.requestId, kind, failureNotice(request, failure, deps.addresses, kind, details.text));
  await deps.statistics.record(outcomeRecord(request, RequestOutcome.Failed, deps.now()));
  log.error('request failed; maintainer notified', { errorName: failure.Error });
  return failure;
}

/**
 * What `calms status`, `triggers`, `cancel`, `keep`, `resend` and `redrive` print: the API's answers as text an operator
 * reads at a glance. Pure.
 */
import { endedByText } from '../domain/executionEnd';
import type { CancelOutcome } from '../operations/cancel';
import type { RedriveOutcome } from '../operations/redrive';
import type { KeepOutcome, ResendOutcome } from '../operations/deliveries';
import type { RequestStatus } from '../operations/requests';
import type { TriggerRecord } from '../storage/TriggerStore';
import { alignColumns, readableTime } from './queueTable';

/** Label and value lines, the values aligned; a value of several lines continues under the first. */
function fields(rows: readonly (readonly [string, string | undefined])[]): string[] {
  const present = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  const width = Math.max(...present.map(([label]) => label.length));
  return present.flatMap(([label, value]) => value.split('\n').map((line, index) => `  ${(index === 0 ? label : '').padEnd(width)}  ${line}`));
}

/** `SUCCEEDED, ended in Delivered` / `RUNNING, in WaitForCalibrationJob`. */
function statusLine(status: RequestStatus): string {
  if (!status.state) return status.status;
  return `${status.status}, ${status.status === 'RUNNING' ? 'in' : 'ended in'} ${status.state}`;
}

function deliveryLines(status: RequestStatus): string | undefined {
  const { delivery } = status;
  if (!delivery) return undefined;
  const fate = delivery.kept ? ' (kept: not deleted at expiry)' : delivery.expired ? ' (expired)' : '';
  return `${delivery.link}\nstaged ${readableTime(delivery.stagedAt)}, expires ${readableTime(delivery.expiresAt)}${fate}`;
}

/**
 * ```
 * Request t16140-uid___A001_X1296_X675-20261124T232106Z-ab12
 *   status           SUCCEEDED, ended in Delivered
 *   MOUS             uid___A001_X1296_X675, project 2017.1.00727.S
 *   helpdesk ticket  16140
 *   …
 * ```
 */
export function formatStatus(status: RequestStatus): string {
  const fieldsText = status.calibratorFields.length > 0 ? `, calibrator fields ${status.calibratorFields.join(',')}` : '';
  const lines = [
    `Request ${status.requestId}`,
    ...fields([
      ['status', statusLine(status)],
      ['MOUS', `${status.mous}, project ${status.projectCode}${fieldsText}`],
      ['helpdesk ticket', status.ticket],
      ['user', `${status.user.name} <${status.user.email}>`],
      ['ARC contact', status.arcContact],
      ['trigger', status.triggerName],
      ['started', readableTime(status.startedAt)],
      ['stopped', status.stoppedAt === undefined ? undefined : readableTime(status.stoppedAt)],
      ['delivery', deliveryLines(status)],
      ['ended', status.endedBy === undefined ? undefined : endedByText(status.endedBy)],
      ['error', status.failure === undefined ? undefined : `${status.failure.error}: ${status.failure.cause}`],
    ]),
  ];
  return `${lines.join('\n')}\n`;
}

/** Several requests, newest first, a blank line between them. */
export function formatStatuses(statuses: readonly RequestStatus[]): string {
  return statuses.map(formatStatus).join('\n');
}

/**
 * ```
 * Active triggers: 1
 *   1  trigger-uid___A001_X1296_X675-2019-09-02T14-00-27.txt  created 2019-09-02 14:00:27Z  request t16140-…
 * ```
 */
export function formatTriggers(triggers: readonly TriggerRecord[]): string {
  if (triggers.length === 0) return 'No active triggers.\n';
  const rows = triggers.map((trigger, index) => [
    `${index + 1}`,
    trigger.name,
    `created ${readableTime(trigger.createdAt)}`,
    `request ${trigger.requestId}`,
  ]);
  return `${[`Active triggers: ${triggers.length}`, ...alignColumns(rows)].join('\n')}\n`;
}

export function formatCancel(outcome: CancelOutcome): string {
  const where = outcome.state ? ` in ${outcome.state}` : '';
  const lines = [
    outcome.status !== 'ABORTED'
      ? `Request ${outcome.requestId} had ended ${outcome.status}${where}; it is cancelled and will not be re-driven.`
      : outcome.alreadyStopped
        ? `Request ${outcome.requestId} had already been stopped${where}; its clean-up was done again.`
        : `Request ${outcome.requestId} cancelled: its execution was stopped${where}.`,
    ...(outcome.stoppedJob
      ? [`  calibration job ${outcome.stoppedJob.jobId} on ${outcome.stoppedJob.node} stopped (work directory ${outcome.stoppedJob.workDir} kept)`]
      : []),
    '  staging slot and queue place released',
    ...(outcome.abortedUploads.length > 0 ? [`  unfinished uploads aborted: ${outcome.abortedUploads.join(', ')}`] : []),
    `  trigger ${outcome.removedTrigger} removed`,
    outcome.arcContactEmail.sent === 'sent'
      ? `  CANCELLED email sent to ${outcome.arcContactEmail.to} (CC the maintainer and AOG)`
      : `  CANCELLED email already sent to ${outcome.arcContactEmail.to}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function formatKeep(outcome: KeepOutcome): string {
  const expiry = readableTime(outcome.expiresAt);
  const first = outcome.kept
    ? `The delivery of request ${outcome.requestId} is kept: it will not be deleted at its expiry (${expiry}).`
    : outcome.expired
      ? `The delivery of request ${outcome.requestId} is no longer kept: it expired ${expiry} and will be deleted at the next lifecycle run.`
      : `The delivery of request ${outcome.requestId} is no longer kept: it will be deleted after ${expiry}.`;
  return `${first}\n  link ${outcome.link}\n`;
}

export function formatResend(outcome: ResendOutcome): string {
  const times = outcome.resent === 1 ? 'once' : `${outcome.resent} times`;
  return [
    `The download email of request ${outcome.requestId} was sent again to ${outcome.sentTo} (resent ${times} so far).`,
    `  Message-ID ${outcome.messageId}`,
    `  link ${outcome.link}`,
    '',
  ].join('\n');
}

export function formatRedrive(outcome: RedriveOutcome): string {
  return [
    `Request ${outcome.requestId} re-driven (attempt ${outcome.attempt + 1}): it resumes at ${outcome.resumeAt}.`,
    `  ${outcome.failedStatus === 'FAILED' ? 'failed' : `ended ${outcome.failedStatus}`} in ${outcome.failedState} of ${outcome.failedExecution}${outcome.failure ? `: ${outcome.failure.error}: ${outcome.failure.cause}` : ''}`,
    `  execution ${outcome.executionName}`,
    `  follow it with: calms status ${outcome.requestId}`,
    '',
  ].join('\n');
}

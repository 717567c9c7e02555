/**
 * The texts of the procedure (../shared/seed): trigger file, request email to AOG, AOG's replies, the failure
 * report, the cancellation and the execution-end watcher's report.
 * They are the product's contract with ARC staff and AOG, so they follow the seed to the letter.
 */
import type { MailMessage } from '../mail/Mailer';
import { type EndedBy, endedByText } from './executionEnd';
import { type MousRequest, mousUidUri } from './request';

export interface MailAddresses {
  readonly aog: string;
  readonly maintainer: string;
}

export function requestSubject(mous: string): string {
  return `ALMA: REQUEST FOR CALIBRATED DATA MOUS ${mous}`;
}

/** The body of the request email, and the content of the trigger file: the seed keeps them equal. */
export function requestText(request: MousRequest, addresses: MailAddresses): string {
  const lines = [
    `EU ARC contact ${request.arcContact}`,
    `CC email ${addresses.maintainer}`,
    requestSubject(request.mous),
    '',
    'Dear AOG,',
    `please create the calibrated MS for MOUS ${request.mous}`,
    `project ${request.projectCode}`,
    ...(request.calibratorFields.length > 0 ? [`calfield ${request.calibratorFields.join(',')}`] : []),
    `for user ${request.userName}`,
    `email ${request.userEmail}`,
    `helpdesk ticket ${request.helpdeskTicket}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The Message-ID of a later email about the request, `<kind.…>` beside the request email's own: one per kind
 * of email, so each is told apart in the ledger and in a mail client, all threading to the request email.
 */
export function followUpMessageId(request: MousRequest, kind: string): string {
  return request.requestMessageId.replace(/^</, `<${kind}.`);
}

/** A follow-up's threading headers: a reply to the request email, so mail clients show one conversation. */
export function threadedToRequest(request: MousRequest): Pick<MailMessage, 'inReplyTo' | 'references'> {
  return { inReplyTo: request.requestMessageId, references: [request.requestMessageId] };
}

/** To AOG, CC the ARC contact and the maintainer, as `triggerCalMSCreation.sh` sent it. */
export function requestEmail(request: MousRequest, addresses: MailAddresses): MailMessage {
  return {
    to: [addresses.aog],
    cc: [request.arcContact, addresses.maintainer],
    subject: requestSubject(request.mous),
    text: requestText(request, addresses),
    messageId: request.requestMessageId,
  };
}

/** What AOG decided on the processing day, as the word it wrote above the quoted request. */
export const ReplyWord = {
  NOT_ENTITLED: 'NOT ENTITLED',
  INVALID_MOUS_UID: 'INVALID MOUS UID',
  MOUS_NOT_DELIVERED: 'MOUS NOT DELIVERED',
} as const;
export type ReplyOutcome = keyof typeof ReplyWord;

/** The seed's text that ARC staff paste into the helpdesk ticket when the user is not entitled. */
export const NOT_ENTITLED_USER_TEXT =
  'You presently do not have access permission for the requested data.\nPlease wait until the data becomes public.';

/** The request email's text as a reply quotes it, each line after `> `. */
export function quotedRequest(request: MousRequest, addresses: MailAddresses): string {
  return requestText(request, addresses)
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
}

/** AOG's reply to the request email: the outcome word above the quoted request, threaded to it. */
export function outcomeReply(request: MousRequest, outcome: ReplyOutcome, addresses: MailAddresses, messageId: string): MailMessage {
  const helpdeskText = outcome === 'NOT_ENTITLED' ? ['', 'Text for the helpdesk reply to the user:', '', NOT_ENTITLED_USER_TEXT] : [];
  const text = [ReplyWord[outcome], ...helpdeskText, '', quotedRequest(request, addresses), ''].join('\n');
  return {
    to: [addresses.aog],
    cc: [request.arcContact, addresses.maintainer],
    subject: `Re: ${requestSubject(request.mous)}`,
    text,
    messageId,
    ...threadedToRequest(request),
  };
}

/**
 * The command line AOG would have typed for this request (`stagecalms.sh PROJCODE MOUSUID TICKET [X CALFIELD]`):
 * the maintainer reads a failure report as the terminal output of that command.
 */
export function stagecalmsCommandLine(request: MousRequest): string {
  const fields = request.calibratorFields.length > 0 ? ` X "${request.calibratorFields.join(',')}"` : '';
  return `stagecalms.sh ${request.projectCode} ${mousUidUri(request.mous)} ${request.helpdeskTicket}${fields}`;
}

/**
 * How much of a job log the maintainer's failure email carries: its end, which says why the job failed. A relay
 * refuses mails of a few MB, and a Lambda must not read a log of GBs into memory; the whole log is kept aside.
 */
export const REPORTED_LOG_BYTES = 256 * 1024;

/** The end of a log read with `tail -c`: the first line, most likely cut in the middle, is left out. */
export function logExcerpt(tail: string, wholeBytes: number): string {
  if (wholeBytes <= REPORTED_LOG_BYTES) return tail;
  const firstNewline = tail.indexOf('\n');
  return firstNewline < 0 ? tail : tail.slice(firstNewline + 1);
}

export interface CalibrationFailure {
  readonly commandLine: string;
  /** Absent when no node was chosen. */
  readonly node?: string;
  /** Absent when the job was never submitted. */
  readonly workDir?: string;
  /** The job's log, or its end when it is longer than {@link REPORTED_LOG_BYTES}, or why it could not be read. */
  readonly jobLog?: string;
  /** The log's whole size, when only its end is in {@link jobLog}. */
  readonly jobLogCutFrom?: number;
  /** Where the whole log is kept, or why it could not be kept. */
  readonly jobLogKept?: string;
  readonly deliveryLocation: string;
  readonly mous: string;
}

/** The failure as stagecalms printed it, with the seed's closing lines word for word (two spaces included). */
export function calibrationFailureText(failure: CalibrationFailure): string {
  const lines = [
    failure.commandLine,
    ...(failure.node ? [`DATAMACHINE chosen: ${failure.node}`] : []),
    ...(failure.workDir
      ? [
          `(re-)creating directory ${failure.workDir}`,
          'Now generating the calibrated MS(s) ...',
          'Generated the job script. Now submitting and waiting for completion ...',
        ]
      : []),
    ...(failure.jobLogCutFrom !== undefined
      ? [`(The job log has ${failure.jobLogCutFrom} bytes: it was cut, and only its last ${REPORTED_LOG_BYTES} bytes follow.)`]
      : []),
    ...(failure.jobLogKept !== undefined ? [`(The whole job log is kept as ${failure.jobLogKept}.)`] : []),
    ...(failure.jobLog !== undefined ? [failure.jobLog.trimEnd()] : []),
    `Failed. Please investigate  ${failure.deliveryLocation} and possibly remove incomplete data belonging to MOUS ${mousUidUri(failure.mous)}`,
    ...(failure.workDir ? [`The working directory ${failure.workDir} on the EU ARC cluster was not removed.`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

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
    messageId: followUpMessageId(request, 'cancelled'),
    ...threadedToRequest(request),
  };
}

/** The lines that let the maintainer find a request again: MOUS, project, ticket, who asked for whom and when. */
export function requestFacts(request: MousRequest): string[] {
  return [
    `MOUS ${request.mous}, project ${request.projectCode}, helpdesk ticket ${request.helpdeskTicket}`,
    `Requested by ${request.arcContact} at ${request.requestedAt} for user ${request.userName} <${request.userEmail}>`,
  ];
}

/** How an email about a request that ended undelivered ends: its trigger kept, and the two ways out. */
export function waysOut(request: MousRequest, ended: string): string[] {
  return [
    `The trigger ${request.triggerName} was kept.`,
    `Once the cause is fixed, resume it where it ${ended}: calms redrive ${request.requestId}`,
    `To give it up instead (the trigger goes, the ARC contact is told): calms cancel ${request.requestId}`,
  ];
}

/** What the execution-end watcher found and did, for its email. */
export interface ExecutionEndReport {
  /** The execution that ended: the request's own, or one of its re-drives. */
  readonly execution: string;
  readonly status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly endedBy: EndedBy;
  readonly stoppedAt: Date;
  /** The state in flight when it ended. */
  readonly state?: string;
  readonly error?: string;
  readonly cause?: string;
  /** The calibration job it had running: stopped, or why not. */
  readonly job?: { readonly node: string; readonly jobId: string; readonly workDir: string; readonly notStopped?: string };
  /** False when a job that could not be stopped keeps the slot until its lease runs out. */
  readonly slotReleased: boolean;
  readonly abortedUploads: readonly string[];
}

const END_WORDS: Record<ExecutionEndReport['status'], string> = { FAILED: 'FAILED', TIMED_OUT: 'TIMED OUT', ABORTED: 'STOPPED' };

function jobLine(job: NonNullable<ExecutionEndReport['job']>): string {
  return job.notStopped === undefined
    ? `Its calibration job ${job.jobId} on ${job.node} was stopped; the work directory ${job.workDir} is kept.`
    : `Its calibration job ${job.jobId} on ${job.node} could not be stopped (${job.notStopped}); calms cancel stops it.`;
}

/**
 * The watcher's report of an end CalMS did not cause: to the maintainer, CC the ARC contact, threaded to the
 * request email, saying what ended, why, what was cleaned up, and the two ways out.
 */
export function executionEndedReport(request: MousRequest, report: ExecutionEndReport, addresses: MailAddresses, kind: string): MailMessage {
  const attempt = request.redrive ? ` (re-drive ${request.redrive})` : '';
  const text = [
    `The execution ${report.execution} of request ${request.requestId}${attempt} ${endedByText(report.endedBy)}, on ${readable(report.stoppedAt)}${report.state ? ` in ${report.state}` : ''}.`,
    '',
    ...(report.error ? [`Error: ${report.error}`] : []),
    ...(report.cause ? [`Cause: ${report.cause}`] : []),
    ...(report.error || report.cause ? [''] : []),
    ...(report.job ? [jobLine(report.job)] : []),
    report.slotReleased
      ? 'Its staging slot and its place in the queue were given back.'
      : 'Its place in the queue was given back; its staging slot is kept until its lease runs out, as its job may still run.',
    ...(report.abortedUploads.length > 0 ? [`Unfinished uploads were aborted: ${report.abortedUploads.join(', ')}`] : []),
    '',
    ...requestFacts(request),
    ...waysOut(request, 'ended'),
    '',
  ].join('\n');
  return {
    to: [addresses.maintainer],
    cc: [request.arcContact],
    subject: `${END_WORDS[report.status]}: ${requestSubject(request.mous)}, helpdesk ticket ${request.helpdeskTicket}`,
    text,
    messageId: followUpMessageId(request, kind),
    ...threadedToRequest(request),
  };
}

/**
 * The maintainer's email about a request CalMS could not complete: what failed, any details (the job's log), the
 * request, and the ways out. To the maintainer, CC AOG, threaded to the request email; `kind` names it in the ledger.
 */
export function failureNotice(
  request: MousRequest,
  failure: { readonly Error: string; readonly Cause: string },
  addresses: MailAddresses,
  kind: string,
  details?: string,
): MailMessage {
  const text = [
    `CalMS could not complete the request ${request.requestId}${request.redrive ? ` (re-drive ${request.redrive})` : ''}.`,
    '',
    `Error: ${failure.Error}`,
    `Cause: ${failure.Cause}`,
    ...(details ? ['', details] : []),
    '',
    ...requestFacts(request),
    ...waysOut(request, 'failed'),
    '',
  ].join('\n');
  return {
    to: [addresses.maintainer],
    cc: [addresses.aog],
    subject: `FAILED: ${requestSubject(request.mous)}, helpdesk ticket ${request.helpdeskTicket}`,
    text,
    messageId: followUpMessageId(request, kind),
    ...threadedToRequest(request),
  };
}

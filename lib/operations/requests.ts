/**
 * The status of requests as operators ask for it (`calms status`): what Step Functions knows of the execution
 * (its name is the request id, its input the request), the state it is in or ended in, and the delivery once
 * published. Read only.
 */
import type { SubmittedJob } from '../cluster/Cluster';
import { downloadLink } from '../domain/delivery';
import { type EndedBy, endedBy } from '../domain/executionEnd';
import { attemptExecutionName, attemptOf } from '../domain/redrive';
import { HELPDESK_TICKET, normaliseMousUid, ticketAndMousOf } from '../domain/identifiers';
import type { MousRequest } from '../domain/request';
import type { Logger } from '../log';
import { DOWNLOAD_EMAIL_KIND, type SentMailLedger } from '../mail/SentMailLedger';
import { readableFailure } from '../domain/failure';
import type { StagingState } from '../staging/stagingState';
import type { CancelMarks } from '../storage/CancelMarks';
import type { DeliveryStore } from '../storage/DeliveryStore';
import type { TriggerRecord, TriggerStore } from '../storage/TriggerStore';
import type { ExecutionDetail, Executions, ExecutionStatus, ExecutionSummary, StateEvent } from '../workflow/Workflow';
import { failed, invalidRequestId, ok, type OperationResult, requestNotFound } from './results';
import { isJsonObject } from '../json';

export interface OperationsDeps {
  readonly executions: Executions;
  /** A cancel's mark tells its end from a stop by hand. */
  readonly cancelMarks: CancelMarks;
  readonly triggers: TriggerStore;
  readonly store: DeliveryStore;
  /** The public base URL of the API; links are `<base>/downloads/<token>`. */
  readonly downloadBaseUrl: string;
  readonly now: () => Date;
  readonly log: Logger;
}

/** What a request's status is read from: the operations' own, and the ledger that says whether the user was emailed. */
export interface StatusDeps extends OperationsDeps {
  readonly ledger: SentMailLedger;
}

/** The delivery of a request once published. */
export interface DeliveryStatus {
  readonly link: string;
  /** ISO 8601, UTC. */
  readonly stagedAt: string;
  /** ISO 8601, UTC: when the lifecycle rule deletes it, unless kept. */
  readonly expiresAt: string;
  /** The seed's `.donotremove`: exempt from the expiry until released. */
  readonly kept: boolean;
  /** Past its expiry and not kept: the link answers that the data is gone. */
  readonly expired: boolean;
}

/** One request as `GET /requests/{requestId}` answers it. */
export interface RequestStatus {
  readonly requestId: string;
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** The state it is in while running, or the last one it entered. */
  readonly state?: string;
  readonly ticket: string;
  readonly mous: string;
  readonly projectCode: string;
  readonly user: { readonly name: string; readonly email: string };
  readonly arcContact: string;
  readonly calibratorFields: readonly string[];
  /** ISO 8601, UTC: when intake accepted it. */
  readonly requestedAt: string;
  readonly triggerName: string;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  /** ISO 8601, UTC; absent while it runs. */
  readonly stoppedAt?: string;
  readonly delivery?: DeliveryStatus;
  /** With a delivery: whether the user was sent its download email (which can then be sent again). */
  readonly downloadEmailSent?: boolean;
  /** Why it did not succeed (failed, timed out, stopped), as the execution records it. */
  readonly failure?: { readonly error: string; readonly cause: string };
  /** What ended it, once it ended without succeeding: a cancel, a stop by hand, a timeout, a reported or an uncaught failure. */
  readonly endedBy?: EndedBy;
  /** How often it was re-driven (`calms redrive`); status, state and failure are those of the latest attempt. */
  readonly redrives?: number;
}

export interface RequestQuery {
  readonly ticket?: string;
  readonly mous?: string;
}

/** `GET /requests/{requestId}`. */
export async function requestStatus(deps: StatusDeps, requestId: string): Promise<OperationResult<RequestStatus>> {
  const invalid = invalidRequestId(requestId);
  if (invalid) return invalid;
  const execution = await latestAttempt(deps.executions, requestId);
  if (!execution) return requestNotFound(requestId);
  return ok(await statusOf(deps, execution));
}

/** The newest execution of a request: its own, or that of its latest re-drive. */
export async function latestAttempt(executions: Executions, requestId: string): Promise<ExecutionDetail | undefined> {
  let latest = await executions.describe(requestId);
  for (let attempt = 1; latest; attempt += 1) {
    const redriven = await executions.describe(attemptExecutionName(requestId, attempt));
    if (!redriven) break;
    latest = redriven;
  }
  return latest;
}

/** Of the executions found, the latest attempt of each request (a re-drive stands for the request it resumes). */
function latestAttempts(found: readonly ExecutionSummary[]): ExecutionSummary[] {
  const latest = new Map<string, { summary: ExecutionSummary; attempt: number }>();
  for (const summary of found) {
    const { requestId, attempt } = attemptOf(summary.name);
    const known = latest.get(requestId);
    if (!known || attempt > known.attempt) latest.set(requestId, { summary, attempt });
  }
  return found.filter((summary) => latest.get(attemptOf(summary.name).requestId)?.summary === summary);
}

/** `GET /requests?ticket=…` or `?mous=…`: every request of a helpdesk ticket or of a MOUS, newest first. */
export async function findRequests(deps: StatusDeps, query: RequestQuery): Promise<OperationResult<{ requests: RequestStatus[] }>> {
  const ticket = query.ticket?.trim();
  const mousText = query.mous?.trim();
  if ((ticket === undefined || ticket === '') === (mousText === undefined || mousText === '')) {
    return failed(400, 'VALIDATION_ERROR', 'give either ticket (a helpdesk ticket number) or mous (a MOUS UID), not both', 'query');
  }
  let matches: (name: string) => boolean;
  if (ticket) {
    if (!HELPDESK_TICKET.test(ticket)) return failed(400, 'VALIDATION_ERROR', 'ticket must be the helpdesk ticket number: digits only', 'ticket');
    matches = (name) => ticketAndMousOf(name)?.helpdeskTicket === ticket;
  } else {
    const mous = normaliseMousUid(mousText!);
    if (!mous) return failed(400, 'VALIDATION_ERROR', 'mous must be a MOUS UID like uid://A001/X1296/X675 or uid___A001_X1296_X675', 'mous');
    matches = (name) => ticketAndMousOf(name)?.mous === mous;
  }
  const found = latestAttempts(await deps.executions.list(matches));
  const requests: RequestStatus[] = [];
  // A few at a time: each status is a handful of calls, and Step Functions throttles bursts.
  for (let start = 0; start < found.length; start += 5) {
    const batch = await Promise.all(
      found.slice(start, start + 5).map(async (summary) => {
        const execution = await deps.executions.describe(summary.name);
        return execution ? statusOf(deps, execution) : undefined;
      }),
    );
    requests.push(...batch.filter((status): status is RequestStatus => status !== undefined));
  }
  return ok({ requests });
}

/** `GET /triggers`: the triggers of requests still in work (or failed and not cleared), oldest first. */
export async function activeTriggers(deps: Pick<OperationsDeps, 'triggers'>): Promise<OperationResult<{ triggers: TriggerRecord[] }>> {
  return ok({ triggers: await deps.triggers.listActive() });
}

/** The request an execution carries in its input; throws for an execution CalMS did not start. */
export function requestOf(execution: ExecutionDetail): MousRequest {
  const request = (execution.input as { request?: unknown } | undefined)?.request;
  const fields = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
  const strings = [
    'requestId',
    'projectCode',
    'userName',
    'userEmail',
    'helpdeskTicket',
    'arcContact',
    'mous',
    'requestedAt',
    'triggerName',
    'requestMessageId',
  ];
  if (!strings.every((key) => typeof fields[key] === 'string') || !Array.isArray(fields.calibratorFields)) {
    throw new Error(`the execution ${execution.name} carries no CalMS request in its input`);
  }
  return request as MousRequest;
}

/** The state entered last, from events newest first. */
export function currentState(events: readonly StateEvent[]): string | undefined {
  return events.find((event) => event.phase === 'entered')?.state;
}

/** The newest value of `$.<field>` in the states' data, from events newest first. */
export function latestField(events: readonly StateEvent[], field: string): unknown {
  for (const event of events) {
    if (isJsonObject(event.data) && event.data[field] !== undefined) return event.data[field];
  }
  return undefined;
}

/** The calibration job the execution submitted, if it got that far. */
export function submittedJob(events: readonly StateEvent[]): SubmittedJob | undefined {
  const calibration = latestField(events, 'calibration');
  const job = isJsonObject(calibration) ? calibration.job : undefined;
  if (!isJsonObject(job) || typeof job.node !== 'string' || typeof job.workDir !== 'string' || typeof job.jobId !== 'string') return undefined;
  return job as unknown as SubmittedJob;
}

/** Whether the job ended well: its check said so (the staging that follows needs its MSs). */
export function calibrationSucceeded(events: readonly StateEvent[]): boolean {
  const progress = latestField(events, 'calibrationProgress');
  return isJsonObject(progress) && progress.state === 'succeeded';
}

/** The staging as the execution last recorded it, if staging had begun. */
export function stagingOf(events: readonly StateEvent[]): StagingState | undefined {
  const staging = latestField(events, 'staging');
  return isJsonObject(staging) && Array.isArray(staging.tarballs) ? (staging as unknown as StagingState) : undefined;
}

export async function deliveryStatus(
  deps: Pick<OperationsDeps, 'store' | 'downloadBaseUrl' | 'now'>,
  requestId: string,
): Promise<DeliveryStatus | undefined> {
  const manifest = await deps.store.readManifest(requestId);
  if (!manifest) return undefined;
  const lookup = await deps.store.lookupToken(manifest.token);
  const kept = lookup.state === 'published' && lookup.kept;
  return {
    link: downloadLink(deps.downloadBaseUrl, manifest.token),
    stagedAt: manifest.stagedAt,
    expiresAt: manifest.expiresAt,
    kept,
    expired: !kept && deps.now().getTime() >= Date.parse(manifest.expiresAt),
  };
}

/** Whether an execution that ended was cancelled; one still running or succeeded is not asked about. */
function isGivenUp(deps: OperationsDeps, execution: ExecutionDetail): Promise<boolean> {
  if (execution.status === 'RUNNING' || execution.status === 'SUCCEEDED') return Promise.resolve(false);
  return deps.cancelMarks.isMarked(requestOf(execution).requestId);
}

async function statusOf(deps: StatusDeps, execution: ExecutionDetail): Promise<RequestStatus> {
  const request = requestOf(execution);
  const [events, delivery] = await Promise.all([
    deps.executions.recentStates(execution.name, (read) => read.some((event) => event.phase === 'entered')),
    deliveryStatus(deps, request.requestId),
  ]);
  const state = currentState(events);
  const downloadEmailSent = delivery ? await deps.ledger.wasSent(request.requestId, DOWNLOAD_EMAIL_KIND) : undefined;
  const ended = endedBy(execution.status, await isGivenUp(deps, execution), state);
  const failure =
    execution.status !== 'SUCCEEDED' && execution.status !== 'RUNNING' && (execution.error !== undefined || execution.cause !== undefined)
      ? readableFailure({ Error: execution.error ?? '', Cause: execution.cause ?? '' })
      : undefined;
  return {
    requestId: request.requestId,
    executionArn: execution.executionArn,
    status: execution.status,
    ...(state ? { state } : {}),
    ticket: request.helpdeskTicket,
    mous: request.mous,
    projectCode: request.projectCode,
    user: { name: request.userName, email: request.userEmail },
    arcContact: request.arcContact,
    calibratorFields: request.calibratorFields,
    requestedAt: request.requestedAt,
    triggerName: request.triggerName,
    startedAt: execution.startedAt,
    ...(execution.stoppedAt ? { stoppedAt: execution.stoppedAt } : {}),
    ...(delivery ? { delivery, downloadEmailSent } : {}),
    ...(failure ? { failure: { error: failure.Error, cause: failure.Cause } } : {}),
    ...(ended ? { endedBy: ended } : {}),
    ...(request.redrive ? { redrives: request.redrive } : {}),
  };
}

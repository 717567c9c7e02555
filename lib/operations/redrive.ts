/**
 * Re-driving a request that ended undelivered (`calms redrive`): once the maintainer has fixed what the failure
 * email or the watcher's email named, the request resumes where it failed, or at the state that was in flight
 * when it was stopped by hand, timed out or failed outside any Catch, in a new execution `<requestId>-redrive-<n>` (lib/domain/redrive.ts
 * says why not Step Functions' RedriveExecution). Re-driving the same failure twice starts the same execution
 * once: its name and input follow from the failure alone, and Step Functions answers a repeated start of the
 * same name and input with the execution it already has.
 */
import { EXECUTION_NAME_MAX_LENGTH } from '../domain/identifiers';
import {
  attemptExecutionName,
  attemptOf,
  FAILURE_REPORTS,
  failedStateOf,
  REDRIVABLE_STATES,
  redriveInput,
  type ResumePoint,
} from '../domain/redrive';
import { readableFailure } from '../domain/failure';
import { CANCELLED_KIND, type SentMailLedger } from '../mail/SentMailLedger';
import type { CancelMarks } from '../storage/CancelMarks';
import type { ExecutionDetail, ExecutionStatus, StateEvent, Workflow } from '../workflow/Workflow';
import { latestAttempt, type OperationsDeps, requestOf } from './requests';
import { failed, invalidRequestId, ok, type OperationResult, requestNotFound } from './results';
import { isJsonObject } from '../json';

export interface RedriveDeps extends OperationsDeps {
  readonly workflow: Workflow;
  /** A request whose cancel began (its mark) or whose CANCELLED email went out was given up, failed or not. */
  readonly ledger: SentMailLedger;
  readonly cancelMarks: CancelMarks;
}

export interface RedriveOutcome {
  readonly requestId: string;
  /** The re-drive's execution. */
  readonly executionName: string;
  readonly executionArn: string;
  /** 1 for a request's first re-drive. */
  readonly attempt: number;
  /** The execution that ended (failed, stopped or timed out), how, and in which state. */
  readonly failedExecution: string;
  readonly failedStatus: ExecutionStatus;
  readonly failedState: string;
  readonly resumeAt: ResumePoint;
  readonly failure?: { readonly error: string; readonly cause: string };
}

/** `POST /requests/{requestId}/redrive`. */
export async function redriveRequest(deps: RedriveDeps, requestId: string): Promise<OperationResult<RedriveOutcome>> {
  const invalid = invalidRequestId(requestId) ?? (attemptOf(requestId).attempt > 0 ? notARequest(requestId) : undefined);
  if (invalid) return invalid;
  const latest = await latestAttempt(deps.executions, requestId);
  if (!latest) return requestNotFound(requestId);
  const request = requestOf(latest);
  const refusal = redriveRefusal(latest.status, await wasCancelled(deps, requestId));
  if (refusal) return failed(409, 'NOT_REDRIVABLE', `Request ${requestId} cannot be re-driven: ${refusal} (execution ${latest.name}).`);

  // Newest first: after a caught failure its report, before it the state that failed, entered with its input;
  // after a stop, a timeout or a failure outside any Catch, the state in flight.
  const entered = (await deps.executions.recentStates(latest.name)).filter((event) => event.phase === 'entered');
  const failedStep = failedStateOf(entered);
  if (!failedStep || !isJsonObject(failedStep.data)) {
    return failed(
      409,
      'NOT_REDRIVABLE',
      `Request ${requestId} cannot be re-driven: its execution ${latest.name} ended before any state a re-drive can resume. Look at its history and submit it again.`,
    );
  }
  const attempt = attemptOf(latest.name).attempt + 1;
  const planned = redriveInput(failedStep.state, failedStep.data, request, attempt, latest.name);
  if (!planned) {
    return failed(
      409,
      'NOT_REDRIVABLE',
      `Request ${requestId} ended in ${failedStep.state}, which a re-drive cannot resume (it can: ${REDRIVABLE_STATES.join(', ')}).`,
    );
  }
  const executionName = attemptExecutionName(requestId, attempt);
  if (executionName.length > EXECUTION_NAME_MAX_LENGTH) {
    return failed(409, 'NOT_REDRIVABLE', `Request ${requestId} cannot be re-driven again: ${executionName} is longer than Step Functions allows.`);
  }
  const { executionArn } = await deps.workflow.start(executionName, planned.input);
  const failure = reportedFailure(entered) ?? executionFailure(latest);
  deps.log.info('request re-driven', {
    requestId,
    ticket: request.helpdeskTicket,
    mous: request.mous,
    execution: executionName,
    failedState: failedStep.state,
    resumeAt: planned.marker.resumeAt,
  });
  return ok({
    requestId,
    executionName,
    executionArn,
    attempt,
    failedExecution: latest.name,
    failedStatus: latest.status,
    failedState: failedStep.state,
    resumeAt: planned.marker.resumeAt,
    ...(failure ? { failure } : {}),
  });
}

/**
 * Why a re-drive refuses a request whose latest execution has this status, and was or was not cancelled;
 * undefined when it ended undelivered (failed, timed out, stopped by hand) and may resume. Its history decides
 * the rest: where it failed, and whether a re-drive can resume there. A status CalMS does not know is refused.
 */
export function redriveRefusal(status: string | undefined, cancelled: boolean): string | undefined {
  if (status === 'RUNNING') return 'it is still running';
  if (status === 'SUCCEEDED') return 'it has ended well';
  if (cancelled) return 'it was cancelled; submit it again with calms request';
  if (status === 'PENDING_REDRIVE') return 'Step Functions is re-driving it already';
  if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED') return undefined;
  return `its status (${status ?? 'none'}) is not one CalMS knows`;
}

/** A request is given up once a cancel has begun (its mark) or sent its CANCELLED email. */
async function wasCancelled(deps: RedriveDeps, requestId: string): Promise<boolean> {
  return (await deps.cancelMarks.isMarked(requestId)) || (await deps.ledger.wasSent(requestId, CANCELLED_KIND));
}

/** The failure the newest report caught, made readable. */
function reportedFailure(enteredNewestFirst: readonly StateEvent[]): RedriveOutcome['failure'] {
  const report = enteredNewestFirst.find((event) => (FAILURE_REPORTS as readonly string[]).includes(event.state));
  const caught = report && isJsonObject(report.data) && isJsonObject(report.data.failure) ? report.data.failure : undefined;
  if (!caught || typeof caught.Error !== 'string' || typeof caught.Cause !== 'string') return undefined;
  const readable = readableFailure({ Error: caught.Error, Cause: caught.Cause });
  return { error: readable.Error, cause: readable.Cause };
}

/** What Step Functions recorded as the end of an execution no report caught. */
function executionFailure(execution: ExecutionDetail): RedriveOutcome['failure'] {
  if (execution.error === undefined && execution.cause === undefined) return undefined;
  const readable = readableFailure({ Error: execution.error ?? '', Cause: execution.cause ?? '' });
  return { error: readable.Error, cause: readable.Cause };
}

function notARequest(executionName: string): OperationResult<never> {
  const { requestId } = attemptOf(executionName);
  return failed(400, 'VALIDATION_ERROR', `requestId must be the request's id, not one of its re-drives: use ${requestId}`, 'requestId');
}

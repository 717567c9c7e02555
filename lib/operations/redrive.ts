/**
 * Re-driving a failed request (`calms redrive`): once the maintainer has fixed what the failure email named,
 * the request resumes where it failed, in a new execution `<requestId>-redrive-<n>` (lib/domain/redrive.ts
 * says why not Step Functions' RedriveExecution). Re-driving the same failure twice starts the same execution
 * once: its name and input follow from the failure alone, and Step Functions answers a repeated start of the
 * same name and input with the execution it already has.
 */
import { attemptExecutionName, attemptOf, FAILURE_REPORTS, REDRIVABLE_STATES, redriveInput, type ResumePoint } from '../domain/redrive';
import { readableFailure } from '../domain/failure';
import { CANCELLED_KIND, type SentMailLedger } from '../mail/SentMailLedger';
import type { Workflow } from '../workflow/Workflow';
import { latestAttempt, type OperationsDeps, requestOf } from './requests';
import { failed, invalidRequestId, ok, type OperationResult, requestNotFound } from './results';
import { isJsonObject } from '../json';

export interface RedriveDeps extends OperationsDeps {
  readonly workflow: Workflow;
  /** A request whose CANCELLED email went out was given up (`calms cancel`), failed or not. */
  readonly ledger: SentMailLedger;
}

export interface RedriveOutcome {
  readonly requestId: string;
  /** The re-drive's execution. */
  readonly executionName: string;
  readonly executionArn: string;
  /** 1 for a request's first re-drive. */
  readonly attempt: number;
  /** The execution that failed, and in which state. */
  readonly failedExecution: string;
  readonly failedState: string;
  readonly resumeAt: ResumePoint;
  readonly failure?: { readonly error: string; readonly cause: string };
}

/** Step Functions' limit on execution names. */
const MAX_EXECUTION_NAME = 80;

/** `POST /requests/{requestId}/redrive`. */
export async function redriveRequest(deps: RedriveDeps, requestId: string): Promise<OperationResult<RedriveOutcome>> {
  const invalid = invalidRequestId(requestId) ?? (attemptOf(requestId).attempt > 0 ? notARequest(requestId) : undefined);
  if (invalid) return invalid;
  const latest = await latestAttempt(deps.executions, requestId);
  if (!latest) return requestNotFound(requestId);
  const request = requestOf(latest);
  const cancelled = await deps.ledger.wasSent(requestId, CANCELLED_KIND);
  if (latest.status !== 'FAILED' || cancelled) {
    const why =
      latest.status === 'RUNNING'
        ? 'it is still running'
        : latest.status === 'SUCCEEDED'
          ? 'it has ended well'
          : latest.status === 'ABORTED' || cancelled
            ? 'it was cancelled; submit it again with calms request'
            : `it ended ${latest.status}, not in a failure CalMS reported`;
    return failed(409, 'NOT_REDRIVABLE', `Request ${requestId} cannot be re-driven: ${why} (execution ${latest.name}).`);
  }

  // Newest first: the report the failure was caught into, then the state that failed, entered with its input.
  const entered = (await deps.executions.recentStates(latest.name)).filter((event) => event.phase === 'entered');
  const reportAt = entered.findIndex((event) => (FAILURE_REPORTS as readonly string[]).includes(event.state));
  const report = entered[reportAt];
  const failedStep = reportAt >= 0 ? entered[reportAt + 1] : undefined;
  if (!report || !failedStep || !isJsonObject(failedStep.data)) {
    return failed(409, 'NOT_REDRIVABLE', `Request ${requestId} cannot be re-driven: its execution ${latest.name} failed outside the states CalMS reports on. Look at its history and submit it again.`);
  }
  const attempt = attemptOf(latest.name).attempt + 1;
  const planned = redriveInput(failedStep.state, failedStep.data, request, attempt, latest.name);
  if (!planned) {
    return failed(
      409,
      'NOT_REDRIVABLE',
      `Request ${requestId} failed in ${failedStep.state}, which a re-drive cannot resume (it can: ${REDRIVABLE_STATES.join(', ')}).`,
    );
  }
  const executionName = attemptExecutionName(requestId, attempt);
  if (executionName.length > MAX_EXECUTION_NAME) {
    return failed(409, 'NOT_REDRIVABLE', `Request ${requestId} cannot be re-driven again: ${executionName} is longer than Step Functions allows.`);
  }
  const { executionArn } = await deps.workflow.start(executionName, planned.input);
  const caught = isJsonObject(report.data) && isJsonObject(report.data.failure) ? report.data.failure : undefined;
  const readable = caught && typeof caught.Error === 'string' && typeof caught.Cause === 'string' ? readableFailure({ Error: caught.Error, Cause: caught.Cause }) : undefined;
  const failure = readable ? { error: readable.Error, cause: readable.Cause } : undefined;
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
    failedState: failedStep.state,
    resumeAt: planned.marker.resumeAt,
    ...(failure ? { failure } : {}),
  });
}

function notARequest(executionName: string): OperationResult<never> {
  const { requestId } = attemptOf(executionName);
  return failed(400, 'VALIDATION_ERROR', `requestId must be the request's id, not one of its re-drives: use ${requestId}`, 'requestId');
}

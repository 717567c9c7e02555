/**
 * Intake of one helpdesk ticket's request: what `triggerCalMSCreation.sh` did, per MOUS.
 * Validate everything first, check the archive, then record a trigger and start one execution per MOUS.
 * The request email to AOG is the execution's first step, so it is retried like every other step.
 */
import type { Archive } from '../archive/Archive';
import { checkMousAtIntake } from '../domain/intakeChecks';
import { type MailAddresses, requestText } from '../domain/messages';
import { isCycle0, type MousRequest, mousRequest, parseTicketRequest, requestLogKeys, type TicketRequest } from '../domain/request';
import { TransientError } from '../errors';
import { type Logger, withLogKeys } from '../log';
import { type TriggerStore, triggerRecordOf } from '../storage/TriggerStore';
import type { StagingQueue } from '../slots/StagingQueue';
import type { Workflow } from '../workflow/Workflow';

export interface IntakeDeps {
  readonly archive: Archive;
  readonly triggers: TriggerStore;
  readonly workflow: Workflow;
  /** The staging slots' queue: a request takes its place on arrival, so no later one overtakes it. */
  readonly queue: StagingQueue;
  readonly addresses: MailAddresses;
  /** Domain of CalMS's Message-IDs. */
  readonly mailDomain: string;
  readonly now: () => Date;
  /** A few random characters that keep request ids unique. */
  readonly randomSuffix: () => string;
  readonly log: Logger;
}

export type RejectionCode =
  | 'NO_QA0_PASS'
  | 'WRONG_PROJECT'
  | 'UNKNOWN_CALIBRATOR_FIELD'
  | 'NOT_A_CALIBRATOR'
  | 'DUPLICATE_TRIGGER'
  | 'SERVICE_UNAVAILABLE';

export type MousResult =
  | {
      readonly mous: string;
      readonly outcome: 'accepted';
      readonly requestId: string;
      readonly executionArn: string;
      readonly triggerName: string;
    }
  | {
      readonly mous: string;
      readonly outcome: 'rejected';
      readonly error: {
        readonly code: RejectionCode;
        readonly message: string;
        readonly existingTrigger?: { readonly name: string; readonly createdAt: string; readonly requestId: string };
      };
    };

export interface IntakeResponse {
  readonly status: number;
  readonly body: unknown;
}

/** The execution input: one MOUS request. */
export interface ExecutionInput {
  readonly request: MousRequest;
}

const STATUS_OF: Record<RejectionCode, number> = {
  NO_QA0_PASS: 422,
  WRONG_PROJECT: 422,
  UNKNOWN_CALIBRATOR_FIELD: 422,
  NOT_A_CALIBRATOR: 422,
  DUPLICATE_TRIGGER: 409,
  SERVICE_UNAVAILABLE: 503,
};

export const CYCLE0_MESSAGE =
  'Cycle 0 projects (2011.0.*) are not processed by CalMS: their calibrated data is already available from the ALMA archive. ' +
  'Please remind the user to download it from there.';

const unavailable = (message: string): IntakeResponse => ({
  status: 503,
  body: { error: { code: 'SERVICE_UNAVAILABLE', message } },
});

export async function submitRequest(deps: IntakeDeps, body: unknown): Promise<IntakeResponse> {
  const parsed = parseTicketRequest(body);
  if (!parsed.ok) {
    return { status: 400, body: { error: { code: 'VALIDATION_ERROR', ...parsed.problem } } };
  }
  const ticket = parsed.value;
  const log = deps.log.with({ ticket: ticket.helpdeskTicket });
  if (isCycle0(ticket.projectCode)) {
    log.info('Cycle 0 request refused', { projectCode: ticket.projectCode });
    return { status: 422, body: { error: { code: 'CYCLE0', field: 'projectCode', message: CYCLE0_MESSAGE } } };
  }

  let checks;
  try {
    checks = await Promise.all(
      ticket.mous.map((mous) =>
        withLogKeys({ ticket: ticket.helpdeskTicket, mous }, () =>
          checkMousAtIntake(deps.archive, { mous, projectCode: ticket.projectCode, calibratorFields: ticket.calibratorFields }),
        ),
      ),
    );
  } catch (error) {
    log.error('archive check failed', { error });
    if (error instanceof TransientError)
      return unavailable(`The archive did not answer; nothing was triggered. Please try again. (${error.message})`);
    throw error;
  }

  const results: MousResult[] = [];
  for (const [index, mous] of ticket.mous.entries()) {
    const check = checks[index]!;
    if (!check.ok) {
      log.info('MOUS rejected at intake', { mous, code: check.code });
      results.push({ mous, outcome: 'rejected', error: { code: check.code, message: check.message } });
      continue;
    }
    results.push(await trigger(deps, ticket, mous, log.with({ mous })));
  }

  const accepted = results.some((result) => result.outcome === 'accepted');
  return { status: accepted ? 202 : rejectionStatus(results), body: { helpdeskTicket: ticket.helpdeskTicket, results } };
}

async function trigger(deps: IntakeDeps, ticket: TicketRequest, mous: string, log: Logger): Promise<MousResult> {
  const request = mousRequest(ticket, mous, deps.now(), deps.randomSuffix(), deps.mailDomain);
  // The adapters' lines (trigger store, staging queue, Step Functions) carry the new request's keys too.
  return withLogKeys(requestLogKeys(request), () => recordAndStart(deps, ticket, request, log));
}

async function recordAndStart(deps: IntakeDeps, ticket: TicketRequest, request: MousRequest, log: Logger): Promise<MousResult> {
  const { mous } = request;
  const record = triggerRecordOf(request);
  try {
    const claim = await deps.triggers.claim(record, requestText(request, deps.addresses), ticket.force);
    if (!claim.claimed) {
      return {
        mous,
        outcome: 'rejected',
        error: {
          code: 'DUPLICATE_TRIGGER',
          message:
            `A request for ${mous} is still being processed: trigger ${claim.existing.name} made ${claim.existing.createdAt}. ` +
            'Send it again with force to create a second one.',
          existingTrigger: { name: claim.existing.name, createdAt: claim.existing.createdAt, requestId: claim.existing.requestId },
        },
      };
    }
  } catch (error) {
    log.error('trigger could not be recorded', { error });
    return { mous, outcome: 'rejected', error: { code: 'SERVICE_UNAVAILABLE', message: `Nothing was triggered: ${(error as Error).message}` } };
  }

  try {
    const input: ExecutionInput = { request };
    await deps.queue.join(request);
    const { executionArn } = await deps.workflow.start(request.requestId, input);
    log.info('request accepted', { requestId: request.requestId, executionArn, trigger: request.triggerName });
    return { mous, outcome: 'accepted', requestId: request.requestId, executionArn, triggerName: request.triggerName };
  } catch (error) {
    log.error('execution could not be started; withdrawing the trigger', { error, requestId: request.requestId });
    // The other MOUS of the ticket must still be reported, so a failed withdrawal only changes what this one says.
    try {
      await deps.queue.leave(request);
    } catch (leaving) {
      // A queue place nobody renews is given up after CALMS_STAGING_QUEUE_GRACE_SECONDS.
      log.error('queue place could not be given up', { error: leaving, requestId: request.requestId });
    }
    try {
      await deps.triggers.remove(record);
    } catch (withdrawal) {
      log.error('trigger could not be withdrawn', { error: withdrawal, requestId: request.requestId, trigger: request.triggerName });
      return {
        mous,
        outcome: 'rejected',
        error: {
          code: 'SERVICE_UNAVAILABLE',
          message:
            `Nothing was started: ${(error as Error).message}. Its trigger ${request.triggerName} could not be withdrawn ` +
            `(${(withdrawal as Error).message}); send the request again with force.`,
        },
      };
    }
    return { mous, outcome: 'rejected', error: { code: 'SERVICE_UNAVAILABLE', message: `Nothing was triggered: ${(error as Error).message}` } };
  }
}

/** All MOUS rejected: their common status, or 422 when they were rejected for different reasons. */
function rejectionStatus(results: readonly MousResult[]): number {
  const statuses = new Set(results.map((result) => (result.outcome === 'rejected' ? STATUS_OF[result.error.code] : 202)));
  return statuses.size === 1 ? [...statuses][0]! : 422;
}

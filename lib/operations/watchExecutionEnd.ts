/**
 * The execution-end watcher: Step Functions tells EventBridge of every execution that ends FAILED, TIMED_OUT or
 * ABORTED, and EventBridge calls this. An end CalMS caused and reported itself (a cancel, a failure its report
 * caught) is left alone. Any other end (a stop by hand, a timeout, a failure outside every Catch) has told no one
 * and left the request's resources behind: the watcher stops its calibration job, gives back its slot and queue
 * place, aborts its unfinished uploads, records the failure for the statistics and tells the maintainer and the
 * ARC contact, with `calms redrive` and `calms cancel` as the ways out. The trigger stays, as for any failure that
 * can be re-driven.
 *
 * EventBridge delivers at least once: every clean-up is idempotent and the email goes through the sent-mail ledger
 * under a kind of its own per attempt, so a repeated event sends nothing again.
 */
import type { Cluster } from '../cluster/Cluster';
import { type EndedBy, endedBy, wasReported } from '../domain/executionEnd';
import { type ExecutionEndReport, executionEndedReport, type MailAddresses } from '../domain/messages';
import { attemptKind } from '../domain/redrive';
import type { MousRequest } from '../domain/request';
import { outcomeRecord, RequestOutcome } from '../domain/statistics';
import { isJsonObject } from '../json';
import type { Mailer } from '../mail/Mailer';
import { sendOnce } from '../mail/sendOnce';
import { readableFailure } from '../domain/failure';
import { abortUnfinishedUploads } from '../staging/stagingState';
import type { StagingQueue } from '../slots/StagingQueue';
import type { DeliveryStore } from '../storage/DeliveryStore';
import type { CancelMarks } from '../storage/CancelMarks';
import type { SentMailLedger } from '../mail/SentMailLedger';
import type { StatisticsStore } from '../storage/StatisticsStore';
import type { Logger } from '../log';
import type { Executions } from '../workflow/Workflow';
import { calibrationSucceeded, currentState, requestOf, stagingOf, submittedJob } from './requests';

export interface WatchDeps {
  readonly executions: Executions;
  readonly cancelMarks: CancelMarks;
  readonly cluster: Cluster;
  readonly queue: StagingQueue;
  readonly store: DeliveryStore;
  readonly mailer: Mailer;
  readonly ledger: SentMailLedger;
  readonly statistics: StatisticsStore;
  readonly addresses: MailAddresses;
  readonly now: () => Date;
  readonly log: Logger;
}

/** The part of EventBridge's "Step Functions Execution Status Change" event the watcher reads. */
export interface ExecutionStatusChange {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly detail?: { readonly executionArn?: unknown; readonly name?: unknown; readonly status?: unknown };
}

export type WatchOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | {
      readonly action: 'reported';
      readonly requestId: string;
      readonly endedBy: EndedBy;
      readonly report: ExecutionEndReport;
      readonly email: 'sent' | 'already sent';
    };

const WATCHED = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
type WatchedStatus = (typeof WATCHED)[number];

/** The ledger kind of the watcher's email: one per attempt, as each attempt ends once. */
export const EXECUTION_ENDED_KIND = 'ended';

export async function watchExecutionEnd(deps: WatchDeps, event: ExecutionStatusChange): Promise<WatchOutcome> {
  const name = typeof event.detail?.name === 'string' ? event.detail.name : undefined;
  if (!name) return ignored(deps, 'the event names no execution');
  // The event's own status and input may be stale or cut short (EventBridge drops inputs over 248 KB): ask.
  const execution = await deps.executions.describe(name);
  if (!execution || execution.executionArn !== event.detail?.executionArn) return ignored(deps, `${name} is not an execution of this state machine`);
  const status = execution.status;
  if (!(WATCHED as readonly string[]).includes(status)) return ignored(deps, `${name} is ${status}`);
  let request: MousRequest;
  try {
    request = requestOf(execution);
  } catch {
    return ignored(deps, `${name} carries no CalMS request`);
  }
  // The handler runs this under the request's log keys (lib/handlers/executionEnd.ts).
  const { log } = deps;
  const events = await deps.executions.recentStates(name);
  const state = currentState(events);
  const ended = endedBy(status, await deps.cancelMarks.isMarked(request.requestId), state)!;
  if (wasReported(ended)) return ignored(deps, `${name} ended by a ${ended}, which CalMS has reported`);
  log.warn('execution ended unreported; cleaning up and telling the maintainer', { execution: name, status, endedBy: ended, state });

  const job = submittedJob(events);
  let jobReport: ExecutionEndReport['job'];
  if (job && !calibrationSucceeded(events)) {
    const notStopped = await deps.cluster.cancel(job).then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    if (notStopped !== undefined) log.error('the calibration job could not be stopped', { node: job.node, jobId: job.jobId, error: notStopped });
    jobReport = { node: job.node, jobId: job.jobId, workDir: job.workDir, ...(notStopped !== undefined ? { notStopped } : {}) };
  }
  // A job that may still run keeps its slot until the lease runs out, so the cluster never runs more than the slots.
  const slotReleased = jobReport?.notStopped === undefined;
  if (slotReleased) await deps.queue.release(request);
  else await deps.queue.leave(request);
  const staging = stagingOf(events);
  const abortedUploads = (staging?.tarballs ?? []).filter((tarball) => tarball.uploadId && !tarball.result).map((tarball) => tarball.key);
  if (staging) await abortUnfinishedUploads({ store: deps.store, log }, staging);
  const stoppedAt = execution.stoppedAt ? new Date(execution.stoppedAt) : deps.now();
  await deps.statistics.record(outcomeRecord(request, RequestOutcome.Failed, stoppedAt));

  const failure =
    execution.error !== undefined || execution.cause !== undefined
      ? readableFailure({ Error: execution.error ?? '', Cause: execution.cause ?? '' })
      : undefined;
  const report: ExecutionEndReport = {
    execution: name,
    status: status as WatchedStatus,
    endedBy: ended,
    stoppedAt,
    ...(state ? { state } : {}),
    ...(failure?.Error ? { error: failure.Error } : {}),
    ...(failure?.Cause ? { cause: failure.Cause } : {}),
    ...(jobReport ? { job: jobReport } : {}),
    slotReleased,
    abortedUploads,
  };
  const kind = attemptKind(EXECUTION_ENDED_KIND, request);
  const email = await sendOnce(
    { mailer: deps.mailer, ledger: deps.ledger, log },
    request.requestId,
    kind,
    executionEndedReport(request, report, deps.addresses, kind),
  );
  return { action: 'reported', requestId: request.requestId, endedBy: ended, report, email };
}

function ignored(deps: Pick<WatchDeps, 'log'>, reason: string): WatchOutcome {
  deps.log.info('execution end needs no report', { reason });
  return { action: 'ignored', reason };
}

/** Whether an EventBridge event is the status change the watcher is subscribed to (serverless.yml's rule). */
export function isExecutionStatusChange(event: unknown): event is ExecutionStatusChange {
  return (
    isJsonObject(event) &&
    event.source === 'aws.states' &&
    event['detail-type'] === 'Step Functions Execution Status Change' &&
    isJsonObject(event.detail)
  );
}

/**
 * Cancelling a request (`calms cancel`): what AOG did by hand when a ticket was withdrawn, or when they gave up
 * on a request that failed. Stops the execution if it still runs, then the calibration job it had started,
 * gives back its staging slot or queue place, discards unfinished uploads, removes its trigger and tells the
 * ARC contact. Every step is idempotent, so a cancel that failed half-way is completed by running it again;
 * cancelling a stopped request does the clean-up again.
 */
import type { Cluster, SubmittedJob } from '../cluster/Cluster';
import { cancelledReply, type MailAddresses } from '../domain/messages';
import { outcomeRecord, RequestOutcome } from '../domain/statistics';
import { TransientError } from '../errors';
import type { Mailer } from '../mail/Mailer';
import { sendOnce } from '../mail/sendOnce';
import { abortUnfinishedUploads } from '../staging/stagingState';
import type { StagingQueue } from '../slots/StagingQueue';
import type { CancelMarks } from '../storage/CancelMarks';
import { CANCELLED_KIND, type SentMailLedger } from '../mail/SentMailLedger';
import type { StatisticsStore } from '../storage/StatisticsStore';
import { triggerRecordOf } from '../storage/TriggerStore';
import { calibrationSucceeded, currentState, latestAttempt, type OperationsDeps, requestOf, stagingOf, submittedJob } from './requests';
import { failed, invalidRequestId, ok, type OperationResult, requestNotFound } from './results';

export interface CancelDeps extends OperationsDeps {
  readonly cluster: Cluster;
  readonly queue: StagingQueue;
  readonly mailer: Mailer;
  readonly ledger: SentMailLedger;
  readonly addresses: MailAddresses;
  readonly statistics: StatisticsStore;
  readonly cancelMarks: CancelMarks;
}

/** The error a cancelled execution ends with (its cause says when and how). */
export const CANCELLED_ERROR = 'Cancelled';

/**
 * Whether a cancel acts on a request whose latest execution has this status: one still running is stopped, one
 * that ended undelivered (failed, timed out, stopped) is given up and cleaned up (again). A delivered request,
 * one Step Functions is re-driving, or a status CalMS does not know is refused.
 */
export function mayCancel(status: string | undefined): boolean {
  return status === 'RUNNING' || status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED';
}

export interface CancelOutcome {
  readonly requestId: string;
  readonly executionArn: string;
  /** ABORTED once stopped; a request that had failed or timed out keeps that status and is only cleaned up. */
  readonly status: 'ABORTED' | 'FAILED' | 'TIMED_OUT';
  /**
   * True when the execution had ended before: stopped (an earlier cancel, or by hand), failed or timed out.
   * Only the clean-up ran.
   */
  readonly alreadyStopped: boolean;
  /** The state the execution was in when it stopped. */
  readonly state?: string;
  /** ISO 8601, UTC. */
  readonly stoppedAt?: string;
  /** The calibration job that was still running and was stopped; its work directory is kept. */
  readonly stoppedJob?: { readonly node: string; readonly jobId: string; readonly workDir: string };
  /** Keys of the tarballs whose unfinished multipart uploads were discarded. */
  readonly abortedUploads: readonly string[];
  /** The trigger that was removed (the MOUS may be requested again). */
  readonly removedTrigger: string;
  /** The CANCELLED email to the ARC contact: sent now, or already by an earlier cancel. */
  readonly arcContactEmail: { readonly to: string; readonly sent: 'sent' | 'already sent' };
}

export async function cancelRequest(deps: CancelDeps, requestId: string): Promise<OperationResult<CancelOutcome>> {
  const invalid = invalidRequestId(requestId);
  if (invalid) return invalid;
  // A re-driven request runs in its latest re-drive's execution.
  const before = await latestAttempt(deps.executions, requestId);
  if (!before) return requestNotFound(requestId);
  const execution = before.name;
  const request = requestOf(before);
  const { log } = deps;
  if (!mayCancel(before.status)) return finished(requestId, before.status, before.stoppedAt);

  // A failed request keeps its trigger for a re-drive; cancelling it gives it up instead.
  const givenUp = before.status === 'FAILED' || before.status === 'TIMED_OUT';
  const alreadyStopped = before.status !== 'RUNNING';
  // Before the stop: a step still running after it finds the mark and undoes what it began.
  await deps.cancelMarks.mark(requestId, deps.now());
  let after = before;
  if (!alreadyStopped) {
    await deps.executions.stop(execution, CANCELLED_ERROR, `Cancelled through the CalMS API at ${deps.now().toISOString()}.`);
    after = (await deps.executions.describe(execution)) ?? before;
    // It ended on its own between the look and the stop: nothing was cancelled.
    if (after.status !== 'ABORTED') return finished(requestId, after.status, after.stoppedAt);
    log.info('request cancelled: execution stopped');
  }

  // Where it had got to: the states' data hold the job and the uploads. Read after the stop, so nothing moves.
  const events = await deps.executions.recentStates(execution);
  const state = currentState(events);
  const job = submittedJob(events);
  let stoppedJob: CancelOutcome['stoppedJob'];
  if (job && !calibrationSucceeded(events)) {
    try {
      await deps.cluster.cancel(job);
    } catch (error) {
      log.error('the calibration job could not be stopped', { error, node: job.node, jobId: job.jobId });
      return jobNotStopped(requestId, job, error);
    }
    stoppedJob = { node: job.node, jobId: job.jobId, workDir: job.workDir };
    log.info('calibration job stopped', stoppedJob);
  }

  await deps.queue.release(request);
  const staging = stagingOf(events);
  const abortedUploads = (staging?.tarballs ?? []).filter((tarball) => tarball.uploadId && !tarball.result).map((tarball) => tarball.key);
  if (staging) await abortUnfinishedUploads({ store: deps.store, log }, staging);
  await deps.triggers.remove(triggerRecordOf(request));
  const stoppedAt = !givenUp && after.stoppedAt ? new Date(after.stoppedAt) : deps.now();
  const sent = await sendOnce(
    { mailer: deps.mailer, ledger: deps.ledger, log },
    requestId,
    CANCELLED_KIND,
    cancelledReply(request, deps.addresses, stoppedAt),
  );
  await deps.statistics.record(outcomeRecord(request, RequestOutcome.Cancelled, stoppedAt));

  return ok({
    requestId,
    executionArn: after.executionArn,
    status: after.status === 'FAILED' || after.status === 'TIMED_OUT' ? after.status : 'ABORTED',
    alreadyStopped,
    ...(state ? { state } : {}),
    ...(after.stoppedAt ? { stoppedAt: after.stoppedAt } : {}),
    ...(stoppedJob ? { stoppedJob } : {}),
    abortedUploads,
    removedTrigger: request.triggerName,
    arcContactEmail: { to: request.arcContact, sent },
  });
}

function finished(requestId: string, status: string, stoppedAt: string | undefined): OperationResult<never> {
  const when = stoppedAt ? ` at ${stoppedAt}` : '';
  return failed(409, 'REQUEST_FINISHED', `Request ${requestId} has already ended (${status}${when}): there is nothing to cancel.`);
}

const asSentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

function jobNotStopped(requestId: string, job: SubmittedJob, error: unknown): OperationResult<never> {
  const message =
    `Request ${requestId} was stopped, but its calibration job ${job.jobId} on ${job.node} could not be stopped: ${asSentence((error as Error).message)} ` +
    'Its slot and trigger are kept until the job is stopped: run the cancel again.';
  return failed(error instanceof TransientError ? 503 : 500, 'CANCEL_INCOMPLETE', message);
}

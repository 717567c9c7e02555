/**
 * The calibration steps of one MOUS request (the first half of the seed's stagecalms): choose a node, submit
 * the job, wait on its node for it to end, check how it ended, and on failure tell the maintainer with the job's
 * log. The waiting is done in steps of up to CALMS_WAIT_STEP_SECONDS each, on the node, so the history grows by
 * one step per quarter of an hour while staging still starts within one look of the job's end.
 */
import type { CalibrationJob, Cluster, JobLogTail, NodeChoice, SubmittedJob } from '../cluster/Cluster';
import type { JobLogStore } from '../storage/JobLogStore';
import { JobState } from '../cluster/Cluster';
import { ClusterJobFailedError } from '../cluster/errors';
import { type CalibrationFailure, calibrationFailureText, logExcerpt, REPORTED_LOG_BYTES, stagecalmsCommandLine } from '../domain/messages';
import { attemptKind } from '../domain/redrive';
import type { MousRequest } from '../domain/request';
import { RequestCancelledError, StorageUnavailableError, TerminalError } from '../errors';
import type { Failure } from '../domain/failure';
import { notifyMaintainerOfFailure, type StepDeps } from './steps';

export interface CalibrationTiming {
  /** Seconds between two looks at the running job, on its node. */
  readonly pollSeconds: number;
  /** How long one WaitForCalibrationJob step waits for the job's end. */
  readonly stepSeconds: number;
  /** A job still running this long after submission is stopped and the request fails. */
  readonly maxRuntimeSeconds: number;
}

export interface CalibrationDeps extends StepDeps {
  readonly cluster: Cluster;
  readonly timing: CalibrationTiming;
  /** Where the request's delivery would be staged; the failure report names it, as stagecalms did. */
  readonly deliveryLocation: (request: MousRequest) => string;
  /** Part size of the tarball uploads; the job checksums its tarballs in parts of this size. */
  readonly tarPartBytes: number;
  /** Where a failed job's whole log is kept. */
  readonly jobLogs: JobLogStore;
}

/** What the state machine carries from submission to the checks (plain JSON). */
export interface Calibration {
  readonly job: SubmittedJob;
  /** The interval in force at submission holds for the whole job. */
  readonly pollSeconds: number;
  /** ISO 8601, UTC: past this the job is stopped. Fixed at submission, like the interval. */
  readonly deadline: string;
}

/** What a waiting step saw: the job still runs (wait again), or it ended or reached its deadline (check it). */
export interface CalibrationWait {
  readonly state: typeof JobState.Running | 'ended';
}

export interface CalibrationProgress {
  readonly state: typeof JobState.Succeeded;
  readonly measurementSets: readonly string[];
}

/** The job ran past the configured maximum runtime and was stopped; its work directory is kept. */
export class CalibrationTimedOutError extends TerminalError {
  override name = 'CalibrationTimedOutError';
}

function calibrationJob(request: MousRequest, tarPartBytes: number): CalibrationJob {
  return {
    tarPartBytes,
    requestId: request.requestId,
    mous: request.mous,
    projectCode: request.projectCode,
    helpdeskTicket: request.helpdeskTicket,
    calibratorFields: request.calibratorFields,
  };
}

export function chooseClusterNode(deps: CalibrationDeps): Promise<NodeChoice> {
  return deps.cluster.chooseNode();
}

export async function submitCalibrationJob(deps: CalibrationDeps, request: MousRequest, node: string): Promise<Calibration> {
  const job = await deps.cluster.submit(node, calibrationJob(request, deps.tarPartBytes));
  // A cancel that read the execution's history before this job existed could not stop it: it is stopped here.
  if (await deps.cancelMarks.isMarked(request.requestId)) {
    await deps.cluster.cancel(job);
    throw new RequestCancelledError(`Request ${request.requestId} was cancelled while its job was submitted on ${job.node}; the job was stopped.`);
  }
  // The next request in the queue is let in only now, so jobs start on the cluster in arrival order.
  await deps.queue.renew(request.requestId, true);
  const deadline = new Date(Date.parse(job.submittedAt) + deps.timing.maxRuntimeSeconds * 1000).toISOString();
  return { job, pollSeconds: deps.timing.pollSeconds, deadline };
}

/**
 * One waiting step: renews the slot's lease, waits on the node for the job to end (until its deadline at the
 * latest), and renews the lease again. How the job ended is CheckCalibrationJob's to tell.
 */
export async function waitForCalibrationJob(deps: CalibrationDeps, calibration: Calibration): Promise<CalibrationWait> {
  const { job } = calibration;
  await deps.queue.renew(job.requestId);
  const untilDeadline = Math.ceil((Date.parse(calibration.deadline) - deps.now().getTime()) / 1000);
  if (untilDeadline <= 0) return { state: 'ended' };
  const status = await deps.cluster.awaitEnd(job, Math.min(deps.timing.stepSeconds, untilDeadline), calibration.pollSeconds);
  // And after it: the lease then only has to outlast one step or the hand-over to the next, not both.
  await deps.queue.renew(job.requestId);
  return { state: status.state === JobState.Running && deps.now().getTime() <= Date.parse(calibration.deadline) ? JobState.Running : 'ended' };
}

/**
 * How the job ended, once WaitForCalibrationJob saw it end or reach its deadline. A failed job throws
 * ClusterJobFailedError; one still running (so at its deadline: the wait hands over only then) is stopped and
 * throws CalibrationTimedOutError: both leave the work directory for investigation.
 */
export async function checkCalibrationJob(deps: CalibrationDeps, calibration: Calibration): Promise<CalibrationProgress> {
  const { job } = calibration;
  // Each step renews the staging slot's lease: a request that stops taking steps (crashed) loses it.
  await deps.queue.renew(job.requestId);
  const status = await deps.cluster.status(job);
  if (status.state === JobState.Failed) throw new ClusterJobFailedError(`The calibration job on ${job.node} failed: ${status.reason}.`);
  if (status.state === JobState.Succeeded) {
    deps.log.info('calibration completed', { requestId: job.requestId, mous: job.mous, measurementSets: status.measurementSets.join(',') });
    return status;
  }
  await deps.cluster.cancel(job);
  throw new CalibrationTimedOutError(
    `The calibration job on ${job.node} was still running at its deadline ${calibration.deadline} (submitted ${job.submittedAt}); it was stopped.`,
  );
}

/**
 * The seed's "copy the whole output into an email to the maintainer": what stagecalms would have printed, the
 * job's log and the seed's two failure lines. The email carries the log's last {@link REPORTED_LOG_BYTES} (read
 * with `tail -c` on the node); the whole log is streamed from the node into the data bucket beside the request
 * and named in the email, so no step holds an unbounded log in memory. Nothing is removed: work directory and
 * trigger stay. A log the node cannot give is reported as such; a report without it is better than none.
 */
export async function reportCalibrationFailure(
  deps: CalibrationDeps,
  request: MousRequest,
  failure: Failure,
  job: SubmittedJob | undefined,
): Promise<Failure> {
  const logged = job ? await jobLogOf(deps, request, job) : {};
  const text = calibrationFailureText({
    commandLine: stagecalmsCommandLine(request),
    node: job?.node,
    workDir: job?.workDir,
    ...logged,
    deliveryLocation: deps.deliveryLocation(request),
    mous: request.mous,
  });
  return notifyMaintainerOfFailure(deps, request, failure, { text });
}

/** The name the whole log of this attempt's job is kept under, beside the request's other records. */
export function jobLogName(request: MousRequest): string {
  return `${attemptKind('calms-job', request)}.log`;
}

async function jobLogOf(
  deps: CalibrationDeps,
  request: MousRequest,
  job: SubmittedJob,
): Promise<Pick<CalibrationFailure, 'jobLog' | 'jobLogCutFrom' | 'jobLogKept'>> {
  let tail: JobLogTail;
  try {
    tail = await deps.cluster.readLogTail(job, REPORTED_LOG_BYTES);
  } catch (error) {
    return { jobLog: `(the job log could not be read from ${job.node}: ${(error as Error).message})` };
  }
  const cut = tail.totalBytes > REPORTED_LOG_BYTES ? { jobLogCutFrom: tail.totalBytes } : {};
  const excerpt = { jobLog: logExcerpt(tail.text, tail.totalBytes), ...cut };
  if (tail.totalBytes === 0) return excerpt;
  try {
    const kept = await deps.jobLogs.store(request.requestId, jobLogName(request), deps.cluster.streamLog(job));
    return { ...excerpt, jobLogKept: kept.location };
  } catch (error) {
    // S3 away: the report is retried. The node failing mid-stream is reported, with the end of the log.
    if (error instanceof StorageUnavailableError) throw error;
    return { ...excerpt, jobLogKept: `nowhere: it could not be copied from ${job.node} (${(error as Error).message})` };
  }
}

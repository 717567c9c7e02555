/**
 * Re-driving a failed request (`calms redrive`) once the maintainer has fixed the cause. Step Functions' own
 * RedriveExecution cannot serve: our failures are caught, reported and end in a Fail state, which a redrive
 * would only run again (and LocalStack does not offer it). So a re-drive is a new execution of the same
 * request, `<requestId>-redrive-<n>`, whose input is the failed state's input; the state machine's first
 * Choice sends it to where the request failed. Pure.
 *
 * Nothing finished is done again: completed tarballs keep their result (and a tarball completed in the failed
 * step is found in S3), emails already sent are in the ledger, and a calibration that succeeded is not re-run.
 */
import { REPORTED_FAILURE_ENDS } from './executionEnd';
import type { MousRequest } from './request';
import { isJsonObject } from '../json';

/**
 * The states a re-drive can resume at. The state machine's `ResumeWhereItFailed` sends the request email, or
 * decides the entitlement again for every other point; `ResumeAfterEntitlement` then goes on to the point.
 */
export const RESUME_POINTS = [
  'EmailRequestToAog',
  'CheckEntitlement',
  'IsUserEntitled',
  'LookForStagedMeasurementSets',
  'AcquireStagingSlot',
  'CopyStagedMeasurementSets',
  'ReleaseStagingSlot',
  'PublishDelivery',
  'EmailDownloadLink',
] as const;
export type ResumePoint = (typeof RESUME_POINTS)[number];

/** The states a caught failure is reported in (their Catch leads here), the short notice a report falls back to included. */
export const FAILURE_REPORTS = ['ReportCalibrationFailure', 'NotifyMaintainerOfFailure', 'NotifyMaintainerBriefly'] as const;

/** The states on a failure's way out: its reports and the Fail states they end in. */
const FAILURE_PATH: readonly string[] = [...FAILURE_REPORTS, ...REPORTED_FAILURE_ENDS];

/**
 * The state a re-drive resumes from, of the states entered (newest first): the newest one not on a failure's way
 * out. That is the state that failed when a Catch led to a report, and the state in flight when the execution
 * was stopped, timed out or failed outside any Catch.
 */
export function failedStateOf<T extends { readonly state: string }>(enteredNewestFirst: readonly T[]): T | undefined {
  return enteredNewestFirst.find((event) => !FAILURE_PATH.includes(event.state));
}

/** What the re-drive's execution input carries besides the failed state's data; `ResumeWhereItFailed` reads it. */
export interface RedriveMarker {
  /** 1 for the first re-drive of a request. */
  readonly attempt: number;
  readonly resumeAt: ResumePoint;
  readonly failedState: string;
  /** The execution that failed (the request itself, or its previous re-drive). */
  readonly previousExecution: string;
}

/** Slot, job and its progress: a calibration that failed is run again, after the request has its slot again. */
const CALIBRATION_FIELDS = ['slot', 'clusterNode', 'calibration', 'calibrationProgress'];

/**
 * Where a failure in each state resumes, and which fields of that state's input go. The slot is given back
 * by every failure report, so what needs it starts again at `AcquireStagingSlot`; a staging that failed keeps
 * its calibration (`AreMeasurementSetsCalibrated` then skips the cluster job).
 */
const RESUMES: Readonly<Record<string, { readonly resumeAt: ResumePoint; readonly drop: readonly string[] }>> = {
  EmailRequestToAog: { resumeAt: 'EmailRequestToAog', drop: [] },
  CheckEntitlement: { resumeAt: 'CheckEntitlement', drop: [] },
  // The decision was no outcome CalMS knows: decide again.
  EntitlementUndecided: { resumeAt: 'CheckEntitlement', drop: ['entitlement'] },
  // Only the reply failed: the entitlement, decided again, leads to the reply of today's outcome.
  ReplyNotEntitled: { resumeAt: 'IsUserEntitled', drop: [] },
  ReplyInvalidMousUid: { resumeAt: 'IsUserEntitled', drop: [] },
  ReplyMousNotDelivered: { resumeAt: 'IsUserEntitled', drop: [] },
  LookForStagedMeasurementSets: { resumeAt: 'LookForStagedMeasurementSets', drop: [] },
  AcquireStagingSlot: { resumeAt: 'AcquireStagingSlot', drop: ['slot'] },
  ChooseClusterNode: { resumeAt: 'AcquireStagingSlot', drop: CALIBRATION_FIELDS },
  SubmitCalibrationJob: { resumeAt: 'AcquireStagingSlot', drop: CALIBRATION_FIELDS },
  CheckCalibrationJob: { resumeAt: 'AcquireStagingSlot', drop: CALIBRATION_FIELDS },
  StageMeasurementSets: { resumeAt: 'AcquireStagingSlot', drop: ['slot'] },
  CopyStagedMeasurementSets: { resumeAt: 'CopyStagedMeasurementSets', drop: [] },
  ReleaseStagingSlot: { resumeAt: 'ReleaseStagingSlot', drop: [] },
  PublishDelivery: { resumeAt: 'PublishDelivery', drop: [] },
  EmailDownloadLink: { resumeAt: 'EmailDownloadLink', drop: [] },
  // In flight when an execution was stopped or timed out (or, for the waiting Tasks, failed): a Choice resumes as
  // the Task it follows or leads to.
  IsUserEntitled: { resumeAt: 'IsUserEntitled', drop: [] },
  AreAllMeasurementSetsStaged: { resumeAt: 'LookForStagedMeasurementSets', drop: ['staging'] },
  IsStagingSlotAcquired: { resumeAt: 'AcquireStagingSlot', drop: ['slot'] },
  WaitForStagingSlot: { resumeAt: 'AcquireStagingSlot', drop: ['slot'] },
  AreMeasurementSetsCalibrated: { resumeAt: 'AcquireStagingSlot', drop: ['slot'] },
  // The job of an execution that ended is stopped (by the watcher, or by the re-submission), so it is run again.
  WaitForCalibrationJob: { resumeAt: 'AcquireStagingSlot', drop: CALIBRATION_FIELDS },
  IsCalibrationJobRunning: { resumeAt: 'AcquireStagingSlot', drop: CALIBRATION_FIELDS },
  AreMeasurementSetsStaged: { resumeAt: 'AcquireStagingSlot', drop: ['slot'] },
  AreStagedMeasurementSetsCopied: { resumeAt: 'CopyStagedMeasurementSets', drop: [] },
  // The delivery is published: only the work directory's removal is left out (it stays for the maintainer).
  WasCalibratedOnCluster: { resumeAt: 'EmailDownloadLink', drop: [] },
  RemoveWorkDirectory: { resumeAt: 'EmailDownloadLink', drop: [] },
};

/** A re-drive that ended before it got past its first Choices resumes where it was sent. */
const REDRIVE_CHOICES = ['IsRedriven', 'ResumeWhereItFailed', 'ResumeAfterEntitlement'];

function resumeOf(state: string, input: Record<string, unknown>): { readonly resumeAt: ResumePoint; readonly drop: readonly string[] } | undefined {
  if (REDRIVE_CHOICES.includes(state)) {
    const marker = input.redrive;
    if (!isJsonObject(marker)) return state === 'IsRedriven' ? { resumeAt: 'EmailRequestToAog', drop: [] } : undefined;
    const resumeAt = (RESUME_POINTS as readonly unknown[]).includes(marker.resumeAt) ? (marker.resumeAt as ResumePoint) : undefined;
    return resumeAt && { resumeAt, drop: [] };
  }
  return RESUMES[state];
}

/** The states a failure of which can be re-driven. */
export const REDRIVABLE_STATES = [...REDRIVE_CHOICES, ...Object.keys(RESUMES)];

const REDRIVE_NAME = /^(.+)-redrive-([1-9]\d*)$/;

/** The execution of a request's `attempt`-th re-drive; attempt 0 is the request's own execution. */
export function attemptExecutionName(requestId: string, attempt: number): string {
  return attempt === 0 ? requestId : `${requestId}-redrive-${attempt}`;
}

/** The request and attempt an execution name stands for. */
export function attemptOf(executionName: string): { readonly requestId: string; readonly attempt: number } {
  const redrive = REDRIVE_NAME.exec(executionName);
  return redrive ? { requestId: redrive[1]!, attempt: Number(redrive[2]) } : { requestId: executionName, attempt: 0 };
}

/**
 * The failure report's unfinished uploads were aborted: their tarballs start a new upload (complete ones keep
 * their result).
 */
function withoutAbortedUploads(staging: unknown): unknown {
  if (!isJsonObject(staging) || !Array.isArray(staging.tarballs)) return staging;
  return {
    ...staging,
    tarballs: staging.tarballs.map((tarball: unknown) => {
      if (!isJsonObject(tarball) || tarball.result !== undefined || tarball.uploadId === undefined) return tarball;
      const { uploadId: _aborted, ...rest } = tarball;
      return rest;
    }),
  };
}

/**
 * The input of the re-drive's execution: the failed state's input without what must be redone, the request
 * numbered with its attempt (so a second failure is reported again), and the marker. Undefined when the state
 * is not one a re-drive can resume from.
 */
export function redriveInput(
  failedState: string,
  failedInput: Record<string, unknown>,
  request: MousRequest,
  attempt: number,
  previousExecution: string,
): { readonly input: Record<string, unknown>; readonly marker: RedriveMarker } | undefined {
  const resume = resumeOf(failedState, failedInput);
  if (!resume) return undefined;
  const kept = Object.fromEntries(
    Object.entries(failedInput).filter(([field]) => field !== 'failure' && field !== 'redrive' && !resume.drop.includes(field)),
  );
  const marker: RedriveMarker = { attempt, resumeAt: resume.resumeAt, failedState, previousExecution };
  const input: Record<string, unknown> = { ...kept, request: { ...request, redrive: attempt }, redrive: marker };
  if (kept.staging !== undefined) input.staging = withoutAbortedUploads(kept.staging);
  return { input, marker };
}

/** The ledger kind and Message-ID word of an email that each attempt sends afresh (the failure report). */
export function attemptKind(kind: string, request: Pick<MousRequest, 'redrive'>): string {
  return request.redrive ? `${kind}-redrive-${request.redrive}` : kind;
}

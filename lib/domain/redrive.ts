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
import type { MousRequest } from './request';
import { isJsonObject } from '../json';

/** The states a re-drive can resume at; each is a branch of the state machine's `ResumeWhereItFailed`. */
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

/** The states whose failure is reported (their Catch leads here); the state entered before one is the failed one. */
export const FAILURE_REPORTS = ['ReportCalibrationFailure', 'NotifyMaintainerOfFailure'] as const;

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
  // The entitlement was decided; only the reply failed, and IsUserEntitled sends it to the same reply again.
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
};

/** The states a failure of which can be re-driven. */
export const REDRIVABLE_STATES = Object.keys(RESUMES);

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
  const resume = RESUMES[failedState];
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

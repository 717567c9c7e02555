/**
 * The Lambdas the state machine calls. They do not catch: a thrown error's `name` is what the state
 * machine's Retry and Catch match on. Each gets the request, so every line it logs carries its keys.
 */
import type { Cluster } from '../cluster/Cluster';
import { type InvocationClock, withInvocationDeadline } from '../invocation';
import { withLogKeys } from '../log';
import { type MousRequest, requestLogKeys } from '../domain/request';
import {
  type Calibration,
  type CalibrationDeps,
  checkCalibrationJob,
  chooseClusterNode,
  reportCalibrationFailure,
  submitCalibrationJob,
  waitForCalibrationJob,
} from '../processing/calibration';
import {
  acquireStagingSlot,
  releaseStagingSlot,
  waitForStagingSlot,
  type DeliveryDeps,
  emailDownloadLink,
  lookForStagedMeasurementSets,
  publishDelivery,
  removeWorkDirectory,
  stageMeasurementSets,
  type StagingDeps,
} from '../processing/staging';
import { abortUnfinishedUploads, type StagingState } from '../staging/stagingState';
import type { Failure } from '../domain/failure';
import {
  checkEntitlement,
  emailRequestToAog,
  notifyMaintainerBriefly,
  notifyMaintainerOfFailure,
  replyToRequest,
  type StepDeps,
} from '../processing/steps';
import type { LazyDeps } from './lazyDeps';

export interface StepEvent {
  readonly request: MousRequest;
}

/**
 * The step runs with the request's id, ticket and MOUS on every log line, its adapters' included, and within
 * its invocation's time: a slow cluster node ends in the Retry or Catch the state machine designed.
 */
const forRequest =
  <E extends StepEvent, R>(handle: (event: E) => Promise<R>) =>
  (event: E, context?: InvocationClock): Promise<R> =>
    withLogKeys(requestLogKeys(event.request), () => withInvocationDeadline(context, () => handle(event)));

export const makeEmailRequestToAogHandler = (deps: StepDeps) => forRequest((event: StepEvent) => emailRequestToAog(deps, event.request));

export const makeCheckEntitlementHandler = (deps: StepDeps) => forRequest((event: StepEvent) => checkEntitlement(deps, event.request));

export const makeReplyToRequestHandler = (deps: StepDeps) =>
  forRequest((event: StepEvent & { outcome: string }) => replyToRequest(deps, event.request, event.outcome));

/** NotifyMaintainerOfFailure, and NotifyMaintainerBriefly, which also passes the failure of the report it stands in for. */
export const makeNotifyMaintainerOfFailureHandler = (deps: StepDeps) =>
  forRequest((event: StepEvent & { failure: Failure; reportFailure?: Failure }) =>
    event.reportFailure
      ? notifyMaintainerBriefly(deps, event.request, event.failure, event.reportFailure)
      : notifyMaintainerOfFailure(deps, event.request, event.failure),
  );

export const makeChooseClusterNodeHandler = (deps: LazyDeps<CalibrationDeps>) =>
  forRequest(async (_event: StepEvent) => chooseClusterNode(await deps()));

export const makeSubmitCalibrationJobHandler = (deps: LazyDeps<CalibrationDeps>) =>
  forRequest(async (event: StepEvent & { node: string }) => submitCalibrationJob(await deps(), event.request, event.node));

export const makeWaitForCalibrationJobHandler = (deps: LazyDeps<CalibrationDeps>) =>
  forRequest(async (event: StepEvent & { calibration: Calibration }) => waitForCalibrationJob(await deps(), event.calibration));

export const makeCheckCalibrationJobHandler = (deps: LazyDeps<CalibrationDeps>) =>
  forRequest(async (event: StepEvent & { calibration: Calibration }) => checkCalibrationJob(await deps(), event.calibration));

/**
 * Gets the execution's whole state: the job is there only if submission got that far, the staging only if
 * staging had begun (its unfinished uploads are discarded, so nothing half-made stays behind).
 */
export const makeReportCalibrationFailureHandler = (deps: LazyDeps<CalibrationDeps & StagingDeps>) =>
  forRequest(async (event: StepEvent & { failure: Failure; calibration?: Calibration; staging?: StagingState }) => {
    const ready = await deps();
    if (event.staging) await abortUnfinishedUploads(ready, event.staging);
    return reportCalibrationFailure(ready, event.request, event.failure, event.calibration?.job);
  });

export const makeLookForStagedMeasurementSetsHandler = (deps: DeliveryDeps) =>
  forRequest((event: StepEvent) => lookForStagedMeasurementSets(deps, event.request));

/** After calibration the event also has the job and the MSs it produced; a re-use has neither. */
export const makeStageMeasurementSetsHandler = (deps: LazyDeps<StagingDeps & { cluster: Cluster }>) =>
  forRequest(async (event: StepEvent & { staging: StagingState; calibration?: Calibration; measurementSets?: string[] }) => {
    const ready = await deps();
    const produced = event.calibration && event.measurementSets ? { job: event.calibration.job, measurementSets: event.measurementSets } : undefined;
    return stageMeasurementSets(ready, ready.cluster, event.request, event.staging, produced);
  });

export const makePublishDeliveryHandler = (deps: DeliveryDeps) =>
  forRequest((event: StepEvent & { staging: StagingState }) => publishDelivery(deps, event.request, event.staging));

export const makeRemoveWorkDirectoryHandler = (deps: LazyDeps<CalibrationDeps>) =>
  forRequest(async (event: StepEvent & { calibration: Calibration }) => {
    const ready = await deps();
    return removeWorkDirectory(ready, ready.cluster, event.calibration.job);
  });

export const makeEmailDownloadLinkHandler = (deps: DeliveryDeps) => forRequest((event: StepEvent) => emailDownloadLink(deps, event.request));

export const makeAcquireStagingSlotHandler = (deps: StepDeps) => forRequest((event: StepEvent) => acquireStagingSlot(deps, event.request));

export const makeWaitForStagingSlotHandler = (deps: StepDeps) => forRequest((event: StepEvent) => waitForStagingSlot(deps, event.request));

export const makeReleaseStagingSlotHandler = (deps: StepDeps) => forRequest((event: StepEvent) => releaseStagingSlot(deps, event.request));

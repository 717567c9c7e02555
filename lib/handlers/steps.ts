/**
 * The Lambdas the state machine calls. They do not catch: a thrown error's `name` is what the state
 * machine's Retry and Catch match on.
 */
import type { MousRequest } from '../domain/request';
import {
  type Calibration,
  type CalibrationDeps,
  checkCalibrationJob,
  chooseClusterNode,
  reportCalibrationFailure,
  submitCalibrationJob,
} from '../processing/calibration';
import {
  decideEntitlement,
  emailRequestToAog,
  type Failure,
  notifyMaintainerOfFailure,
  replyToRequest,
  type StepDeps,
} from '../processing/steps';

export interface StepEvent {
  readonly request: MousRequest;
}

export const makeEmailRequestToAogHandler = (deps: StepDeps) => (event: StepEvent) => emailRequestToAog(deps, event.request);

export const makeCheckEntitlementHandler = (deps: StepDeps) => (event: StepEvent) => decideEntitlement(deps, event.request);

export const makeReplyToRequestHandler = (deps: StepDeps) => (event: StepEvent & { outcome: string }) =>
  replyToRequest(deps, event.request, event.outcome);

export const makeNotifyMaintainerHandler = (deps: StepDeps) => (event: StepEvent & { failure: Failure }) =>
  notifyMaintainerOfFailure(deps, event.request, event.failure);

type Deps<T> = () => Promise<T>;

export const makeChooseClusterNodeHandler = (deps: Deps<CalibrationDeps>) => async () => chooseClusterNode(await deps());

export const makeSubmitCalibrationJobHandler = (deps: Deps<CalibrationDeps>) => async (event: StepEvent & { node: string }) =>
  submitCalibrationJob(await deps(), event.request, event.node);

export const makeCheckCalibrationJobHandler = (deps: Deps<CalibrationDeps>) => async (event: { calibration: Calibration }) =>
  checkCalibrationJob(await deps(), event.calibration);

/** Gets the execution's whole state: the job is there only if submission got that far. */
export const makeReportCalibrationFailureHandler =
  (deps: Deps<CalibrationDeps>) => async (event: StepEvent & { failure: Failure; calibration?: Calibration }) =>
    reportCalibrationFailure(await deps(), event.request, event.failure, event.calibration?.job);

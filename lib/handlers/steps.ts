/**
 * The Lambdas the state machine calls. They do not catch: a thrown error's `name` is what the state
 * machine's Retry and Catch match on.
 */
import type { MousRequest } from '../domain/request';
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

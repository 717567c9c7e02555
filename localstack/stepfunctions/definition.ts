/**
 * Turns an ASL definition into something aws-local-stepfunctions runs the way AWS would, or refuses it with
 * `InvalidDefinition` when the library would silently run it differently.
 */

import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { StepFunctionsError } from './errors';
import { lambdaFunctionName } from './names';

export interface LambdaTask {
  /** The `Resource` as written, for the history's LambdaFunctionScheduled event. */
  readonly resource: string;
  readonly functionName: string;
}

export interface CompiledDefinition {
  readonly machine: StateMachine;
  /** The definition as the machine runs it (long timers shortened, Task timeouts set). */
  readonly definition: JsonObject;
  /** Every Task state, nested ones in Map and Parallel included, by state name (unique in the whole definition). */
  readonly lambdaTasks: ReadonlyMap<string, LambdaTask>;
  /** Names of the states that have a Retry, for a test's retry-interval override. */
  readonly retryingStates: readonly string[];
}

export type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Node fires a timer longer than this after 1 ms instead (TimeoutOverflowWarning): a 30-day Wait would not wait. */
const LONGEST_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Fields the library accepts but ignores, so a machine using them would take other paths locally than on AWS.
 * Refusing them at creation is kinder than a wrong run.
 */
const IGNORED_STATE_FIELDS: Readonly<Record<string, string>> = {
  Assign: 'variables (Assign)',
  ItemReader: 'distributed Map (ItemReader)',
  ItemBatcher: 'distributed Map (ItemBatcher)',
  ResultWriter: 'distributed Map (ResultWriter)',
};

/** Every state of a (sub-)machine, then those of its Parallel branches and Map item processors. */
function* statesOf(machine: JsonObject): Generator<[name: string, state: JsonObject]> {
  if (!isObject(machine.States)) return;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    yield [name, state];
    const branches = Array.isArray(state.Branches) ? state.Branches : [];
    for (const nested of [...branches, state.Iterator, state.ItemProcessor]) {
      if (isObject(nested)) yield* statesOf(nested);
    }
  }
}

function invalid(message: string): StepFunctionsError {
  return new StepFunctionsError('InvalidDefinition', message);
}

function refuseIgnoredFeatures(name: string, state: JsonObject): void {
  if (state.QueryLanguage === 'JSONata') {
    throw invalid(`State "${name}" uses JSONata, which the local Step Functions server does not support; use JSONPath`);
  }
  for (const [field, feature] of Object.entries(IGNORED_STATE_FIELDS)) {
    if (field in state) throw invalid(`State "${name}" uses ${feature}, which the local Step Functions server does not support`);
  }
}

function lambdaTaskOf(name: string, state: JsonObject): LambdaTask {
  const resource = state.Resource;
  const functionName = typeof resource === 'string' ? lambdaFunctionName(resource) : undefined;
  if (typeof resource !== 'string' || functionName === undefined) {
    throw invalid(
      `Task state "${name}" has Resource ${JSON.stringify(resource)}; the local Step Functions server only runs ` +
        'Lambda functions named by ARN (arn:aws:lambda:<region>:<account>:function:<name>)',
    );
  }
  return { resource, functionName };
}

function shortenTimer(holder: JsonObject, field: string): void {
  const seconds = holder[field];
  if (typeof seconds === 'number' && seconds > LONGEST_TIMER_SECONDS) holder[field] = LONGEST_TIMER_SECONDS;
}

/**
 * Checks `definitionText` and prepares it for aws-local-stepfunctions.
 *
 * @throws StepFunctionsError `InvalidDefinition` naming the offending state.
 */
export function compileDefinition(definitionText: string): CompiledDefinition {
  let definition: unknown;
  try {
    definition = JSON.parse(definitionText);
  } catch (error) {
    throw invalid(`The definition is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(definition)) throw invalid('The definition must be a JSON object');
  if (definition.QueryLanguage === 'JSONata') {
    throw invalid('The definition uses JSONata, which the local Step Functions server does not support; use JSONPath');
  }
  shortenTimer(definition, 'TimeoutSeconds');

  const lambdaTasks = new Map<string, LambdaTask>();
  const retryingStates: string[] = [];
  for (const [name, state] of statesOf(definition)) {
    refuseIgnoredFeatures(name, state);
    if (Array.isArray(state.Retry)) retryingStates.push(name);
    if (state.Type === 'Wait') shortenTimer(state, 'Seconds');
    if (state.Type !== 'Task') continue;
    lambdaTasks.set(name, lambdaTaskOf(name, state));
    // AWS lets a task run as long as its Lambda allows; the library would fail it with States.Timeout after 60 s.
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = LONGEST_TIMER_SECONDS;
    shortenTimer(state, 'TimeoutSeconds');
  }

  try {
    return { machine: new StateMachine(definition as unknown as StateMachineDefinition), definition, lambdaTasks, retryingStates };
  } catch (error) {
    throw invalid((error as Error).message);
  }
}

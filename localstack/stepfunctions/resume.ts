/**
 * Where an execution that was running when the local cloud stopped goes on, read from the history it left
 * on disk, and the definition that starts it there. aws-local-stepfunctions can only run a machine from its
 * StartAt, so a resumed run gets a copy of the definition whose StartAt is a Pass state handing the in-flight
 * state its input (a Pass rather than the run's input, so that `$$.Execution.Input` stays the execution's).
 * A Wait in flight continues as a Wait on its original deadline.
 */

import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { JSONPath } from 'jsonpath-plus';
import type { CompiledDefinition, JsonObject } from './definition';
import type { HistoryEvent, LibraryEvent } from './history';

type JsonValue = Parameters<StateMachine['run']>[0];

/** The state to run again when an execution resumes. */
export interface ResumePoint {
  /** A state of the top level of the definition. */
  readonly state: string;
  /** Its input, before its InputPath. */
  readonly input: JsonValue;
  /** Its `…StateEntered` event is in the history already, so the resumed run does not record it again. */
  readonly entered: boolean;
  /** For a Wait in flight: when it ends, epoch milliseconds. */
  readonly waitUntil?: number;
  /** A Lambda of the state was invoked and its answer was lost with the cloud. */
  readonly lambdaLost: boolean;
}

const RESUME_INPUT = 'Resume.Input';
const RESUME_WAIT = 'Resume.Wait';

const LAMBDA_ANSWERS = new Set(['LambdaFunctionSucceeded', 'LambdaFunctionFailed', 'LambdaFunctionTimedOut']);

function statesOf(definition: JsonObject): Record<string, JsonObject> {
  return definition.States as Record<string, JsonObject>;
}

function stateEventName(event: HistoryEvent): { name: string; phase: 'entered' | 'exited'; data: string } | undefined {
  const entered = event.stateEnteredEventDetails;
  if (event.type.endsWith('StateEntered') && entered) return { name: String(entered.name), phase: 'entered', data: String(entered.input) };
  const exited = event.stateExitedEventDetails;
  if (event.type.endsWith('StateExited') && exited) return { name: String(exited.name), phase: 'exited', data: String(exited.output) };
  return undefined;
}

/** Evaluates a JSONPath of a Wait state as the library does (`$$` reads the context, which a Wait seldom needs). */
function pathValue(path: string, input: unknown): unknown {
  return JSONPath({ path, json: input as object, wrap: false });
}

/** When a Wait entered at `enteredAt` (epoch ms) with `input` ends, as the library computes it. */
export function waitDeadline(state: JsonObject, input: JsonValue, enteredAt: number): number {
  const effective = typeof state.InputPath === 'string' ? pathValue(state.InputPath, input) : state.InputPath === null ? {} : input;
  if (typeof state.Seconds === 'number') return enteredAt + state.Seconds * 1000;
  if (typeof state.Timestamp === 'string') return Date.parse(state.Timestamp);
  if (typeof state.SecondsPath === 'string') return enteredAt + Number(pathValue(state.SecondsPath, effective)) * 1000;
  if (typeof state.TimestampPath === 'string') return Date.parse(String(pathValue(state.TimestampPath, effective)));
  return enteredAt;
}

/**
 * Where the execution goes on, from its history as saved: the last top-level state entered and not left
 * runs again with its input (a Task calls its Lambda again, at least once as on AWS; a Wait keeps its
 * deadline). A state left without its successor on disk yet is followed by its `Next`, or (a Choice, an
 * end state) runs again. Nothing entered yet: the execution starts at StartAt.
 */
export function resumePointOf(definition: JsonObject, history: readonly HistoryEvent[], executionInput: JsonValue): ResumePoint {
  const states = statesOf(definition);
  for (let index = history.length - 1; index >= 0; index--) {
    const event = stateEventName(history[index]!);
    if (!event || !(event.name in states)) continue;
    const state = states[event.name]!;
    if (event.phase === 'entered') {
      const input = JSON.parse(event.data) as JsonValue;
      const lambdaEvents = history.slice(index + 1).filter((later) => later.type.startsWith('LambdaFunction'));
      const last = lambdaEvents[lambdaEvents.length - 1];
      return {
        state: event.name,
        input,
        entered: true,
        ...(state.Type === 'Wait' ? { waitUntil: waitDeadline(state, input, history[index]!.timestamp * 1000) } : {}),
        lambdaLost: last !== undefined && !LAMBDA_ANSWERS.has(last.type),
      };
    }
    if (state.Type !== 'Choice' && typeof state.Next === 'string') {
      return { state: state.Next, input: JSON.parse(event.data) as JsonValue, entered: false, lambdaLost: false };
    }
    const enteredBefore = history
      .slice(0, index)
      .map(stateEventName)
      .filter((earlier) => earlier?.name === event.name && earlier.phase === 'entered')
      .pop();
    return { state: event.name, input: JSON.parse(enteredBefore?.data ?? 'null') as JsonValue, entered: false, lambdaLost: false };
  }
  return { state: String(definition.StartAt), input: executionInput, entered: false, lambdaLost: false };
}

export interface ResumedRun {
  readonly machine: StateMachine;
  /** What to pass to `machine.run`. */
  readonly input: JsonValue;
  /**
   * The library's event as the history records it, or undefined to leave it out: the helper states' own
   * events, and the in-flight state's second entry, which the history has already.
   */
  translate(event: LibraryEvent): LibraryEvent | undefined;
}

/**
 * The run that continues `compiled` at `point` for an execution that started at `startDate` (epoch seconds):
 * the machine's own TimeoutSeconds counts from then, not from the resumption.
 */
export function resumedRun(
  compiled: CompiledDefinition,
  point: ResumePoint,
  executionInput: JsonValue,
  startDate: number,
  now = Date.now(),
): ResumedRun {
  const original = compiled.definition;
  const states: Record<string, JsonObject> = { ...statesOf(original) };
  const target = states[point.state];
  if (!target) throw new Error(`the state "${point.state}" where the execution stopped is no longer in its definition`);
  let first = point.state;
  if (point.waitUntil !== undefined) {
    const { Seconds, SecondsPath, Timestamp, TimestampPath, ...rest } = target;
    states[RESUME_WAIT] = { ...rest, Timestamp: new Date(point.waitUntil).toISOString() };
    first = RESUME_WAIT;
  }
  // The library ignores a Pass Result that is false, 0, "" or null: such an input goes in as the run's input.
  const handOver = Boolean(point.input);
  if (handOver) states[RESUME_INPUT] = { Type: 'Pass', Result: point.input, Next: first };
  const definition: JsonObject = { ...original, StartAt: handOver ? RESUME_INPUT : first, States: states };
  if (typeof original.TimeoutSeconds === 'number') {
    definition.TimeoutSeconds = Math.max(0, Math.ceil(startDate + original.TimeoutSeconds - now / 1000));
  }
  // The definition was validated when its state machine was created; the helper states are well formed.
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } });

  // A Wait in flight goes on as the helper Wait, whose entry is left out anyway.
  let enteredAgain = point.entered && point.waitUntil === undefined;
  return {
    machine,
    input: handOver ? executionInput : point.input,
    translate(event) {
      if (event.type !== 'StateEntered' && event.type !== 'StateExited' && event.type !== 'StateFailed') return event;
      const name = event.state.name;
      if (name === RESUME_INPUT) return undefined;
      if (name === RESUME_WAIT) return event.type === 'StateEntered' ? undefined : { ...event, state: { ...event.state, name: point.state } };
      if (enteredAgain && event.type === 'StateEntered' && name === point.state) {
        enteredAgain = false;
        return undefined;
      }
      return event;
    },
  };
}

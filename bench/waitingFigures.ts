/**
 * The history arithmetic of waiting (issue 16): what a request that waits for a slot and then for its job writes
 * into its execution's history, against Step Functions' limit of 25,000 events per execution, which no Catch
 * can handle. Pure, so the unit tests check the definition and the defaults with it and the benchmark projects
 * its measurements with it.
 */

/** Events Step Functions writes for one pass through a state, by its type (AWS's history of a Lambda Task: entered, scheduled, started, succeeded, exited). */
export const EVENTS_PER_STATE: Readonly<Record<string, number>> = { Task: 5, Choice: 2, Wait: 2, Pass: 2, Succeed: 2, Fail: 2 };

/** ExecutionStarted and the event that ends the execution. */
export const EXECUTION_EVENTS = 2;

/** Step Functions stops an execution that reaches this many history events. */
export const HISTORY_EVENT_LIMIT = 25_000;

/** The target: a request that waits 72 h for a slot and then runs a 48 h job. */
export const TARGET = { slotHours: 72, jobHours: 48, maxEvents: 5_000 } as const;

/** Events of one pass through `states` (a loop, or a path), given each state's type. */
export function eventsOf(states: readonly string[], typeOf: (state: string) => string): number {
  return states.reduce((sum, state) => {
    const events = EVENTS_PER_STATE[typeOf(state)];
    if (events === undefined) throw new Error(`no event count for state ${state} of type ${typeOf(state)}`);
    return sum + events;
  }, 0);
}

/** Events written while waiting `hours` in a loop of `eventsPerStep` events per step of `stepSeconds`. */
export function waitingEvents(hours: number, stepSeconds: number, eventsPerStep: number): number {
  return Math.ceil((hours * 3600) / stepSeconds) * eventsPerStep;
}

export interface WaitingHistory {
  /** One step of the slot-wait loop and of the job-wait loop. */
  readonly slotEventsPerStep: number;
  readonly jobEventsPerStep: number;
  /** Seconds one step waits. */
  readonly slotStepSeconds: number;
  readonly jobStepSeconds: number;
  /** Everything else the execution writes, from its start to its end. */
  readonly otherEvents: number;
}

/** The events of the target's request: 72 h of slot steps, 48 h of job steps, and the rest. */
export function targetEvents(history: WaitingHistory): number {
  return (
    waitingEvents(TARGET.slotHours, history.slotStepSeconds, history.slotEventsPerStep) +
    waitingEvents(TARGET.jobHours, history.jobStepSeconds, history.jobEventsPerStep) +
    history.otherEvents
  );
}

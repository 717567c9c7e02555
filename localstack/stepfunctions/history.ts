/**
 * Execution history in the shapes GetExecutionHistory answers on AWS, built from aws-local-stepfunctions'
 * event log plus the Lambda events the server records itself around each invocation.
 */

import type { StateMachine } from 'aws-local-stepfunctions';

/** The library's event log entry (its type is not exported by name). */
export type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type EventDetails = Readonly<Record<string, string | number | Readonly<Record<string, boolean>> | undefined>>;

/** One event before it gets its place (id) in a history. Timestamps are epoch seconds, as on the wire. */
export interface HistoryEventContent {
  readonly type: string;
  readonly timestamp: number;
  readonly [details: `${string}EventDetails`]: EventDetails;
}

export interface HistoryEvent extends HistoryEventContent {
  readonly id: number;
  readonly previousEventId: number;
}

function epochSeconds(milliseconds: number = Date.now()): number {
  return milliseconds / 1000;
}

/** Execution data travels as JSON text in AWS events; a state without a result has `null`. */
function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Causes are text on AWS; the library sometimes carries an object (a Lambda error payload). */
export function causeText(cause: unknown): string {
  return typeof cause === 'string' ? cause : json(cause);
}

const NOT_TRUNCATED = { truncated: false } as const;

export function executionStartedEvent(input: string, roleArn: string): HistoryEventContent {
  return {
    type: 'ExecutionStarted',
    timestamp: epochSeconds(),
    executionStartedEventDetails: { input, inputDetails: NOT_TRUNCATED, roleArn },
  };
}

export function executionAbortedEvent(error: string | undefined, cause: string | undefined): HistoryEventContent {
  return { type: 'ExecutionAborted', timestamp: epochSeconds(), executionAbortedEventDetails: { error, cause } };
}

export function executionFailedEvent(error: string, cause: string): HistoryEventContent {
  return { type: 'ExecutionFailed', timestamp: epochSeconds(), executionFailedEventDetails: { error, cause } };
}

export function lambdaScheduledEvent(resource: string, input: unknown): HistoryEventContent {
  return {
    type: 'LambdaFunctionScheduled',
    timestamp: epochSeconds(),
    lambdaFunctionScheduledEventDetails: { resource, input: json(input), inputDetails: NOT_TRUNCATED },
  };
}

export function lambdaStartedEvent(): HistoryEventContent {
  return { type: 'LambdaFunctionStarted', timestamp: epochSeconds() };
}

export function lambdaSucceededEvent(output: unknown): HistoryEventContent {
  return {
    type: 'LambdaFunctionSucceeded',
    timestamp: epochSeconds(),
    lambdaFunctionSucceededEventDetails: { output: json(output), outputDetails: NOT_TRUNCATED },
  };
}

export function lambdaFailedEvent(error: Error): HistoryEventContent {
  return {
    type: 'LambdaFunctionFailed',
    timestamp: epochSeconds(),
    lambdaFunctionFailedEventDetails: { error: error.name, cause: error.message },
  };
}

/**
 * What a resumed execution records for a Lambda whose answer was lost when the local cloud stopped: a failed
 * invocation, before the Task calls it again, as AWS shows a Lambda retried after a service error.
 */
export function lambdaLostEvent(): HistoryEventContent {
  return {
    type: 'LambdaFunctionFailed',
    timestamp: epochSeconds(),
    lambdaFunctionFailedEventDetails: {
      error: 'Lambda.ServiceException',
      cause: 'The local cloud stopped while this function ran; the Task calls it again',
    },
  };
}

/**
 * The AWS event for one library event, or undefined when AWS has none: the library's own ExecutionStarted
 * and ExecutionAborted (the server records those with the role and the stop reason), retries and catches
 * (AWS shows them as Lambda events and the next state), and Parallel branch boundaries.
 */
export function historyEventFrom(event: LibraryEvent): HistoryEventContent | undefined {
  const timestamp = epochSeconds(event.timestamp);
  switch (event.type) {
    case 'StateEntered':
      return {
        type: `${event.state.type}StateEntered`,
        timestamp,
        stateEnteredEventDetails: { name: event.state.name, input: json(event.state.input), inputDetails: NOT_TRUNCATED },
      };
    case 'StateExited':
      return {
        type: `${event.state.type}StateExited`,
        timestamp,
        stateExitedEventDetails: { name: event.state.name, output: json(event.state.output), outputDetails: NOT_TRUNCATED },
      };
    case 'StateFailed':
      // A Lambda that failed has its LambdaFunctionFailed already; only the library's own timeout is news.
      if (event.state.type !== 'Task' || event.Error !== 'States.Timeout') return undefined;
      return {
        type: 'LambdaFunctionTimedOut',
        timestamp,
        lambdaFunctionTimedOutEventDetails: { error: event.Error, cause: causeText(event.Cause) },
      };
    case 'MapIterationStarted':
      return { type: 'MapIterationStarted', timestamp, mapIterationStartedEventDetails: { name: event.parentState.name, index: event.index } };
    case 'MapIterationSucceeded':
      return { type: 'MapIterationSucceeded', timestamp, mapIterationSucceededEventDetails: { name: event.parentState.name, index: event.index } };
    case 'MapIterationFailed':
      return { type: 'MapIterationFailed', timestamp, mapIterationFailedEventDetails: { name: event.parentState.name, index: event.index } };
    case 'ExecutionSucceeded':
      return { type: 'ExecutionSucceeded', timestamp, executionSucceededEventDetails: { output: json(event.output), outputDetails: NOT_TRUNCATED } };
    case 'ExecutionFailed':
      return { type: 'ExecutionFailed', timestamp, executionFailedEventDetails: { error: event.Error, cause: causeText(event.Cause) } };
    case 'ExecutionTimeout':
      return {
        type: 'ExecutionTimedOut',
        timestamp,
        executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'The execution ran longer than the TimeoutSeconds of its state machine' },
      };
    default:
      return undefined;
  }
}

/**
 * The events of one execution, numbered as AWS does (from 1, each pointing at the one before). Once closed
 * (the execution ended) it ignores late events, e.g. a Lambda that answers after StopExecution.
 */
export class ExecutionHistory {
  private closed = false;

  constructor(
    private readonly events: HistoryEvent[],
    private readonly onChange: (events: readonly HistoryEvent[]) => void,
  ) {}

  get all(): readonly HistoryEvent[] {
    return this.events;
  }

  append(content: HistoryEventContent): void {
    if (this.closed) return;
    const id = this.events.length + 1;
    this.events.push({ ...content, id, previousEventId: id - 1 });
    this.onChange(this.events);
  }

  /** Appends the execution's last event and ignores any later one. */
  close(last: HistoryEventContent): void {
    this.append(last);
    this.freeze();
  }

  /** Ignores every later event: the execution goes on in a later server, which continues this history. */
  freeze(): void {
    this.closed = true;
  }
}

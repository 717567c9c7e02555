/**
 * One execution while it runs: drives aws-local-stepfunctions, calls Lambda functions through the invoker,
 * records the history and, when the run ends, the outcome.
 */

import type { StateMachine } from 'aws-local-stepfunctions';
import type { Logger } from '../../lib/log';
import type { CompiledDefinition, LambdaTask } from './definition';
import {
  causeText,
  ExecutionHistory,
  executionAbortedEvent,
  executionFailedEvent,
  executionStartedEvent,
  historyEventFrom,
  lambdaFailedEvent,
  lambdaLostEvent,
  lambdaScheduledEvent,
  lambdaStartedEvent,
  lambdaSucceededEvent,
  type HistoryEvent,
  type HistoryEventContent,
  type LibraryEvent,
} from './history';
import { resumedRun, resumePointOf } from './resume';
import type { ExecutionRecord, FileStore, StateMachineRecord } from './store';

/**
 * Calls a Lambda function by its name and resolves with what it returned.
 * On a function error it rejects with an Error whose `name` is the function's error type, because Retry and
 * Catch match `ErrorEquals` against that name.
 */
export type LambdaInvoker = (functionName: string, payload: unknown) => Promise<unknown>;

type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Parameters<StateMachine['run']>[0];
type Outcome = Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;

export interface ExecutionRunOptions {
  readonly record: ExecutionRecord;
  readonly stateMachine: StateMachineRecord;
  readonly compiled: CompiledDefinition;
  readonly invokeLambda: LambdaInvoker;
  readonly store: FileStore;
  readonly logger: Logger;
  /** See StepFunctionsServerOptions.retryIntervalMs. */
  readonly retryIntervalMs?: number;
  /** Told once, when the execution ends for whatever reason, with its final record. */
  readonly onEnd: (record: ExecutionRecord) => void;
  /** The history so far of an execution that was running when the server stopped; absent for a new one. */
  readonly history?: HistoryEvent[];
}

/**
 * The error the state machine sees for a failed Lambda: its name, and as message the JSON text AWS puts in
 * `Cause` (`{"errorType", "errorMessage", "trace"}`), so Catch outputs and Fail causes read as on AWS.
 */
function lambdaFailure(error: Error): Error {
  const failure = new Error(JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: error.stack?.split('\n') ?? [] }));
  failure.name = error.name;
  return failure;
}

/** Resolves after every pending promise callback has run. */
function afterPendingCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ExecutionRun {
  private current: ExecutionRecord;
  private readonly history: ExecutionHistory;
  private abortLibraryRun: () => void = () => undefined;
  /** The history's write that holds every event so far; a Lambda is called only once it is on disk. */
  private saved: Promise<void> = Promise.resolve();
  /** Set when the server stops under the execution: it is neither ended nor recorded any further. */
  private abandoned = false;

  constructor(private readonly options: ExecutionRunOptions) {
    this.current = options.record;
    const { store, stateMachine } = options;
    this.history = new ExecutionHistory(options.history ?? [], (events) => {
      this.saved = store.saveHistory(stateMachine.name, this.current.name, events);
      this.saved.catch((error: unknown) => this.logWriteFailure(error));
    });
    if (!options.history) this.history.append(executionStartedEvent(options.record.input, stateMachine.roleArn));
  }

  /** Starts the execution once its RUNNING record is on disk. */
  async start(): Promise<void> {
    await this.options.store.saveExecution(this.options.stateMachine.name, this.options.record);
    this.begin(this.options.compiled.machine, JSON.parse(this.options.record.input) as JsonValue, (event) => event);
  }

  /**
   * Continues an execution that was running when an earlier server stopped, from the state in flight then
   * (see resume.ts), in the history it left.
   */
  resume(): void {
    const { record, compiled, logger } = this.options;
    const input = JSON.parse(record.input) as JsonValue;
    const point = resumePointOf(compiled.definition, this.history.all, input);
    let run: ReturnType<typeof resumedRun>;
    try {
      run = resumedRun(compiled, point, input, record.startDate);
    } catch (error) {
      const cause = `The local cloud could not resume this execution: ${(error as Error).message}`;
      this.end({ status: 'FAILED', error: 'States.Runtime', cause }, executionFailedEvent('States.Runtime', cause));
      return;
    }
    if (this.current.status !== 'RUNNING') return;
    if (point.lambdaLost) this.history.append(lambdaLostEvent());
    logger.info('Local execution resumed', { executionArn: record.executionArn, state: point.state, waitUntil: point.waitUntil });
    this.begin(run.machine, run.input, run.translate);
  }

  get record(): ExecutionRecord {
    return this.current;
  }

  get events(): readonly HistoryEvent[] {
    return this.history.all;
  }

  /** Ends the execution as ABORTED now; a Lambda still running finishes unheard. */
  stop(error: string | undefined, cause: string | undefined): ExecutionRecord {
    this.end({ status: 'ABORTED', error, cause }, executionAbortedEvent(error, cause));
    this.abortLibraryRun();
    return this.current;
  }

  /**
   * Leaves the execution RUNNING with its history as it is, for a later server to resume: the server is
   * stopping. A Lambda still running finishes unheard; the resumed Task calls it again.
   */
  abandon(): void {
    this.abandoned = true;
    this.history.freeze();
    this.abortLibraryRun();
  }

  private begin(machine: StateMachine, input: JsonValue, translate: (event: LibraryEvent) => LibraryEvent | undefined): void {
    // StopExecution may have come while the record was being saved.
    if (this.current.status !== 'RUNNING' || this.abandoned) return;
    const { record, stateMachine, compiled } = this.options;
    const run = machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: this.taskHandlers(compiled.lambdaTasks),
        ...(this.options.retryIntervalMs === undefined
          ? {}
          : { retryIntervalOverrides: Object.fromEntries(compiled.retryingStates.map((name) => [name, this.options.retryIntervalMs!])) }),
      },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          // The library sets Input and StartTime itself (StartTime from its own clock, within milliseconds of startDate).
          RoleArn: stateMachine.roleArn,
        },
        StateMachine: { Id: stateMachine.stateMachineArn, Name: stateMachine.name },
      },
    });
    this.abortLibraryRun = run.abort;
    // The outcome is read from the event log; the result only has to be kept from rejecting unhandled.
    run.result.catch(() => undefined);
    this.follow(run.eventLogs, translate).catch((error: unknown) => {
      this.options.logger.error('Local execution broke down', { executionArn: record.executionArn, error });
      const cause = `The local Step Functions server failed: ${String(error)}`;
      this.end({ status: 'FAILED', error: 'States.Runtime', cause }, executionFailedEvent('States.Runtime', cause));
    });
  }

  private async follow(eventLogs: AsyncGenerator<LibraryEvent>, translate: (event: LibraryEvent) => LibraryEvent | undefined): Promise<void> {
    for await (const libraryEvent of eventLogs) {
      const event = translate(libraryEvent);
      if (!event) continue;
      const historyEvent = historyEventFrom(event);
      const outcome = this.outcomeOf(event);
      if (outcome && historyEvent) this.end(outcome, historyEvent);
      else if (historyEvent) this.history.append(historyEvent);
    }
  }

  private outcomeOf(event: LibraryEvent): Outcome | undefined {
    switch (event.type) {
      case 'ExecutionSucceeded':
        return { status: 'SUCCEEDED', output: JSON.stringify(event.output ?? null) };
      case 'ExecutionFailed':
        return { status: 'FAILED', error: event.Error, cause: causeText(event.Cause) };
      case 'ExecutionTimeout':
        return { status: 'TIMED_OUT', error: 'States.Timeout' };
      default:
        return undefined;
    }
  }

  private end(outcome: Outcome, lastEvent: HistoryEventContent): void {
    if (this.current.status !== 'RUNNING' || this.abandoned) return;
    this.history.close(lastEvent);
    this.current = { ...this.current, ...outcome, stopDate: lastEvent.timestamp };
    const { store, stateMachine, logger, onEnd } = this.options;
    store.saveExecution(stateMachine.name, this.current).catch((error: unknown) => this.logWriteFailure(error));
    logger.info('Local execution ended', { executionArn: this.current.executionArn, status: this.current.status, errorName: this.current.error });
    onEnd(this.current);
  }

  private taskHandlers(lambdaTasks: ReadonlyMap<string, LambdaTask>): TaskHandlers {
    const handlers: TaskHandlers = {};
    for (const [stateName, task] of lambdaTasks) {
      handlers[stateName] = (input) => this.invoke(stateName, task, input);
    }
    return handlers;
  }

  private async invoke(stateName: string, task: LambdaTask, input: JsonValue): Promise<JsonValue> {
    // The library calls this in the same tick as it logs TaskStateEntered, but hands that event to the log
    // reader only through promise callbacks: waiting for them keeps the Lambda events after it.
    await afterPendingCallbacks();
    // A Retry pause ends early on StopExecution and calls the Task again; the Lambda must not run then.
    if (this.current.status !== 'RUNNING' || this.abandoned) throw new Error(`Execution ${this.current.name} is no longer running`);
    this.history.append(lambdaScheduledEvent(task.resource, input));
    this.history.append(lambdaStartedEvent());
    // Once the Lambda may have acted, a restart must find this state in flight and call it again.
    await this.saved.catch(() => undefined);
    if (this.abandoned) throw new Error(`Execution ${this.current.name} was left to a later server`);
    this.options.logger.debug('Invoking Lambda for a Task state', { state: stateName, functionName: task.functionName });
    try {
      const output = ((await this.options.invokeLambda(task.functionName, input)) ?? null) as JsonValue;
      this.history.append(lambdaSucceededEvent(output));
      return output;
    } catch (thrown) {
      const failure = lambdaFailure(thrown instanceof Error ? thrown : new Error(String(thrown)));
      this.history.append(lambdaFailedEvent(failure));
      throw failure;
    }
  }

  private logWriteFailure(error: unknown): void {
    this.options.logger.error('Could not save a local execution', { executionArn: this.current.executionArn, error });
  }
}

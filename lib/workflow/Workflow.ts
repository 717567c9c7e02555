/** The state machine that carries one MOUS request from entitlement to delivery. */
export interface Workflow {
  /** Starts the execution `name`; starting the same name with the same input again returns the same execution. */
  start(name: string, input: unknown): Promise<{ executionArn: string }>;
}

/** Step Functions' execution statuses. */
export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** One execution as a listing shows it. Its name is the request id. */
export interface ExecutionSummary {
  readonly name: string;
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  /** ISO 8601, UTC; absent while it runs. */
  readonly stoppedAt?: string;
}

/** One execution in full: its input (the request), and its error and cause when it did not succeed. */
export interface ExecutionDetail extends ExecutionSummary {
  /** The execution input, parsed; undefined when it is not JSON. */
  readonly input: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** A state the execution entered or left, from its history. */
export interface StateEvent {
  readonly state: string;
  readonly phase: 'entered' | 'exited';
  /** ISO 8601, UTC. */
  readonly at: string;
  /** The state's input when entered, its output when left, parsed; undefined when absent or not JSON. */
  readonly data?: unknown;
}

/**
 * What operators do with executions (status, cancel): read, list and stop them. Implementations throw
 * `WorkflowUnavailableError` when Step Functions does not answer.
 */
export interface Executions {
  /** The execution `name` of the state machine; undefined when there is none. */
  describe(name: string): Promise<ExecutionDetail | undefined>;
  /** The executions of the state machine whose name `matches`, newest first. */
  list(matches: (name: string) => boolean): Promise<ExecutionSummary[]>;
  /**
   * The states the execution entered and left, newest first, read page by page until `enough` says the
   * events read so far suffice (all of them when it never does).
   */
  recentStates(name: string, enough?: (events: readonly StateEvent[]) => boolean): Promise<StateEvent[]>;
  /** Stops the execution if it still runs; one that has ended stays as it is. */
  stop(name: string, error: string, cause: string): Promise<void>;
}

/** The state machine itself, as `calms doctor` looks for it. */
export interface StateMachineLookup {
  /** Its name and status (`ACTIVE`, `DELETING`); undefined when there is none at the configured ARN. */
  stateMachine(): Promise<{ readonly name: string; readonly status: string } | undefined>;
}

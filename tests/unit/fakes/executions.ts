import type { MousRequest } from '../../../lib/domain/request';
import type { ExecutionDetail, Executions, ExecutionStatus, ExecutionSummary, StateEvent, Workflow } from '../../../lib/workflow/Workflow';
import { FAKE_STATE_MACHINE_ARN } from './workflow';
import { Failures } from './failures';

/** The execution ARN of `name` in the fake state machine. */
export const executionArnOf = (name: string): string => `${FAKE_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

type Method = keyof Executions | keyof Workflow;

interface Recorded {
  detail: ExecutionDetail;
  /** Oldest first, as the history grows. */
  events: StateEvent[];
}

export interface ExecutionSetup {
  /** The request id unless given: a re-drive's execution has a name of its own. */
  readonly name?: string;
  /** `{ request }` unless given. */
  readonly input?: unknown;
  readonly status?: ExecutionStatus;
  /** States entered in order, each with its input; every one but the last (while running) is also left. */
  readonly states?: readonly (readonly [string, unknown?])[];
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * An in-memory `Executions` of one state machine: executions put in place with the states they went through,
 * stopped as Step Functions stops them (a running one becomes ABORTED, an ended one stays as it is), and
 * started as it starts them (the same name with the same input is the same execution, with other input an error).
 * `endBeforeStop` makes a running execution end on its own just before the stop arrives.
 */
export class FakeExecutions implements Executions, Workflow {
  readonly started: { readonly name: string; readonly input: unknown }[] = [];
  readonly stops: { readonly name: string; readonly error: string; readonly cause: string }[] = [];
  readonly failures = new Failures<Method>();
  readonly historyReads: string[] = [];
  private readonly executions = new Map<string, Recorded>();
  private readonly endings = new Map<string, ExecutionStatus>();

  constructor(private readonly clock: () => Date = () => new Date('2026-11-24T12:00:00Z')) {}

  add(request: MousRequest, setup: ExecutionSetup = {}): ExecutionDetail {
    const name = setup.name ?? request.requestId;
    const status = setup.status ?? 'RUNNING';
    const states = setup.states ?? [['EmailRequestToAog', { request }]];
    const startedAt = setup.startedAt ?? request.requestedAt;
    const events: StateEvent[] = [];
    states.forEach(([state, data], index) => {
      const at = new Date(Date.parse(startedAt) + index * 1000).toISOString();
      events.push({ state, phase: 'entered', at, data });
      if (index < states.length - 1 || status !== 'RUNNING') events.push({ state, phase: 'exited', at, data });
    });
    const detail: ExecutionDetail = {
      name,
      executionArn: executionArnOf(name),
      status,
      startedAt,
      ...(status !== 'RUNNING' ? { stoppedAt: setup.stoppedAt ?? new Date(Date.parse(startedAt) + states.length * 1000).toISOString() } : {}),
      input: setup.input ?? { request },
      ...(setup.error !== undefined ? { error: setup.error } : {}),
      ...(setup.cause !== undefined ? { cause: setup.cause } : {}),
    };
    this.executions.set(name, { detail, events });
    return detail;
  }

  async start(name: string, input: unknown): Promise<{ executionArn: string }> {
    this.failures.check('start');
    const existing = this.executions.get(name);
    if (existing) {
      if (JSON.stringify(existing.detail.input) !== JSON.stringify(input)) throw new Error(`ExecutionAlreadyExists: ${name}`);
      return { executionArn: existing.detail.executionArn };
    }
    this.started.push({ name, input });
    const detail: ExecutionDetail = { name, executionArn: executionArnOf(name), status: 'RUNNING', startedAt: this.clock().toISOString(), input };
    this.executions.set(name, { detail, events: [] });
    return { executionArn: detail.executionArn };
  }

  endBeforeStop(name: string, status: ExecutionStatus): void {
    this.endings.set(name, status);
  }

  statusOf(name: string): ExecutionStatus | undefined {
    return this.executions.get(name)?.detail.status;
  }

  async describe(name: string): Promise<ExecutionDetail | undefined> {
    this.failures.check('describe');
    const recorded = this.executions.get(name);
    return recorded && structuredClone(recorded.detail);
  }

  async list(matches: (name: string) => boolean): Promise<ExecutionSummary[]> {
    this.failures.check('list');
    return [...this.executions.values()]
      .map(({ detail }) => detail)
      .filter((detail) => matches(detail.name))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .map(({ name, executionArn, status, startedAt, stoppedAt }) => ({
        name,
        executionArn,
        status,
        startedAt,
        ...(stoppedAt ? { stoppedAt } : {}),
      }));
  }

  async recentStates(name: string): Promise<StateEvent[]> {
    this.failures.check('recentStates');
    this.historyReads.push(name);
    return structuredClone([...(this.executions.get(name)?.events ?? [])].reverse());
  }

  async stop(name: string, error: string, cause: string): Promise<void> {
    this.failures.check('stop');
    this.stops.push({ name, error, cause });
    const recorded = this.executions.get(name);
    if (!recorded) throw new Error(`ExecutionDoesNotExist: ${name}`);
    const ending = this.endings.get(name);
    if (recorded.detail.status !== 'RUNNING') return;
    const stoppedAt = this.clock().toISOString();
    recorded.detail = ending ? { ...recorded.detail, status: ending, stoppedAt } : { ...recorded.detail, status: 'ABORTED', stoppedAt, error, cause };
  }
}

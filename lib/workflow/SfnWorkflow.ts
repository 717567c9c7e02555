import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { TerminalError, WorkflowUnavailableError } from '../errors';
import { isTransientAwsError } from '../aws/errors';
import type { ExecutionDetail, Executions, ExecutionStatus, ExecutionSummary, StateEvent, StateMachineLookup, Workflow } from './Workflow';

export class SfnWorkflow implements Workflow, Executions, StateMachineLookup {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: unknown): Promise<{ executionArn: string }> {
    try {
      const started = await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionArn: started.executionArn! };
    } catch (error) {
      // Step Functions itself answers a repeated start with equal input; ExecutionAlreadyExists means other input.
      throw translate(error, `start ${name}`);
    }
  }

  /** `arn:aws:states:<region>:<account>:stateMachine:<machine>` → `…:execution:<machine>:<name>`. */
  executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async describe(name: string): Promise<ExecutionDetail | undefined> {
    try {
      const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn(name) }));
      return {
        ...summaryOf({ ...execution, name: execution.name ?? name, executionArn: execution.executionArn ?? this.executionArn(name) }),
        input: parseJson(execution.input),
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw translate(error, `describe ${name}`);
    }
  }

  async list(matches: (name: string) => boolean): Promise<ExecutionSummary[]> {
    const found: ExecutionSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('list the executions', () =>
        this.sfn.send(new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, maxResults: 1000, nextToken })),
      );
      for (const execution of page.executions ?? []) {
        if (execution.name && execution.executionArn && matches(execution.name)) {
          found.push(summaryOf({ ...execution, name: execution.name, executionArn: execution.executionArn }));
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return found.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.name.localeCompare(b.name));
  }

  async recentStates(name: string, enough: (events: readonly StateEvent[]) => boolean = () => false): Promise<StateEvent[]> {
    const events: StateEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(`read the history of ${name}`, () =>
        this.sfn.send(new GetExecutionHistoryCommand({ executionArn: this.executionArn(name), reverseOrder: true, maxResults: 200, nextToken })),
      );
      for (const event of page.events ?? []) {
        const stateEvent = stateEventOf(event);
        if (stateEvent) events.push(stateEvent);
      }
      nextToken = page.nextToken;
    } while (nextToken && !enough(events));
    return events;
  }

  async stop(name: string, error: string, cause: string): Promise<void> {
    await this.call(`stop ${name}`, () => this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn(name), error, cause })));
  }

  async stateMachine(): Promise<{ name: string; status: string } | undefined> {
    try {
      const machine = await this.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: this.stateMachineArn }));
      return { name: machine.name ?? this.stateMachineArn, status: machine.status ?? 'ACTIVE' };
    } catch (error) {
      if (error instanceof Error && error.name === 'StateMachineDoesNotExist') return undefined;
      throw translate(error, `describe the state machine ${this.stateMachineArn}`);
    }
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error, what);
    }
  }
}

function translate(error: unknown, what: string): Error {
  if (isTransientAwsError(error) || !(error instanceof Error) || !('$metadata' in error)) {
    return new WorkflowUnavailableError(`Step Functions did not ${what}: ${(error as Error).message}`, { cause: error });
  }
  return new TerminalError(`Step Functions refused to ${what}: ${error.name}: ${error.message}`, { cause: error });
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExecutionDoesNotExist';
}

function summaryOf(execution: { name: string; executionArn: string; status?: string; startDate?: Date; stopDate?: Date }): ExecutionSummary {
  return {
    name: execution.name,
    executionArn: execution.executionArn,
    status: (execution.status ?? 'RUNNING') as ExecutionStatus,
    startedAt: isoOf(execution.startDate),
    ...(execution.stopDate ? { stoppedAt: isoOf(execution.stopDate) } : {}),
  };
}

function isoOf(date: Date | string | undefined): string {
  if (date === undefined) return new Date(0).toISOString();
  return new Date(date).toISOString();
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stateEventOf(event: HistoryEvent): StateEvent | undefined {
  const at = isoOf(event.timestamp);
  if (event.stateEnteredEventDetails?.name && event.type?.endsWith('StateEntered')) {
    return { state: event.stateEnteredEventDetails.name, phase: 'entered', at, data: parseJson(event.stateEnteredEventDetails.input) };
  }
  if (event.stateExitedEventDetails?.name && event.type?.endsWith('StateExited')) {
    return { state: event.stateExitedEventDetails.name, phase: 'exited', at, data: parseJson(event.stateExitedEventDetails.output) };
  }
  return undefined;
}

/**
 * The Step Functions actions, answering in AWS's response shapes. Keeps an index of state machines and
 * executions in memory; execution input, output and finished histories stay on disk until asked for.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/log';
import { type CompiledDefinition, compileDefinition } from './definition';
import { StepFunctionsError } from './errors';
import { ExecutionRun, type LambdaInvoker } from './execution';
import { executionFailedEvent, type HistoryEvent } from './history';
import { checkName, executionArn, parseExecutionArn, parseStateMachineArn, stateMachineArn, type Account } from './names';
import { pageOf, type Cursor, type PageRequest } from './pagination';
import { executionStatusChangeEvent, type StatusChangeListener } from './statusEvents';
import type { ExecutionRecord, ExecutionStatus, FileStore, StateMachineRecord } from './store';

type ExecutionSummary = Pick<ExecutionRecord, 'executionArn' | 'stateMachineArn' | 'name' | 'status' | 'startDate' | 'stopDate'>;

/**
 * How local clouds before executions resumed across a restart ended the executions they were running when they
 * stopped; the console still names that end in the state directories they left.
 */
export const INTERRUPTED = { error: 'States.Runtime', cause: 'The local cloud stopped while this execution was running' } as const;

function summaryOf({ executionArn, stateMachineArn, name, status, startDate, stopDate }: ExecutionRecord): ExecutionSummary {
  return { executionArn, stateMachineArn, name, status, startDate, stopDate };
}

/**
 * The outcome a history's last event records, for an execution whose history reached its end on disk but
 * whose record did not (the server died between the two writes).
 */
function outcomeOfLastEvent(events: readonly HistoryEvent[]): Partial<ExecutionRecord> | undefined {
  const last = events[events.length - 1];
  const details = (name: string) => (last?.[`${name}EventDetails`] ?? {}) as Record<string, string | undefined>;
  switch (last?.type) {
    case 'ExecutionSucceeded':
      return { status: 'SUCCEEDED', output: details('executionSucceeded').output, stopDate: last.timestamp };
    case 'ExecutionFailed':
      return { status: 'FAILED', error: details('executionFailed').error, cause: details('executionFailed').cause, stopDate: last.timestamp };
    case 'ExecutionTimedOut':
      return { status: 'TIMED_OUT', error: details('executionTimedOut').error, cause: details('executionTimedOut').cause, stopDate: last.timestamp };
    case 'ExecutionAborted':
      return { status: 'ABORTED', error: details('executionAborted').error, cause: details('executionAborted').cause, stopDate: last.timestamp };
    default:
      return undefined;
  }
}

function now(): number {
  return Date.now() / 1000;
}

function parseInput(input: string): void {
  try {
    JSON.parse(input);
  } catch (error) {
    throw new StepFunctionsError('InvalidExecutionInput', `The execution input is not JSON: ${(error as Error).message}`);
  }
}

/** Newest first, as ListExecutions answers; names break ties so that the order (and paging) is stable. */
function newestFirst(a: ExecutionSummary, b: ExecutionSummary): number {
  return b.startDate - a.startDate || a.name.localeCompare(b.name);
}

function executionCursor(execution: ExecutionSummary): Cursor {
  return [execution.startDate, execution.name];
}

function executionComesAfter(execution: ExecutionSummary, [startDate, name]: Cursor): boolean {
  return execution.startDate < (startDate as number) || (execution.startDate === startDate && execution.name > (name as string));
}

export interface StepFunctionsServiceOptions {
  readonly store: FileStore;
  readonly account: Account;
  readonly invokeLambda: LambdaInvoker;
  readonly logger: Logger;
  /** See StepFunctionsServerOptions.retryIntervalMs. */
  readonly retryIntervalMs?: number;
  /** See StepFunctionsServerOptions.onStatusChange. */
  readonly onStatusChange?: StatusChangeListener;
}

export class StepFunctionsService {
  private readonly stateMachines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, ExecutionSummary>();
  private readonly runs = new Map<string, ExecutionRun>();
  /** Executions an earlier server was running when it stopped, until {@link resumeInterrupted}. */
  private interrupted: ExecutionRun[] = [];
  /**
   * By definition text: validating a definition costs the library hundreds of milliseconds, and doing it for
   * every execution stalled this process (and the edge's S3 traffic it carries) under load.
   */
  private readonly compiledDefinitions = new Map<string, CompiledDefinition>();

  private constructor(private readonly options: StepFunctionsServiceOptions) {}

  /**
   * Loads what an earlier server left. The executions it was running stay RUNNING and go on once
   * {@link resumeInterrupted} is called (when the Lambdas they call answer again).
   */
  static async open(options: StepFunctionsServiceOptions): Promise<StepFunctionsService> {
    const service = new StepFunctionsService(options);
    for (const record of await options.store.loadStateMachines()) service.stateMachines.set(record.stateMachineArn, record);
    for (const record of await options.store.loadExecutions()) {
      const final = record.status === 'RUNNING' ? await service.reopen(record) : record;
      service.executions.set(final.executionArn, summaryOf(final));
    }
    return service;
  }

  /** Continues the executions found running at start, each from the state it was in; resolves with how many. */
  resumeInterrupted(): number {
    const interrupted = this.interrupted;
    this.interrupted = [];
    for (const run of interrupted) run.resume();
    return interrupted.length;
  }

  /**
   * Leaves the running executions as they are on disk, for the next server to resume (a stop of the local
   * cloud is no abort), and waits for every file write.
   */
  async shutdown(): Promise<void> {
    for (const run of [...this.runs.values()]) run.abandon();
    await this.options.store.flush();
  }

  async createStateMachine(request: { name: string; definition: string; roleArn: string; type?: string }) {
    checkName('state machine', request.name);
    compileDefinition(request.definition);
    const arn = stateMachineArn(this.options.account, request.name);
    const type = request.type ?? 'STANDARD';
    const existing = this.stateMachines.get(arn);
    if (existing) {
      if (existing.definition !== request.definition || existing.type !== type) {
        throw new StepFunctionsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
      }
      return { stateMachineArn: arn, creationDate: existing.creationDate };
    }
    const record: StateMachineRecord = {
      stateMachineArn: arn,
      name: request.name,
      definition: request.definition,
      roleArn: request.roleArn,
      type,
      creationDate: now(),
    };
    this.stateMachines.set(arn, record);
    await this.options.store.saveStateMachine(record);
    return { stateMachineArn: arn, creationDate: record.creationDate };
  }

  async updateStateMachine(request: { stateMachineArn: string; definition?: string; roleArn?: string }) {
    const existing = this.stateMachine(request.stateMachineArn);
    if (request.definition === undefined && request.roleArn === undefined) {
      throw new StepFunctionsError('ValidationException', 'Give a definition or a roleArn to update');
    }
    if (request.definition !== undefined) compileDefinition(request.definition);
    const record: StateMachineRecord = {
      ...existing,
      definition: request.definition ?? existing.definition,
      roleArn: request.roleArn ?? existing.roleArn,
      updateDate: now(),
    };
    this.stateMachines.set(record.stateMachineArn, record);
    await this.options.store.saveStateMachine(record);
    return { updateDate: record.updateDate };
  }

  /** Like AWS, succeeds for a state machine that does not exist; its executions stay describable. */
  async deleteStateMachine(request: { stateMachineArn: string }) {
    const { stateMachineName } = parseStateMachineArn(request.stateMachineArn);
    if (this.stateMachines.delete(request.stateMachineArn)) await this.options.store.removeStateMachine(stateMachineName);
    return {};
  }

  async listStateMachines(request: PageRequest) {
    const sorted = [...this.stateMachines.values()].sort((a, b) => a.creationDate - b.creationDate || a.name.localeCompare(b.name));
    const page = pageOf(
      sorted,
      request,
      (machine) => [machine.creationDate, machine.name],
      (machine, [creationDate, name]) =>
        machine.creationDate > (creationDate as number) || (machine.creationDate === creationDate && machine.name > (name as string)),
    );
    return {
      stateMachines: page.items.map(({ stateMachineArn, name, type, creationDate }) => ({ stateMachineArn, name, type, creationDate })),
      nextToken: page.nextToken,
    };
  }

  async describeStateMachine(request: { stateMachineArn: string }) {
    const { stateMachineArn, name, definition, roleArn, type, creationDate } = this.stateMachine(request.stateMachineArn);
    return { stateMachineArn, name, status: 'ACTIVE', definition, roleArn, type, creationDate };
  }

  private compiled(definition: string): CompiledDefinition {
    let compiled = this.compiledDefinitions.get(definition);
    if (!compiled) {
      compiled = compileDefinition(definition);
      this.compiledDefinitions.set(definition, compiled);
    }
    return compiled;
  }

  /**
   * Like AWS for standard workflows: starting again with the name and input of a running execution returns
   * that execution; a name already used otherwise is ExecutionAlreadyExists.
   */
  async startExecution(request: { stateMachineArn: string; name?: string; input?: string }) {
    const stateMachine = this.stateMachine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    checkName('execution', name);
    const input = request.input ?? '{}';
    parseInput(input);
    const arn = executionArn(this.options.account, stateMachine.name, name);
    if (this.executions.has(arn)) {
      const running = this.runs.get(arn)?.record;
      if (running?.input === input) return { executionArn: arn, startDate: running.startDate };
      throw new StepFunctionsError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const compiled = this.compiled(stateMachine.definition);
    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: stateMachine.stateMachineArn,
      name,
      status: 'RUNNING',
      input,
      startDate: now(),
      definitionSha256: await this.options.store.saveDefinition(stateMachine.definition),
    };
    const run = this.track(record, stateMachine, compiled);
    await run.start();
    this.options.logger.info('Local execution started', { executionArn: arn });
    this.statusChanged(record);
    return { executionArn: arn, startDate: record.startDate };
  }

  private track(record: ExecutionRecord, stateMachine: StateMachineRecord, compiled: CompiledDefinition, history?: HistoryEvent[]): ExecutionRun {
    const { store, invokeLambda, logger, retryIntervalMs } = this.options;
    const arn = record.executionArn;
    const run = new ExecutionRun({
      record,
      stateMachine,
      compiled,
      invokeLambda,
      store,
      logger,
      retryIntervalMs,
      history,
      onEnd: (final) => {
        this.executions.set(arn, summaryOf(final));
        this.runs.delete(arn);
        this.statusChanged(final);
      },
    });
    this.executions.set(arn, summaryOf(record));
    this.runs.set(arn, run);
    return run;
  }

  async describeExecution(request: { executionArn: string }) {
    const record = await this.executionRecord(request.executionArn);
    const { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause } = record;
    return {
      executionArn,
      stateMachineArn,
      name,
      status,
      startDate,
      stopDate,
      input,
      inputDetails: { included: true },
      output,
      outputDetails: output === undefined ? undefined : { included: true },
      error,
      cause,
    };
  }

  async listExecutions(request: PageRequest & { stateMachineArn: string; statusFilter?: ExecutionStatus }) {
    const { stateMachineArn } = this.stateMachine(request.stateMachineArn);
    const matching = [...this.executions.values()]
      .filter((execution) => execution.stateMachineArn === stateMachineArn)
      .filter((execution) => request.statusFilter === undefined || execution.status === request.statusFilter)
      .sort(newestFirst);
    const page = pageOf(matching, request, executionCursor, executionComesAfter);
    return { executions: page.items, nextToken: page.nextToken };
  }

  async getExecutionHistory(request: PageRequest & { executionArn: string; reverseOrder?: boolean }) {
    const { stateMachineName, executionName } = this.execution(request.executionArn);
    const run = this.runs.get(request.executionArn);
    const events = run ? [...run.events] : await this.options.store.readHistory(stateMachineName, executionName);
    if (request.reverseOrder) events.reverse();
    const page = pageOf<HistoryEvent>(
      events,
      request,
      (event) => [event.id],
      (event, [id]) => (request.reverseOrder ? event.id < (id as number) : event.id > (id as number)),
    );
    return { events: page.items, nextToken: page.nextToken };
  }

  /** Stopping an execution that already ended changes nothing and answers when it ended. */
  async stopExecution(request: { executionArn: string; error?: string; cause?: string }) {
    this.execution(request.executionArn);
    const run = this.runs.get(request.executionArn);
    const record = run ? run.stop(request.error, request.cause) : await this.executionRecord(request.executionArn);
    await this.options.store.flush();
    return { stopDate: record.stopDate };
  }

  async describeStateMachineForExecution(request: { executionArn: string }) {
    const { stateMachineArn } = this.execution(request.executionArn).summary;
    const { name, definition, roleArn, creationDate, updateDate } = this.stateMachine(stateMachineArn);
    return { stateMachineArn, name, definition, roleArn, updateDate: updateDate ?? creationDate };
  }

  /** As Step Functions tells EventBridge; a listener that throws must not break the execution. */
  private statusChanged(record: ExecutionRecord): void {
    try {
      this.options.onStatusChange?.(executionStatusChangeEvent(record, this.options.account));
    } catch (error) {
      this.options.logger.error('Execution status change listener failed', { executionArn: record.executionArn, error });
    }
  }

  private stateMachine(arn: string): StateMachineRecord {
    parseStateMachineArn(arn);
    const record = this.stateMachines.get(arn);
    if (!record) throw new StepFunctionsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return record;
  }

  private execution(arn: string) {
    const names = parseExecutionArn(arn);
    const summary = this.executions.get(arn);
    if (!summary) throw new StepFunctionsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return { ...names, summary };
  }

  private async executionRecord(arn: string): Promise<ExecutionRecord> {
    const { stateMachineName, executionName } = this.execution(arn);
    return this.runs.get(arn)?.record ?? this.options.store.readExecution(stateMachineName, executionName);
  }

  /**
   * An execution found RUNNING at start: ended after all if its history on disk reached its end, else kept
   * to resume, with the definition it started with (its state machine may have been updated since).
   */
  private async reopen(record: ExecutionRecord): Promise<ExecutionRecord> {
    const { store, logger } = this.options;
    const { stateMachineName } = parseExecutionArn(record.executionArn);
    const events = await store.readHistory(stateMachineName, record.name);
    const outcome = outcomeOfLastEvent(events);
    if (outcome) {
      const ended = { ...record, ...outcome };
      await store.saveExecution(stateMachineName, ended);
      return ended;
    }
    const stateMachine: StateMachineRecord = this.stateMachines.get(record.stateMachineArn) ?? {
      stateMachineArn: record.stateMachineArn,
      name: stateMachineName,
      definition: '',
      roleArn: '',
      type: 'STANDARD',
      creationDate: record.startDate,
    };
    let compiled: CompiledDefinition;
    try {
      compiled = this.compiled(record.definitionSha256 ? await store.readDefinition(record.definitionSha256) : stateMachine.definition);
    } catch (error) {
      const cause = `The local cloud could not resume this execution: its definition is gone (${(error as Error).message})`;
      const failed: ExecutionRecord = { ...record, status: 'FAILED', error: 'States.Runtime', cause, stopDate: now() };
      events.push({ ...executionFailedEvent('States.Runtime', cause), id: events.length + 1, previousEventId: events.length });
      await Promise.all([store.saveHistory(stateMachineName, record.name, events), store.saveExecution(stateMachineName, failed)]);
      logger.error('Execution was running when the local cloud stopped and cannot resume', { executionArn: record.executionArn, error });
      return failed;
    }
    this.interrupted.push(this.track(record, stateMachine, compiled, events));
    logger.info('Execution was running when the local cloud stopped; it resumes once the cloud is up', { executionArn: record.executionArn });
    return record;
  }
}

/**
 * Where the console reads executions: Step Functions through the AWS SDK (ListExecutions, DescribeExecution,
 * GetExecutionHistory, DescribeStateMachineForExecution), the same calls against the local edge as against
 * AWS. What cannot change any more (an execution's input, the last state of one that ended) is remembered.
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type ExecutionListItem,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import {
  type ExecutionStatus,
  lastEnteredState,
  matchesTicketOrMous,
  type Outcome,
  OUTCOMES,
  outcomeOf,
  requestSummary,
  type RequestSummary,
  type Step,
  stepsOf,
} from './model';

/** Executions looked at for one list, newest first; older ones are not listed. */
const MOST_SCANNED = 2000;
const REMEMBERED = 10_000;
/** Histories kept, so that a live page or a row opened costs only the events that are new; they can be large. */
const HISTORIES_REMEMBERED = 20;
const PARALLEL_CALLS = 8;

export interface ExecutionRow {
  readonly name: string;
  readonly executionArn: string;
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly request: RequestSummary;
  /** The current state of a running execution, the last state of one that ended. */
  readonly state?: string;
  /** How it ended, and why it was stopped; undefined while it runs. */
  readonly outcome?: { readonly outcome: Outcome; readonly why?: string };
}

export interface ExecutionList {
  readonly rows: readonly ExecutionRow[];
  /** How many executions match, of which `rows` are the newest `limit`. */
  readonly matching: number;
  /** Older executions were not looked at (more than {@link MOST_SCANNED}). */
  readonly scanLimited: boolean;
}

export interface ExecutionDetail {
  readonly execution: Omit<DescribeExecutionCommandOutput, '$metadata'>;
  readonly request: RequestSummary;
  readonly events: readonly HistoryEvent[];
  readonly steps: readonly Step[];
  /** The definition the execution ran with (JSON ASL). */
  readonly definition?: string;
}

export interface ListQuery {
  readonly status?: ExecutionStatus;
  readonly outcome?: Outcome;
  /** Ticket or MOUS, see matchesTicketOrMous. */
  readonly query?: string;
  readonly limit: number;
}

/** Runs `work` on every item, at most `parallel` at once, keeping the order. */
async function mapLimited<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}

/** Keeps `value`, as the newest of at most `most` entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, most = REMEMBERED): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > most) map.delete(map.keys().next().value as K);
  return value;
}

export class ExecutionSource {
  private readonly inputs = new Map<string, string | undefined>();
  private readonly lastStates = new Map<string, string | undefined>();
  private readonly endings = new Map<string, { error?: string; cause?: string }>();
  /** Each history read, and how its execution had ended when it was read (undefined: it ran), as a re-drive goes on with it. */
  private readonly histories = new Map<string, { events: readonly HistoryEvent[]; ended?: string }>();
  private readonly definitions = new Map<string, string | undefined>();

  constructor(
    private readonly sfn: SFNClient,
    readonly stateMachineArn: string,
  ) {}

  /** `arn:aws:states:<region>:<account>:execution:<machine>:<name>` for an execution of this state machine. */
  executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async list({ status, outcome, query, limit }: ListQuery): Promise<ExecutionList> {
    const scanned: ExecutionListItem[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, statusFilter: status, maxResults: 100, nextToken }),
      );
      scanned.push(...(page.executions ?? []));
      nextToken = page.nextToken;
    } while (nextToken && scanned.length < MOST_SCANNED);

    // The execution name holds ticket and MOUS (t<ticket>-<MOUS>-...); the input is read only when it does not.
    let matching = scanned;
    if (query?.trim()) {
      const summaries = await mapLimited(scanned, PARALLEL_CALLS, async (item) => {
        const named = requestSummary(undefined, item.name!);
        return named.ticket !== undefined ? named : requestSummary(await this.input(item.executionArn!), item.name!);
      });
      matching = scanned.filter((_, index) => matchesTicketOrMous(summaries[index]!, query));
    }
    if (outcome === undefined) {
      const rows = await mapLimited(matching.slice(0, limit), PARALLEL_CALLS, (item) => this.row(item));
      return { rows, matching: matching.length, scanLimited: nextToken !== undefined };
    }
    // An outcome needs each candidate's last state (remembered once it ended); the status rules most out first.
    const statuses = OUTCOMES.find((candidate) => candidate.value === outcome)!.statuses as readonly string[];
    const candidates = await mapLimited(
      matching.filter((item) => statuses.includes(item.status!)),
      PARALLEL_CALLS,
      (item) => this.row(item),
    );
    const rows = candidates.filter((row) => row.outcome?.outcome === outcome);
    return { rows: rows.slice(0, limit), matching: rows.length, scanLimited: nextToken !== undefined };
  }

  /** The execution with its whole history and its definition, or undefined if there is no such execution. */
  async execution(name: string): Promise<ExecutionDetail | undefined> {
    const executionArn = this.executionArn(name);
    let described: DescribeExecutionCommandOutput;
    try {
      described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    } catch (error) {
      if (['ExecutionDoesNotExist', 'InvalidArn', 'InvalidName', 'ValidationException'].includes((error as Error).name)) return undefined;
      throw error;
    }
    const { $metadata, ...execution } = described;
    const ended = execution.status === 'RUNNING' ? undefined : `${execution.status} ${execution.stopDate?.getTime()} ${execution.redriveCount ?? 0}`;
    const [events, definition] = await Promise.all([this.history(executionArn, ended), this.definition(executionArn)]);
    const steps = stepsOf(events, execution.status);
    return { execution, request: requestSummary(execution.input, execution.name ?? name), events, steps, definition };
  }

  private async row(item: ExecutionListItem): Promise<ExecutionRow> {
    const executionArn = item.executionArn!;
    const [input, state, ending] = await Promise.all([
      this.input(executionArn),
      this.lastState(executionArn, item.status!),
      this.ending(executionArn, item.status!),
    ]);
    return {
      name: item.name!,
      executionArn,
      status: item.status!,
      startDate: item.startDate!,
      stopDate: item.stopDate,
      request: requestSummary(input, item.name!),
      state,
      outcome: outcomeOf(item.status, state, ending?.error, ending?.cause),
    };
  }

  /** The error and cause of a stopped execution, which say why it was stopped; remembered, as they cannot change. */
  private async ending(executionArn: string, status: string): Promise<{ error?: string; cause?: string } | undefined> {
    if (status !== 'ABORTED') return undefined;
    if (this.endings.has(executionArn)) return this.endings.get(executionArn);
    const { error, cause } = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return remember(this.endings, executionArn, { error, cause });
  }

  private async input(executionArn: string): Promise<string | undefined> {
    if (this.inputs.has(executionArn)) return this.inputs.get(executionArn);
    const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return remember(this.inputs, executionArn, described.input);
  }

  /** The newest StateEntered, read from the end of the history; remembered once the execution has ended. */
  private async lastState(executionArn: string, status: string): Promise<string | undefined> {
    if (this.lastStates.has(executionArn)) return this.lastStates.get(executionArn);
    let nextToken: string | undefined;
    let state: string | undefined;
    for (let page = 0; page < 10 && state === undefined; page += 1) {
      const answer = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 25, nextToken }));
      state = lastEnteredState(answer.events ?? []);
      nextToken = answer.nextToken;
      if (!nextToken) break;
    }
    return status === 'RUNNING' ? state : remember(this.lastStates, executionArn, state);
  }

  private async definition(executionArn: string): Promise<string | undefined> {
    if (this.definitions.has(executionArn)) return this.definitions.get(executionArn);
    const machine = await this.sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn })).catch(() => undefined);
    return machine ? remember(this.definitions, executionArn, machine.definition) : undefined;
  }

  /**
   * The whole history, read once; after that only the events newer than those known, read from the newest
   * backwards, and nothing at all once the execution has ended (`ended` says how, unchanged until a re-drive).
   */
  private async history(executionArn: string, ended: string | undefined): Promise<readonly HistoryEvent[]> {
    const known = this.histories.get(executionArn);
    if (known && ended !== undefined && known.ended === ended) return known.events;
    const events = known
      ? [...known.events, ...(await this.eventsAfter(executionArn, known.events.at(-1)?.id ?? 0))]
      : await this.wholeHistory(executionArn);
    return remember(this.histories, executionArn, { events, ended }, HISTORIES_REMEMBERED).events;
  }

  private async wholeHistory(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  private async eventsAfter(executionArn: string, after: number): Promise<HistoryEvent[]> {
    const newer: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100, nextToken }));
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= after) return newer.reverse();
        newer.push(event);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return newer.reverse();
  }
}

/**
 * What the console shows, worked out from what Step Functions answers (ListExecutions, DescribeExecution,
 * GetExecutionHistory): who and what an execution is for, the steps it went through and where it is now.
 * Pure, so that the same reading works against the local cloud and against AWS.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { mousUidUri, normaliseMousUid, ticketAndMousOf } from '../../lib/domain/identifiers';
import { CANCELLED_ERROR } from '../../lib/operations/cancel';
import { INTERRUPTED } from '../stepfunctions/service';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export const STATUSES: readonly { readonly value: ExecutionStatus; readonly label: string }[] = [
  { value: 'RUNNING', label: 'Running' },
  { value: 'SUCCEEDED', label: 'Succeeded' },
  { value: 'FAILED', label: 'Failed' },
  { value: 'TIMED_OUT', label: 'Timed out' },
  { value: 'ABORTED', label: 'Aborted' },
];

export function statusLabel(status: string | undefined): string {
  return STATUSES.find((candidate) => candidate.value === status)?.label ?? status ?? 'Unknown';
}

/** How a request ended, at a glance: what the operator wants to know of each execution in the list. */
export type Outcome = 'delivered' | 'not-entitled' | 'invalid-mous-uid' | 'mous-not-delivered' | 'failed' | 'cancelled' | 'stopped';

export const OUTCOMES: readonly { readonly value: Outcome; readonly label: string; readonly statuses: readonly ExecutionStatus[] }[] = [
  { value: 'delivered', label: 'Delivered', statuses: ['SUCCEEDED'] },
  { value: 'not-entitled', label: 'Not entitled', statuses: ['SUCCEEDED'] },
  { value: 'invalid-mous-uid', label: 'Invalid MOUS UID', statuses: ['SUCCEEDED'] },
  { value: 'mous-not-delivered', label: 'MOUS not delivered', statuses: ['SUCCEEDED'] },
  { value: 'failed', label: 'Failed', statuses: ['FAILED'] },
  { value: 'cancelled', label: 'Cancelled', statuses: ['ABORTED'] },
  { value: 'stopped', label: 'Stopped / timed out', statuses: ['ABORTED', 'TIMED_OUT'] },
];

/** The state machine's end states for AOG's answers and the delivery (statemachines/calms.asl.yml). */
const END_STATE_OUTCOMES: Readonly<Record<string, Outcome>> = {
  Delivered: 'delivered',
  NotEntitled: 'not-entitled',
  InvalidMousUid: 'invalid-mous-uid',
  MousNotDelivered: 'mous-not-delivered',
};

/** An execution's outcome, with why it was stopped; undefined while it runs. */
export function outcomeOf(
  status: string | undefined,
  lastState: string | undefined,
  error?: string,
  cause?: string,
): { outcome: Outcome; why?: string } | undefined {
  if (status === 'SUCCEEDED')
    return lastState && END_STATE_OUTCOMES[lastState] ? { outcome: END_STATE_OUTCOMES[lastState]! } : { outcome: 'delivered' };
  if (status === 'FAILED') return { outcome: 'failed' };
  if (status === 'TIMED_OUT') return { outcome: 'stopped', why: 'timed out' };
  if (status === 'ABORTED') {
    if (error === CANCELLED_ERROR) return { outcome: 'cancelled', why: 'cancelled through the CalMS API' };
    if (error === INTERRUPTED.error && cause === INTERRUPTED.cause) return { outcome: 'stopped', why: 'the local cloud stopped while it ran' };
    return { outcome: 'stopped', why: 'stopped by hand (StopExecution)' };
  }
  return undefined;
}

export function outcomeLabel(outcome: Outcome): string {
  return OUTCOMES.find((candidate) => candidate.value === outcome)!.label;
}

/**
 * The delivery a delivered execution published (`$.delivery` of its output): the fingerprint of its download
 * token and its expiry. The state carries no token (README, Security); `calms status` gives the link.
 */
export function deliveryOf(output: string | undefined): { readonly tokenFingerprint: string; readonly expiresAt?: string } | undefined {
  try {
    const delivery = (JSON.parse(output ?? '') as { delivery?: { tokenFingerprint?: unknown; expiresAt?: unknown } }).delivery;
    const tokenFingerprint = text(delivery?.tokenFingerprint);
    return tokenFingerprint ? { tokenFingerprint, expiresAt: text(delivery?.expiresAt) } : undefined;
  } catch {
    return undefined;
  }
}

/** The request an execution works on: `request` of the execution input (lib/domain/request.ts MousRequest). */
export interface RequestSummary {
  readonly ticket?: string;
  readonly mous?: string;
  readonly projectCode?: string;
  readonly userName?: string;
  readonly userEmail?: string;
  readonly arcContact?: string;
  readonly calibratorFields?: readonly string[];
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The request fields of an execution input, whatever else it holds; an input that is not CalMS's leaves them
 * out. The execution name (`t<ticket>-<MOUS>-<time>-<suffix>`) stands in for an unreadable input.
 */
export function requestSummary(input: string | undefined, executionName: string): RequestSummary {
  let request: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(input ?? '') as { request?: unknown };
    if (parsed && typeof parsed.request === 'object' && parsed.request !== null) request = parsed.request as Record<string, unknown>;
  } catch {
    // not JSON: the name is all there is
  }
  const named = ticketAndMousOf(executionName);
  const fields = Array.isArray(request.calibratorFields)
    ? request.calibratorFields.filter((field): field is string => typeof field === 'string')
    : undefined;
  return {
    ticket: text(request.helpdeskTicket) ?? named?.helpdeskTicket,
    mous: text(request.mous) ?? named?.mous,
    projectCode: text(request.projectCode),
    userName: text(request.userName),
    userEmail: text(request.userEmail),
    arcContact: text(request.arcContact),
    calibratorFields: fields,
  };
}

/**
 * Whether a request matches what was typed in the ticket/MOUS filter: the ticket exactly (a leading `#` or
 * `t` allowed), or part of the MOUS in either spelling (`uid___A001_X3a0_X201`, `uid://A001/X3a0/X201`).
 */
export function matchesTicketOrMous(summary: RequestSummary, query: string): boolean {
  const wanted = query.trim().toLowerCase();
  if (wanted === '') return true;
  const ticket = wanted.replace(/^[#t]/, '');
  if (summary.ticket !== undefined && summary.ticket.toLowerCase() === ticket) return true;
  if (summary.mous === undefined) return false;
  const whole = normaliseMousUid(query.trim());
  if (whole !== undefined) return whole.toLowerCase() === summary.mous.toLowerCase();
  return summary.mous.toLowerCase().includes(wanted) || mousUidUri(summary.mous).toLowerCase().includes(wanted);
}

export type StepStatus = 'succeeded' | 'caught' | 'failed' | 'running' | 'aborted';

export interface StepError {
  readonly error?: string;
  readonly cause?: string;
  readonly at: Date;
}

/** One visit of a state, from its StateEntered event to its StateExited (or whatever ended it). */
export interface Step {
  /** 1-based, in the order the states were entered. */
  readonly index: number;
  readonly name: string;
  /** Task, Choice, Wait, Succeed, Fail, Pass, Parallel or Map (from the event type). */
  readonly type: string;
  readonly enteredAt: Date;
  readonly exitedAt?: Date;
  /** When the execution left the state (exited, caught, or the execution ended); undefined while in it. */
  readonly endedAt?: Date;
  readonly input?: string;
  readonly output?: string;
  /** Lambda (or other task) failures while in the state: retried ones, then possibly the one caught. */
  readonly errors: readonly StepError[];
  /** Lambda attempts (1 without retries); 0 for states that call nothing. */
  readonly attempts: number;
  readonly status: StepStatus;
  /** The Lambda function (or other resource) the state called. */
  readonly resource?: string;
}

const SUFFIXES = ['StateEntered', 'StateExited'] as const;

function eventDate(event: HistoryEvent): Date {
  return event.timestamp instanceof Date ? event.timestamp : new Date(event.timestamp as unknown as number);
}

/** The error and cause an event carries, of whichever kind (Lambda, task, execution). */
export function eventFailure(event: HistoryEvent): { error?: string; cause?: string } | undefined {
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    const details = value as { error?: unknown; cause?: unknown };
    if (/(Failed|TimedOut|Aborted)EventDetails$/.test(key) && (details.error !== undefined || details.cause !== undefined)) {
      return { error: text(details.error), cause: text(details.cause) };
    }
  }
  return undefined;
}

/**
 * The steps of an execution from its whole history, oldest first. A step left without a StateExited is
 * `caught` when the execution went on to another state (a Catch), and otherwise ends as the execution did.
 */
export function stepsOf(events: readonly HistoryEvent[], executionStatus: string | undefined): Step[] {
  interface Building {
    index: number;
    name: string;
    type: string;
    enteredAt: Date;
    exitedAt?: Date;
    input?: string;
    output?: string;
    errors: StepError[];
    attempts: number;
    resource?: string;
    /** The state's last Lambda (or task) attempt failed: a Catch took over, or a Retry waits. */
    lastAttemptFailed: boolean;
  }
  const building: Building[] = [];
  let executionEnded: Date | undefined;
  for (const event of events) {
    const type = event.type ?? '';
    if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(type)) executionEnded = eventDate(event);
    const current = building.at(-1);
    if (type.endsWith(SUFFIXES[0]) && event.stateEnteredEventDetails) {
      building.push({
        index: building.length + 1,
        name: event.stateEnteredEventDetails.name ?? '?',
        type: type.slice(0, -SUFFIXES[0].length),
        enteredAt: eventDate(event),
        input: event.stateEnteredEventDetails.input,
        errors: [],
        attempts: 0,
        lastAttemptFailed: false,
      });
    } else if (type.endsWith(SUFFIXES[1]) && event.stateExitedEventDetails && current && current.exitedAt === undefined) {
      current.exitedAt = eventDate(event);
      current.output = event.stateExitedEventDetails.output;
    } else if (current && current.exitedAt === undefined) {
      if (/^(Lambda|Task|Activity)\w*Scheduled$/.test(type)) {
        current.attempts += 1;
        current.lastAttemptFailed = false;
        current.resource ??= event.lambdaFunctionScheduledEventDetails?.resource ?? event.taskScheduledEventDetails?.resource;
      }
      if (!type.startsWith('Execution')) {
        const failure = eventFailure(event);
        if (failure) {
          current.errors.push({ ...failure, at: eventDate(event) });
          current.lastAttemptFailed = true;
        }
      }
    }
  }
  return building.map((step, position) => {
    const last = position === building.length - 1;
    let status: StepStatus;
    // A Catch may or may not leave the state with a StateExited (the local server does, with the error).
    if (!last && (step.lastAttemptFailed || step.exitedAt === undefined)) status = 'caught';
    else if (step.exitedAt !== undefined && !step.lastAttemptFailed) status = 'succeeded';
    else if (executionStatus === 'RUNNING') status = 'running';
    else if (executionStatus === 'SUCCEEDED') status = 'succeeded';
    else if (executionStatus === 'ABORTED') status = 'aborted';
    else status = 'failed';
    const endedAt = step.exitedAt ?? building[position + 1]?.enteredAt ?? (status === 'running' ? undefined : executionEnded);
    const { lastAttemptFailed, ...shown } = step;
    return { ...shown, endedAt, status };
  });
}

/**
 * A row of the steps table: one step, or a loop folded into one row ("WaitForStagingSlot ×179"). `first` is
 * the index of its first step and keys the row, so that a live page can replace it as the loop goes on.
 */
export interface StepGroup {
  readonly first: number;
  readonly steps: readonly Step[];
  /** The states of one round of the loop, in order, and how many rounds were made; undefined for one step. */
  readonly loop?: { readonly states: readonly string[]; readonly rounds: number };
}

/** Loops of up to this many states are folded (the state machine's are two: a wait, and the Choice whether to wait again). */
const LONGEST_LOOP = 4;
const FEWEST_ROUNDS = 2;

/** Only steps that went as planned fold: a retried error, a caught one or the current step keep a row of their own. */
const folds = (step: Step) => step.status === 'succeeded' && step.errors.length === 0;

/**
 * The steps with consecutive rounds of the same states folded into one group each. At each step the loop that
 * covers the most steps wins (the shorter one on a tie), so a long wait reads as one row whatever its length.
 */
export function foldSteps(steps: readonly Step[]): StepGroup[] {
  const groups: StepGroup[] = [];
  let at = 0;
  while (at < steps.length) {
    let best: { length: number; rounds: number } | undefined;
    for (let length = 1; length <= LONGEST_LOOP && at + length * FEWEST_ROUNDS <= steps.length; length += 1) {
      const round = steps.slice(at, at + length);
      if (!round.every(folds)) break;
      let rounds = 1;
      while (
        at + (rounds + 1) * length <= steps.length &&
        round.every((step, offset) => {
          const later = steps[at + rounds * length + offset]!;
          return later.name === step.name && folds(later);
        })
      ) {
        rounds += 1;
      }
      if (rounds >= FEWEST_ROUNDS && (!best || rounds * length > best.rounds * best.length)) best = { length, rounds };
    }
    // A loop reads from the state that does something: a Choice leading into it keeps a row of its own.
    const lead = best ? steps.slice(at, at + best.length).findIndex((step) => step.type !== 'Choice') : -1;
    const taken = best && lead <= 0 ? best.length * best.rounds : 1;
    const members = steps.slice(at, at + taken);
    groups.push({
      first: members[0]!.index,
      steps: members,
      loop: taken > 1 && best ? { states: members.slice(0, best.length).map((step) => step.name), rounds: best.rounds } : undefined,
    });
    at += taken;
  }
  return groups;
}

/** The last visit of a state (its last input and output), or undefined if the execution never entered it. */
export function lastVisit(steps: readonly Step[], state: string): Step | undefined {
  return steps.findLast((step) => step.name === state);
}

/** The execution's current state while it runs, else the last state it entered. */
export function currentState(steps: readonly Step[]): string | undefined {
  return steps.at(-1)?.name;
}

/** The name of the state entered last, from the newest events first (GetExecutionHistory with reverseOrder). */
export function lastEnteredState(newestFirst: readonly HistoryEvent[]): string | undefined {
  return newestFirst.find((event) => event.type?.endsWith('StateEntered'))?.stateEnteredEventDetails?.name;
}

/** `2026-11-01 12:34:56 UTC`; with `milliseconds`, `2026-11-01 12:34:56.789 UTC`. */
export function formatTime(date: Date | undefined, milliseconds = false): string {
  if (!date) return '';
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, milliseconds ? 23 : 19)} UTC`;
}

/** `0.4 s`, `12.3 s`, `4 min 05 s`, `3 h 04 min`, `2 d 3 h`. */
export function formatDuration(milliseconds: number): string {
  const ms = Math.max(0, milliseconds);
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  const pad = (value: number) => String(value).padStart(2, '0');
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${pad(Math.floor((seconds % 3600) / 60))} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
}

/** How long from `start` to `stop`, or to `now` while it goes on; '' without a start. */
export function durationOf(start: Date | undefined, stop: Date | undefined, now: Date): string {
  if (!start) return '';
  return formatDuration((stop ?? now).getTime() - start.getTime());
}

/** JSON text indented for reading; anything else as it is. */
export function prettyJson(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

/**
 * The readable part of a failure's cause: a Lambda error's `errorMessage` (its cause is AWS's JSON text
 * `{"errorType", "errorMessage", "trace"}`), or the cause itself.
 */
export function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return cause;
}

/**
 * An execution's steps and events as the console shows them, a page at a time: the newest rows on the page,
 * older ones, the steps of a folded loop, and a row's input, output and details fetched when they are opened.
 * However long the history, the page holds at most {@link STEP_ROWS} step rows and {@link EVENT_ROWS} events.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { type Html, html, queryString } from './html';
import { causeMessage, durationOf, eventFailure, formatTime, lastVisit, prettyJson, type Step, type StepGroup } from './model';

/** Rows of the steps table on a page (a folded loop is one), and steps shown each time a loop is unfolded. */
export const STEP_ROWS = 50;
/** Events on a page, the newest; older ones a page at a time on demand. */
export const EVENT_ROWS = 100;

const STEP_COLUMNS = 7;
const EVENT_COLUMNS = 6;

export function executionPath(name: string): string {
  return `/executions/${encodeURIComponent(name)}`;
}

const STEP_STATUS: Record<Step['status'], string> = {
  succeeded: 'Succeeded',
  caught: 'Caught error',
  failed: 'Failed',
  running: 'In progress',
  aborted: 'Stopped',
};

function stepErrors(step: Step): Html[] {
  const last = step.errors.length - 1;
  return step.errors.map((error, index) => {
    const retried = index < last || step.status === 'succeeded';
    return html`<div class="step-error${retried ? ' retried' : ''}">${retried ? 'Retried after ' : ''}<span class="mono">${error.error ?? 'Error'}</span>: ${causeMessage(error.cause) ?? ''}</div>`;
  });
}

/** A `<details>` whose content the page's script fetches from `source` when it is opened. */
function onDemand(id: string, summary: string, source: string): Html {
  return html`<details id="${id}" data-src="${source}"><summary>${summary}</summary></details>`;
}

/** One step; `key` on the page's own rows (a live page replaces them by it), `fold` on the steps of an unfolded loop. */
function stepRow(name: string, step: Step, now: Date, place: { key: number } | { fold: number }): Html {
  const placed = 'key' in place ? html` data-key="${place.key}"` : html` data-fold="${place.fold}"`;
  return html`<tr class="step-${step.status}${'fold' in place ? ' in-fold' : ''}" data-step="${step.name}"${placed}>
<td>${step.index}</td>
<td><strong>${step.name}</strong>${stepErrors(step)}</td>
<td>${step.type}</td>
<td class="step-status">${STEP_STATUS[step.status]}${step.attempts > 1 ? ` (${step.attempts} attempts)` : ''}</td>
<td>${formatTime(step.enteredAt, true)}</td>
<td>${durationOf(step.enteredAt, step.endedAt, now)}</td>
<td>${onDemand(`step-${step.index}`, `Input${step.output !== undefined ? ' and output' : ''}`, `${executionPath(name)}/steps/${step.index}`)}</td>
</tr>`;
}

function pagerRow(columns: number, link: string, text: string, fold?: number): Html {
  return html`<tr class="pager"${fold !== undefined ? html` data-fold="${fold}"` : ''}><td colspan="${columns}"><a href="${link}" data-rows="replace">${text}</a></td></tr>`;
}

/** A row of the steps table: a step, or a loop folded into one row that unfolds on demand. */
export function groupRow(name: string, group: StepGroup, now: Date): Html {
  if (!group.loop) return stepRow(name, group.steps[0]!, now, { key: group.first });
  const first = group.steps[0]!;
  const last = group.steps.at(-1)!;
  const [named] = group.loop.states;
  const unfold = `${executionPath(name)}/steps${queryString({ from: first.index, to: last.index })}`;
  return html`<tr class="fold step-${last.status}" data-key="${group.first}" data-step="${named}">
<td>${first.index}–${last.index}</td>
<td><strong>${named} ×${group.loop.rounds}</strong><small>Loop: ${group.loop.states.join(' → ')}</small></td>
<td>Loop</td>
<td class="step-status">${STEP_STATUS[last.status]}</td>
<td>${formatTime(first.enteredAt, true)}</td>
<td>${durationOf(first.enteredAt, last.endedAt, now)}</td>
<td><a href="${unfold}" data-rows="after">Show its ${group.steps.length} steps</a></td>
</tr>`;
}

/** The newest {@link STEP_ROWS} rows before the one keyed `before` (all of them without), oldest first. */
export function stepRows(name: string, groups: readonly StepGroup[], now: Date, before?: number): Html {
  const older = before === undefined ? groups : groups.filter((group) => group.first < before);
  const shown = older.slice(-STEP_ROWS);
  const hidden = older.length - shown.length;
  const pager =
    hidden > 0
      ? pagerRow(
          STEP_COLUMNS,
          `${executionPath(name)}/steps${queryString({ before: shown[0]!.first })}`,
          `Show older steps (${hidden} more row${hidden === 1 ? '' : 's'})`,
        )
      : '';
  return html`${pager}${shown.map((group) => groupRow(name, group, now))}`;
}

/** The steps `from` to `to` of a folded loop (keyed `fold`), {@link STEP_ROWS} at a time. */
export function unfoldedRows(name: string, steps: readonly Step[], now: Date, range: { from: number; to: number; fold: number }): Html {
  const wanted = steps.filter((step) => step.index >= range.from && step.index <= range.to);
  const shown = wanted.slice(0, STEP_ROWS);
  const next = wanted[STEP_ROWS];
  const pager = next
    ? pagerRow(
        STEP_COLUMNS,
        `${executionPath(name)}/steps${queryString({ from: next.index, to: range.to, fold: range.fold })}`,
        `Show steps ${next.index}–${range.to}`,
        range.fold,
      )
    : '';
  return html`${shown.map((step) => stepRow(name, step, now, { fold: range.fold }))}${pager}`;
}

/** The state each event belongs to (the state entered last before it), for the events table. */
function eventStates(events: readonly HistoryEvent[]): string[] {
  let state = '';
  return events.map((event) => {
    const name = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
    if (event.stateEnteredEventDetails) state = name ?? '';
    return name ?? (event.type?.startsWith('Execution') ? '' : state);
  });
}

/** Whether an event carries details worth opening (input, output, error, resource ...). */
function hasDetails(event: HistoryEvent): boolean {
  return Object.entries(event).some(
    ([key, value]) =>
      key.endsWith('EventDetails') &&
      value !== null &&
      typeof value === 'object' &&
      Object.values(value as object).some((detail) => detail !== undefined && typeof detail !== 'object'),
  );
}

function eventRow(name: string, event: HistoryEvent, state: string, started: number | undefined): Html {
  const failure = eventFailure(event);
  const elapsed = started !== undefined && event.timestamp ? `+${((event.timestamp.getTime() - started) / 1000).toFixed(3)} s` : '';
  return html`<tr${failure ? html` class="event-failure"` : ''} data-event="${event.id}">
<td>${event.id}</td>
<td>${event.type}${failure ? html`<div class="step-error"><span class="mono">${failure.error ?? ''}</span>: ${causeMessage(failure.cause) ?? ''}</div>` : ''}</td>
<td>${state}</td>
<td>${elapsed}</td>
<td>${formatTime(event.timestamp, true)}</td>
<td>${hasDetails(event) ? onDemand(`event-${event.id ?? 0}`, 'Details', `${executionPath(name)}/events/${event.id ?? 0}`) : ''}</td>
</tr>`;
}

/** The newest {@link EVENT_ROWS} of the events from index `from` to `to`, with a link to the older ones. */
function eventRowsFrom(name: string, events: readonly HistoryEvent[], from: number, to = events.length): Html {
  const states = eventStates(events);
  const started = events[0]?.timestamp?.getTime();
  const first = Math.max(from, to - EVENT_ROWS);
  const rows = [];
  for (let index = first; index < to; index += 1) rows.push(eventRow(name, events[index]!, states[index]!, started));
  const pager =
    first > from
      ? pagerRow(
          EVENT_COLUMNS,
          `${executionPath(name)}/events${queryString({ before: events[first]!.id })}`,
          `Show older events (${first - from} more)`,
        )
      : '';
  return html`${pager}${rows}`;
}

/** The newest {@link EVENT_ROWS} events before the event `before` (all of them without), oldest first. */
export function eventRows(name: string, events: readonly HistoryEvent[], before?: number): Html {
  const to = before === undefined ? events.length : events.findIndex((event) => (event.id ?? 0) >= before);
  return eventRowsFrom(name, events, 0, to < 0 ? events.length : to);
}

/**
 * The events after the event `after`, to be added under those a live page shows; more than a page of them
 * replace the page's rows (`replace`), with a link to the older ones.
 */
export function newEventRows(name: string, events: readonly HistoryEvent[], after: number): { readonly rows: Html; readonly replace: boolean } {
  const from = events.findIndex((event) => (event.id ?? 0) > after);
  if (from < 0) return { rows: html``, replace: false };
  const replace = events.length - from > EVENT_ROWS;
  return { rows: replace ? eventRowsFrom(name, events, 0) : eventRowsFrom(name, events, from), replace };
}

function jsonDetail(label: string, value: string | undefined): Html {
  return value === undefined ? html`` : html`<dt>${label}</dt><dd><pre>${prettyJson(value)}</pre></dd>`;
}

/** A step's input, output and the resource it called. */
export function stepDetails(step: Step): Html {
  return html`<dl class="event">${jsonDetail('Input', step.input)}${jsonDetail('Output', step.output)}${step.resource ? html`<dt>Resource</dt><dd class="mono">${step.resource}</dd>` : ''}</dl>`;
}

/** Each detail of an event (input, output, error, cause, resource ...), JSON indented. */
export function eventDetails(event: HistoryEvent): Html {
  const entries: Html[] = [];
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    for (const [detailName, detail] of Object.entries(value as Record<string, unknown>)) {
      if (detail === undefined || typeof detail === 'object') continue;
      const shown = ['input', 'output', 'cause'].includes(detailName) ? prettyJson(String(detail)) : String(detail);
      entries.push(html`<dt>${detailName}</dt><dd><pre>${shown}</pre></dd>`);
    }
  }
  return html`<dl class="event">${entries}</dl>`;
}

/** A state's last input and output, for the graph: what it was given and gave the last time it was entered. */
export function stateDetails(steps: readonly Step[], state: string, now: Date): Html {
  const step = lastVisit(steps, state);
  if (!step) return html`<h3>${state}</h3><p class="meta">Not visited by this execution.</p>`;
  const visits = steps.filter((candidate) => candidate.name === state).length;
  const output =
    step.output !== undefined
      ? html`<pre class="state-output">${prettyJson(step.output)}</pre>`
      : html`<p class="meta">${step.status === 'running' ? 'Not left yet.' : 'It left without an output.'}</p>`;
  return html`<h3>${state}</h3>
<p class="meta">Last entered at step ${step.index}, ${formatTime(step.enteredAt, true)}${visits > 1 ? ` (${visits} visits)` : ''} · ${STEP_STATUS[step.status]} · ${durationOf(step.enteredAt, step.endedAt, now)}</p>
<div class="io-columns"><div><h4>Last input</h4><pre class="state-input">${prettyJson(step.input)}</pre></div><div><h4>Last output</h4>${output}</div></div>`;
}

/**
 * The console's pages, rendered on the server: the list of executions and one execution. Every value from
 * Step Functions goes through {@link html}, which escapes it.
 */
import { mousUidUri } from '../../lib/domain/request';
import { actionsPanel, keptFlag } from './actions';
import { stateMachineGraph } from './graph';
import { eventRows, executionPath, stepRows } from './history';
import { type Html, html, queryString } from './html';
import {
  causeMessage,
  currentState,
  deliveryOf,
  durationOf,
  type ExecutionStatus,
  foldSteps,
  formatTime,
  type Outcome,
  OUTCOMES,
  outcomeLabel,
  outcomeOf,
  prettyJson,
  type RequestSummary,
  STATUSES,
  statusLabel,
} from './model';
import type { ExecutionDetail, ExecutionList } from './source';

/** How often a page refreshes itself while an execution it shows runs. */
export const LIST_REFRESH_MS = 3000;
export const EXECUTION_REFRESH_MS = 1500;

export interface PageContext {
  readonly stateMachineArn: string;
  readonly now: Date;
  /** The console acts through the CalMS API (actions.ts). */
  readonly actions?: boolean;
}

function page(context: PageContext, title: string, body: Html): string {
  const machine = context.stateMachineArn.split(':').pop() ?? context.stateMachineArn;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body>
<header class="top"><a href="/">CalMS console</a><span class="machine" title="${context.stateMachineArn}">Step Functions · state machine ${machine}</span></header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

function statusBadge(status: string | undefined): Html {
  return html`<span class="status status-${status ?? 'UNKNOWN'}">${statusLabel(status)}</span>`;
}

function liveNote(running: boolean, every: number, now: Date, idle: string, live = 'Running: this page'): Html {
  const updated = `updated ${formatTime(now).slice(11)}`;
  return running
    ? html`<p class="meta live-note">${live} refreshes itself every ${every / 1000} s · ${updated}</p>`
    : html`<p class="meta">${idle} · ${updated}</p>`;
}

export interface ListFilters {
  readonly status?: ExecutionStatus;
  readonly outcome?: Outcome;
  readonly query: string;
  readonly limit: number;
}

function filterForm(filters: ListFilters): Html {
  const options = STATUSES.map(
    ({ value, label }) => html`<option value="${value}"${filters.status === value ? html` selected` : ''}>${label}</option>`,
  );
  const outcomes = OUTCOMES.map(
    ({ value, label }) => html`<option value="${value}"${filters.outcome === value ? html` selected` : ''}>${label}</option>`,
  );
  return html`<form class="filters" method="get" action="/" role="search">
<label>Status<select name="status"><option value="">All statuses</option>${options}</select></label>
<label>Outcome<select name="outcome"><option value="">All outcomes</option>${outcomes}</select></label>
<label>Ticket or MOUS<input type="search" name="q" value="${filters.query}" placeholder="73001 or uid://A001/X3a0/X201" autocomplete="off"></label>
<button type="submit">Filter</button>
${filters.status || filters.outcome || filters.query ? html`<a href="/">Clear filters</a>` : ''}
</form>`;
}

/** The outcome at a glance, and why a stopped execution was stopped (on hover, and in the cell's data). */
function outcomeBadge(outcome: ReturnType<typeof outcomeOf>): Html {
  if (!outcome) return html`<span class="outcome outcome-running">In progress</span>`;
  return html`<span class="outcome outcome-${outcome.outcome}"${outcome.why ? html` title="${outcome.why}"` : ''}>${outcomeLabel(outcome.outcome)}</span>`;
}

function userCell(request: RequestSummary): Html {
  if (!request.userName && !request.userEmail) return html`<td></td>`;
  return html`<td>${request.userName ?? ''}${request.userEmail ? html`<small>${request.userEmail}</small>` : ''}</td>`;
}

export function listPage(context: PageContext, list: ExecutionList, filters: ListFilters): string {
  const rows = list.rows.map((row) => {
    const link = executionPath(row.name);
    return html`<tr data-execution="${row.name}" data-status="${row.status}">
<td>${statusBadge(row.status)}</td>
<td>${outcomeBadge(row.outcome)}</td>
<td><a href="${link}" title="${row.name}">${row.request.ticket ?? row.name}</a></td>
<td class="mono"><a href="${link}">${row.request.mous ?? ''}</a></td>
${userCell(row.request)}
<td>${formatTime(row.startDate)}</td>
<td>${durationOf(row.startDate, row.stopDate, context.now)}</td>
<td class="${row.status === 'RUNNING' ? 'current-state' : ''}">${row.state ?? ''}</td>
</tr>`;
  });
  const filtered = filters.status !== undefined || filters.outcome !== undefined || filters.query !== '';
  const counted = `${list.matching} ${filtered ? 'matching ' : ''}execution${list.matching === 1 ? '' : 's'}`;
  const shown = list.rows.length < list.matching ? `, newest ${list.rows.length} shown` : '';
  const more =
    list.rows.length < list.matching
      ? html`<p><a href="${`/${queryString({ status: filters.status, outcome: filters.outcome, q: filters.query, limit: filters.limit + 100 })}`}">Show 100 more</a></p>`
      : '';
  const table =
    rows.length === 0
      ? html`<p class="empty">No executions${filtered ? ' match these filters' : ' yet'}.</p>`
      : html`<table class="executions">
<thead><tr><th>Status</th><th>Outcome</th><th>Ticket</th><th>MOUS</th><th>User</th><th>Started</th><th>Duration</th><th>Current state</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
  const body = html`<h1>Executions</h1>
${filterForm(filters)}
<div id="live" data-refresh-ms="${LIST_REFRESH_MS}">
<p class="meta count">${counted}${shown}, newest first${list.scanLimited ? ' (only the newest 2000 executions were searched)' : ''}</p>
${liveNote(true, LIST_REFRESH_MS, context.now, '', 'The list')}
${table}
${more}
</div>`;
  return page(context, filtered ? `Executions (filtered) · CalMS console` : 'Executions · CalMS console', body);
}

function field(term: string, value: Html | string | undefined, className = ''): Html {
  return html`<div class="${className}"><dt>${term}</dt><dd>${value === undefined || value === '' ? '—' : value}</dd></div>`;
}

function failurePanel(execution: ExecutionDetail['execution']): Html {
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status ?? '')) return html``;
  const message = causeMessage(execution.cause);
  const fullCause =
    execution.cause !== undefined && message !== execution.cause
      ? html`<details id="full-cause"><summary>Full cause</summary><pre>${prettyJson(execution.cause)}</pre></details>`
      : '';
  return html`<section class="panel failure" aria-label="Failure">
<h2>${statusLabel(execution.status)}: <span class="error mono">${execution.error ?? 'no error name'}</span></h2>
<p class="cause">${message ?? 'No cause given.'}</p>
${fullCause}
</section>`;
}

/** The page title of an execution. */
export function executionTitle(detail: ExecutionDetail): string {
  const { execution, request } = detail;
  return `${request.ticket ? `Ticket ${request.ticket}` : execution.name} · ${request.mous ?? ''} · ${statusLabel(execution.status)} · CalMS console`;
}

/** The top of an execution's page: heading, summary and failure; a live page gets it anew every tick. */
export function executionHead(context: PageContext, detail: ExecutionDetail): Html {
  const { execution, request, steps, events } = detail;
  const running = execution.status === 'RUNNING';
  const state = currentState(steps);
  const outcome = outcomeOf(execution.status, state, execution.error, execution.cause);
  const delivery = deliveryOf(execution.output);
  const mous = request.mous ? html`<span class="mono">${request.mous}</span><small>${mousUidUri(request.mous)}</small>` : undefined;
  const user = request.userName || request.userEmail ? html`${request.userName ?? ''}<small>${request.userEmail ?? ''}</small>` : undefined;
  return html`<div id="live-head">
<h1><span>${request.ticket ? `Ticket ${request.ticket}` : execution.name} · ${request.mous ?? ''}</span> ${statusBadge(execution.status)}</h1>
<p class="meta mono">${execution.name} · <a href="${`${executionPath(execution.name ?? '')}/definition`}" id="definition-link">Definition</a> · <a href="${`${executionPath(execution.name ?? '')}/export`}" id="export-link" download>Export as JSON</a></p>
${liveNote(running, EXECUTION_REFRESH_MS, context.now, 'The execution has ended')}
<section class="panel" aria-label="Summary">
<dl class="summary">
${field(running ? 'Current state' : 'Last state', state ? html`<span class="${running ? 'current-state' : ''}" id="current-state">${state}</span>` : undefined)}
${field('Status', statusBadge(execution.status))}
${field('Outcome', html`${outcomeBadge(outcome)}${outcome?.why ? html` <span class="why">(${outcome.why})</span>` : ''}`)}
${delivery ? html`${field('Download token', html`<span id="delivery-token">${delivery.tokenFingerprint}</span> (the link: calms status)`)}${field('Expires', delivery.expiresAt ? `${formatTime(new Date(delivery.expiresAt))} (unless kept: calms keep)` : undefined)}${context.actions ? field('Kept', keptFlag()) : ''}` : ''}
${field('Helpdesk ticket', request.ticket)}
${field('MOUS', mous)}
${field('Project', request.projectCode)}
${field('User', user)}
${field('ARC contact', request.arcContact)}
${field('Calibrator fields only', request.calibratorFields?.length ? request.calibratorFields.join(', ') : undefined)}
${field('Started', formatTime(execution.startDate))}
${field('Stopped', formatTime(execution.stopDate))}
${field('Duration', durationOf(execution.startDate, execution.stopDate, context.now))}
${field('Steps', `${steps.length} states entered, ${events.length} events`)}
</dl>
</section>
${failurePanel(execution)}
</div>`;
}

/** The execution's input and, once it has ended, its output. */
export function executionIo(execution: ExecutionDetail['execution']): Html {
  const output = execution.output !== undefined ? html`<div><h2>Output</h2><pre class="output">${prettyJson(execution.output)}</pre></div>` : '';
  return html`<section class="panel io io-columns" id="io" aria-label="Input and output">
<div><h2>Input</h2><pre class="input">${prettyJson(execution.input)}</pre></div>
${output}
</section>`;
}

/**
 * One execution. Its steps (loops folded) and events are the newest pages of them; while it runs, the page's
 * script asks `updates` for what changed since the newest event it has (live.ts) instead of reloading.
 */
export function executionPage(context: PageContext, detail: ExecutionDetail): string {
  const { execution, steps, events } = detail;
  const running = execution.status === 'RUNNING';
  const path = executionPath(execution.name ?? '');
  const body = html`<p><a href="/">← All executions</a></p>
${context.actions ? actionsPanel(execution.name) : ''}
<div id="live"${running ? html` data-refresh-ms="${EXECUTION_REFRESH_MS}"` : ''} data-status="${execution.status}" data-updates="${`${path}/updates`}" data-states="${`${path}/states/`}" data-after="${events.at(-1)?.id ?? 0}">
${executionHead(context, detail)}
<section class="panel" aria-label="Graph">
<h2>Graph</h2>
<div class="legend"><span class="l-current">Current state</span><span class="l-passed">Passed through</span><span class="l-caught">Caught error</span><span class="l-failed">Failed</span><span class="l-unvisited">Not visited</span><span class="l-catch">Catch (point at a state to see its own)</span></div>
<div class="graph-and-state">
<div class="graph-scroll">${stateMachineGraph(detail.definition, steps)}</div>
<div id="state-io" class="state-io" aria-live="polite"><p class="meta">Choose a state in the graph to see its last input and output.</p></div>
</div>
</section>
${executionIo(execution)}
<section class="panel" aria-label="Steps">
<h2>Steps</h2>
<table class="steps">
<thead><tr><th>#</th><th>Step</th><th>Type</th><th>Status</th><th>Entered</th><th>Duration</th><th>Input and output</th></tr></thead>
<tbody id="steps-body">${stepRows(execution.name ?? '', foldSteps(steps), context.now)}</tbody>
</table>
</section>
<section class="panel" aria-label="Event history">
<h2>Event history</h2>
<table class="events">
<thead><tr><th>ID</th><th>Type</th><th>Step</th><th>Elapsed</th><th>Timestamp</th><th>Details</th></tr></thead>
<tbody id="events-body">${eventRows(execution.name ?? '', events)}</tbody>
</table>
</section>
</div>`;
  return page(context, executionTitle(detail), body);
}

export function messagePage(context: PageContext, title: string, message: string): string {
  return page(context, `${title} · CalMS console`, html`<p><a href="/">← All executions</a></p><h1>${title}</h1><p>${message}</p>`);
}

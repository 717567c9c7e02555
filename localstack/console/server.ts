/**
 * The console of the local cloud: a web page listing the executions of the CalMS state machine, newest first,
 * with filters, and one page per execution with its graph, input and event history, refreshing itself while
 * the execution runs. It reads Step Functions only through the AWS SDK, so it would show AWS's executions
 * just as well given no endpoint.
 *
 *   GET /                      the executions (?status=RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED, ?outcome=delivered|not-entitled|…, ?q=<ticket or MOUS>)
 *   GET /executions/<name>     one execution
 *   GET /executions/<name>/definition   the state machine definition it ran with (JSON)
 *   GET /executions/<name>/export       the execution, its whole history and definition, as a JSON download
 *   /actions/<requestId>[/<action>]       the operator's actions through the CalMS API (actions.ts)
 *
 * and what the execution's page fetches on demand (history.ts, live.ts):
 *
 *   GET /executions/<name>/updates?after=<event id>    what changed since that event (JSON), for a live page
 *   GET /executions/<name>/steps?before=<step>         older rows of the steps table (HTML rows)
 *   GET /executions/<name>/steps?from=<step>&to=<step> the steps of a folded loop (HTML rows)
 *   GET /executions/<name>/steps/<step>                a step's input and output
 *   GET /executions/<name>/events?before=<event id>    older events (HTML rows)
 *   GET /executions/<name>/events/<event id>           an event's details
 *   GET /executions/<name>/states/<state>              a state's last input and output, for the graph
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SFNClient } from '@aws-sdk/client-sfn';
import { listen } from '../listen';
import { actionAnswer } from './actions';
import { ACTIONS_SCRIPT, ACTIONS_STYLESHEET } from './actionsScript';
import { SCRIPT, STYLESHEET } from './assets';
import { eventDetails, eventRows, stateDetails, stepDetails, stepRows, unfoldedRows } from './history';
import type { Html } from './html';
import { executionUpdate } from './live';
import type { ExecutionStatus } from './model';
import { foldSteps, OUTCOMES, prettyJson, STATUSES } from './model';
import { executionPage, listPage, messagePage, type PageContext } from './pages';
import { type ExecutionDetail, ExecutionSource } from './source';

export interface ConsoleOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly stateMachineArn: string;
  /** Step Functions endpoint (the local edge); undefined for AWS. */
  readonly endpoint?: string;
  readonly region?: string;
  /** The CalMS API the actions go through (`…/local` locally); undefined: the console only watches. */
  readonly apiUrl?: string;
}

export interface ConsoleServer {
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  close(): Promise<void>;
}

const DEFAULT_LIMIT = 100;
const LARGEST_LIMIT = 2000;

const SECURITY_HEADERS = {
  // Only the console's own stylesheet and script; nothing inline, nothing from elsewhere.
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': `${type}; charset=utf-8`, ...SECURITY_HEADERS });
  response.end(body);
}

/** A step or event number in the address, or undefined. */
function wholeNumber(value: string | null | undefined): number | undefined {
  return value && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/** What the numbers an execution's parts take in the address mean, for the error a wrong one gets. */
const NUMBER_PARAMETERS: Readonly<Record<string, string>> = {
  after: 'the id of the newest event the page has',
  before: 'the step or event id the rows come before',
  from: 'the first step of the loop',
  to: 'the last step of the loop',
  fold: 'the first step of the loop the rows unfold',
};

/** The first number parameter given (or `required`) that is not a whole number, with its rule; undefined when all are right. */
function wrongNumber(search: URLSearchParams, required: readonly string[]): string | undefined {
  const wrong = Object.keys(NUMBER_PARAMETERS).find(
    (name) => (search.has(name) || required.includes(name)) && wholeNumber(search.get(name)) === undefined,
  );
  return wrong && `${wrong}: ${NUMBER_PARAMETERS[wrong]}, a whole number\n`;
}

/**
 * The parts of an execution's page fetched on demand, each an HTML fragment; undefined for an address that
 * names none (a step or event the execution does not have, a number that is not one).
 */
function fragment(context: PageContext, detail: ExecutionDetail, part: string, item: string | undefined, search: URLSearchParams): Html | undefined {
  const name = detail.execution.name ?? '';
  if (part === 'steps' && item === undefined) {
    const [from, to] = [wholeNumber(search.get('from')), wholeNumber(search.get('to'))];
    if (from !== undefined && to !== undefined) {
      return unfoldedRows(name, detail.steps, context.now, { from, to, fold: wholeNumber(search.get('fold')) ?? from });
    }
    return stepRows(name, foldSteps(detail.steps), context.now, wholeNumber(search.get('before')));
  }
  if (part === 'steps') {
    const step = detail.steps.find((candidate) => candidate.index === wholeNumber(item));
    return step && stepDetails(step);
  }
  if (part === 'events' && item === undefined) return eventRows(name, detail.events, wholeNumber(search.get('before')));
  if (part === 'events') {
    const event = detail.events.find((candidate) => candidate.id === wholeNumber(item));
    return event && eventDetails(event);
  }
  if (part === 'states' && item !== undefined) return stateDetails(detail.steps, item, context.now);
  return undefined;
}

function statusFilter(value: string | null): ExecutionStatus | undefined {
  return STATUSES.find((status) => status.value === value)?.value;
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const sfn = new SFNClient({ endpoint: options.endpoint, region: options.region });
  const source = new ExecutionSource(sfn, options.stateMachineArn);
  const context = (): PageContext => ({ stateMachineArn: options.stateMachineArn, now: new Date(), actions: options.apiUrl !== undefined });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://console.invalid');
    const action = await actionAnswer(options.apiUrl, request.method ?? '', url.pathname, request.headers);
    if (action) return send(response, action.status, action.type.split(';')[0]!, action.body);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return send(response, 405, 'text/plain', 'Only GET and HEAD\n');
    }
    const notFound = () => send(response, 404, 'text/html', messagePage(context(), 'Not found', 'The console has no such page.'));
    if (url.pathname === '/console.css') return send(response, 200, 'text/css', STYLESHEET + ACTIONS_STYLESHEET);
    if (url.pathname === '/console.js') return send(response, 200, 'text/javascript', SCRIPT + ACTIONS_SCRIPT);
    if (url.pathname === '/favicon.ico') return void response.writeHead(204).end();
    if (url.pathname === '/') {
      const requested = Number(url.searchParams.get('limit'));
      const filters = {
        status: statusFilter(url.searchParams.get('status')),
        outcome: OUTCOMES.find((outcome) => outcome.value === url.searchParams.get('outcome'))?.value,
        query: (url.searchParams.get('q') ?? '').trim().slice(0, 200),
        limit: Number.isInteger(requested) && requested > 0 ? Math.min(requested, LARGEST_LIMIT) : DEFAULT_LIMIT,
      };
      const list = await source.list(filters);
      return send(response, 200, 'text/html', listPage(context(), list, filters));
    }
    const execution = /^\/executions\/([^/]+?)(?:\/(definition|export|updates|steps|events|states)(?:\/([^/]+))?)?$/.exec(url.pathname);
    if (execution) {
      let name: string;
      let item: string | undefined;
      try {
        name = decodeURIComponent(execution[1]!);
        item = execution[3] === undefined ? undefined : decodeURIComponent(execution[3]);
      } catch {
        return send(response, 400, 'text/html', messagePage(context(), 'Bad address', 'The execution name in the address is not valid.'));
      }
      const part = execution[2];
      if (item !== undefined && !['steps', 'events', 'states'].includes(part!)) return notFound();
      const wrong = part === undefined ? undefined : wrongNumber(url.searchParams, part === 'updates' ? ['after'] : []);
      if (wrong) return send(response, 400, 'text/plain', wrong);
      const detail = name.length <= 80 && !name.includes(':') ? await source.execution(name) : undefined;
      if (!detail) return send(response, 404, 'text/html', messagePage(context(), 'No such execution', `There is no execution named ${name}.`));
      if (part === 'definition') return send(response, 200, 'application/json', prettyJson(detail.definition));
      if (part === 'updates') {
        const update = executionUpdate(context(), detail, wholeNumber(url.searchParams.get('after'))!);
        return send(response, 200, 'application/json', JSON.stringify(update));
      }
      if (part === 'export') {
        // Everything the page shows, as Step Functions answered it: for a ticket, a bug report, or a diff.
        response.setHeader('content-disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}.json"`);
        return send(
          response,
          200,
          'application/json',
          JSON.stringify({ execution: detail.execution, events: detail.events, definition: detail.definition }, null, 2),
        );
      }
      if (part === undefined) return send(response, 200, 'text/html', executionPage(context(), detail));
      const shown = fragment(context(), detail, part, item, url.searchParams);
      if (shown) return send(response, 200, 'text/html', shown.text);
      return send(response, 404, 'text/plain', `The execution ${name} has no such part.\n`);
    }
    return notFound();
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (response.headersSent) return void response.destroy();
      send(response, 502, 'text/html', messagePage(context(), 'Step Functions did not answer', `${error.name}: ${error.message}`));
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port, host);
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        sfn.destroy();
      }),
  };
}

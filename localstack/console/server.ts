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
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SFNClient } from '@aws-sdk/client-sfn';
import { listen } from '../listen';
import { actionAnswer } from './actions';
import { ACTIONS_SCRIPT, ACTIONS_STYLESHEET } from './actionsScript';
import { SCRIPT, STYLESHEET } from './assets';
import type { ExecutionStatus } from './model';
import { OUTCOMES, prettyJson, STATUSES } from './model';
import { executionPage, listPage, messagePage, type PageContext } from './pages';
import { ExecutionSource } from './source';

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
    const execution = /^\/executions\/([^/]+?)(\/definition|\/export)?$/.exec(url.pathname);
    if (execution) {
      let name: string;
      try {
        name = decodeURIComponent(execution[1]!);
      } catch {
        return send(response, 400, 'text/html', messagePage(context(), 'Bad address', 'The execution name in the address is not valid.'));
      }
      const detail = name.length <= 80 && !name.includes(':') ? await source.execution(name) : undefined;
      if (!detail) return send(response, 404, 'text/html', messagePage(context(), 'No such execution', `There is no execution named ${name}.`));
      if (execution[2] === '/definition') return send(response, 200, 'application/json', prettyJson(detail.definition));
      if (execution[2] === '/export') {
        // Everything the page shows, as Step Functions answered it: for a ticket, a bug report, or a diff.
        response.setHeader('content-disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}.json"`);
        return send(
          response,
          200,
          'application/json',
          JSON.stringify({ execution: detail.execution, events: detail.events, definition: detail.definition }, null, 2),
        );
      }
      return send(response, 200, 'text/html', executionPage(context(), detail));
    }
    return send(response, 404, 'text/html', messagePage(context(), 'Not found', 'The console has no such page.'));
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

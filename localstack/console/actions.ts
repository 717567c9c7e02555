/**
 * The operator's actions on an execution's request: cancel, keep or release its delivery, resend the user's
 * download email, re-drive. They go through the CalMS API and its key check, nothing else: the page's script
 * sends the key the operator entered (kept in the tab's session storage) in a header, the console passes the call
 * on with that key unchanged and hands back the API's answer as it is. An action is offered only when the API's
 * own status answer says the API would take it (lib/operations/allowed.ts). The key is never logged, and never
 * in an address or a page.
 *
 *   GET    /actions/<requestId>           { request: <GET /requests/<requestId>>, allowed: { cancel, keep, … } }
 *   POST   /actions/<requestId>/cancel    POST <api>/requests/<requestId>/cancel
 *   POST   /actions/<requestId>/keep      POST <api>/requests/<requestId>/keep  (DELETE: release)
 *   POST   /actions/<requestId>/resend    POST <api>/requests/<requestId>/resend
 *   POST   /actions/<requestId>/redrive   POST <api>/requests/<requestId>/redrive
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isRequestId } from '../../lib/domain/identifiers';
import { attemptOf } from '../../lib/domain/redrive';
import { allowedActions } from '../../lib/operations/allowed';
import { invalidRequestId } from '../../lib/operations/results';
import { type Html, html } from './html';

/** The header the API Gateway key check reads, and the page's script sends the key in. */
export const API_KEY_HEADER = 'x-api-key';
/** API Gateway answers after 29 s; a little more, so that its own answer comes through. */
const API_TIMEOUT_MS = 35_000;

const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '': ['GET'],
  '/cancel': ['POST'],
  '/keep': ['POST', 'DELETE'],
  '/resend': ['POST'],
  '/redrive': ['POST'],
};

export interface ActionAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const JSON_TYPE = 'application/json';

function consoleError(status: number, code: string, message: string): ActionAnswer {
  return { status, type: JSON_TYPE, body: JSON.stringify({ error: { code, message } }) };
}

/** The request an execution works on (a re-drive's execution acts on its request), if it is one of CalMS's. */
export function requestIdOf(executionName: string): string | undefined {
  const { requestId } = attemptOf(executionName);
  return isRequestId(requestId) ? requestId : undefined;
}

/**
 * The answer to a console path under `/actions/`, or undefined for any other path. `apiUrl` undefined: the
 * console was started without the API, and has no actions. `call` is how the API is reached (fetch).
 */
export async function actionAnswer(
  apiUrl: string | undefined,
  method: string,
  pathname: string,
  headers: IncomingHttpHeaders,
  call: typeof fetch = fetch,
): Promise<ActionAnswer | undefined> {
  const route = /^\/actions\/([^/]+)(\/[a-z]+)?$/.exec(pathname);
  if (!route) return undefined;
  if (!apiUrl) return consoleError(404, 'NO_API', 'This console was started without the CalMS API (startConsole apiUrl): it has no actions.');
  const action = route[2] ?? '';
  const methods = ROUTES[action];
  if (!methods) return consoleError(404, 'NOT_FOUND', 'The console has no such action.');
  if (!methods.includes(method)) return consoleError(405, 'METHOD_NOT_ALLOWED', `${action || 'The status'} takes ${methods.join(' or ')}.`);
  // Only the console's own page may act: a page elsewhere cannot send the key header without a preflight the
  // console never answers, and the browser says where a call comes from.
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return consoleError(403, 'CROSS_SITE', 'Actions are taken from the console’s own pages only.');
  const key = headers[API_KEY_HEADER];
  if (typeof key !== 'string' || key === '') return consoleError(401, 'API_KEY_MISSING', 'Enter the CalMS API key first.');
  let requestId: string;
  try {
    requestId = decodeURIComponent(route[1]!);
  } catch {
    requestId = route[1]!;
  }
  const invalid = invalidRequestId(requestId);
  if (invalid) return { status: invalid.status, type: JSON_TYPE, body: JSON.stringify(invalid.body) };

  let answer: Response;
  try {
    answer = await call(`${apiUrl}/requests/${encodeURIComponent(requestId)}${action}`, {
      method,
      headers: { [API_KEY_HEADER]: key },
      redirect: 'manual',
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
  } catch (error) {
    return consoleError(502, 'API_UNREACHABLE', `The CalMS API at ${apiUrl} did not answer: ${(error as Error).message}`);
  }
  const body = await answer.text();
  const type = answer.headers.get('content-type') ?? 'text/plain';
  if (action !== '' || answer.status !== 200) return { status: answer.status, type, body };
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return { status: 502, type, body };
  }
  return { status: 200, type: JSON_TYPE, body: JSON.stringify({ request, allowed: allowedActions(request) }) };
}

/**
 * The panel the page's script fills in (localstack/console/actionsScript.ts): the key form, the actions the API
 * allows, their answers. Outside the part of the page that refreshes itself, so a key being typed stays.
 */
export function actionsPanel(executionName: string | undefined): Html {
  const requestId = requestIdOf(executionName ?? '');
  if (!requestId) return html``;
  return html`<section class="panel actions" id="actions" aria-label="Actions" data-request-id="${requestId}" data-execution="${executionName}">
<h2>Actions <small class="meta">on request <span class="mono">${requestId}</span>, through the CalMS API</small></h2>
<div class="actions-body"><p class="meta">The actions need the page's script.</p></div>
</section>`;
}

/** The kept flag of the delivery, filled in by the page's script from the API (it needs the operator's key). */
export function keptFlag(): Html {
  return html`<span id="delivery-kept">Enter the API key (Actions) to see</span>`;
}

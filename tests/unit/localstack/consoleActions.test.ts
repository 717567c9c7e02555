/**
 * The console's actions on the server's side: which calls it passes on to the CalMS API (only its own pages',
 * with a key, for a request id), how (the operator's key unchanged), and that the API's answer comes back as it
 * is, with what the API allows beside a status. The API is a recording stand-in.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { actionAnswer, requestIdOf } from '../../../localstack/console/actions';

const API = 'http://127.0.0.1:13000/local';
const REQUEST_ID = 't16140-uid___A001_X1296_X675-20261124T232106Z-ab12';
const KEY = 'operator-key-1234567890';
const SAME_SITE: IncomingHttpHeaders = { 'x-api-key': KEY, 'sec-fetch-site': 'same-origin' };

/** An API that answers `status` and `body` to every call, and records the calls. */
function fakeApi(status: number, body: string, type = 'application/json') {
  const calls: { url: string; method?: string; headers: Record<string, string> }[] = [];
  const call = (async (url: string, init?: RequestInit) => {
    calls.push({ url, method: init?.method, headers: init?.headers as Record<string, string> });
    return new Response(body, { status, headers: { 'content-type': type } });
  }) as typeof fetch;
  return { calls, call };
}

describe('actionAnswer', () => {
  it.each([
    ['POST', '/cancel', 'POST', '/cancel'],
    ['POST', '/keep', 'POST', '/keep'],
    ['DELETE', '/keep', 'DELETE', '/keep'],
    ['POST', '/resend', 'POST', '/resend'],
    ['POST', '/redrive', 'POST', '/redrive'],
  ])('passes %s %s on to the API with the operator’s key, and its answer back as it is', async (method, action, apiMethod, apiAction) => {
    // Prepare
    const api = fakeApi(409, '{"error":{"code":"NOT_REDRIVABLE","message":"Request … cannot be re-driven: it is still running."}}');

    // Act
    const answer = await actionAnswer(API, method, `/actions/${REQUEST_ID}${action}`, SAME_SITE, api.call);

    // Assess
    expect(api.calls).toEqual([{ url: `${API}/requests/${REQUEST_ID}${apiAction}`, method: apiMethod, headers: { 'x-api-key': KEY } }]);
    expect(answer).toEqual({
      status: 409,
      type: 'application/json',
      body: '{"error":{"code":"NOT_REDRIVABLE","message":"Request … cannot be re-driven: it is still running."}}',
    });
  });

  it('answers a status with what the API allows on it', async () => {
    // Prepare
    const status = { requestId: REQUEST_ID, status: 'RUNNING', state: 'WaitForCalibrationJob' };
    const api = fakeApi(200, JSON.stringify(status));

    // Act
    const answer = await actionAnswer(API, 'GET', `/actions/${REQUEST_ID}`, SAME_SITE, api.call);

    // Assess
    expect(api.calls).toEqual([{ url: `${API}/requests/${REQUEST_ID}`, method: 'GET', headers: { 'x-api-key': KEY } }]);
    expect(answer!.status).toBe(200);
    expect(JSON.parse(answer!.body)).toEqual({
      request: status,
      allowed: { cancel: true, keep: false, release: false, resend: false, redrive: false },
    });
  });

  it('passes the API Gateway’s refusal of a wrong key back as it is, with nothing allowed', async () => {
    // Prepare
    const api = fakeApi(403, '{"message":"Forbidden"}');

    // Act
    const answer = await actionAnswer(API, 'GET', `/actions/${REQUEST_ID}`, SAME_SITE, api.call);

    // Assess
    expect(answer).toEqual({ status: 403, type: 'application/json', body: '{"message":"Forbidden"}' });
  });

  it('says so when the API does not answer, without the key', async () => {
    // Prepare
    const call = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;

    // Act
    const answer = await actionAnswer(API, 'POST', `/actions/${REQUEST_ID}/cancel`, SAME_SITE, call);

    // Assess
    expect(answer!.status).toBe(502);
    expect(JSON.parse(answer!.body)).toEqual({
      error: { code: 'API_UNREACHABLE', message: `The CalMS API at ${API} did not answer: fetch failed` },
    });
    expect(answer!.body).not.toContain(KEY);
  });

  it.each([
    ['without a key', 'POST', `/actions/${REQUEST_ID}/cancel`, { 'sec-fetch-site': 'same-origin' }, 401, 'API_KEY_MISSING'],
    ['from another site', 'POST', `/actions/${REQUEST_ID}/cancel`, { 'x-api-key': KEY, 'sec-fetch-site': 'cross-site' }, 403, 'CROSS_SITE'],
    ['from a sibling site', 'POST', `/actions/${REQUEST_ID}/keep`, { 'x-api-key': KEY, 'sec-fetch-site': 'same-site' }, 403, 'CROSS_SITE'],
    ['by GET', 'GET', `/actions/${REQUEST_ID}/cancel`, SAME_SITE, 405, 'METHOD_NOT_ALLOWED'],
    ['to change a status', 'POST', `/actions/${REQUEST_ID}`, SAME_SITE, 405, 'METHOD_NOT_ALLOWED'],
    ['for an action the API has not', 'POST', `/actions/${REQUEST_ID}/delete`, SAME_SITE, 404, 'NOT_FOUND'],
    ['for a path out of the request', 'POST', '/actions/../cancel', SAME_SITE, 400, 'VALIDATION_ERROR'],
    ['for an id that is no request id', 'POST', `/actions/${encodeURIComponent('t1/../../statistics')}/cancel`, SAME_SITE, 400, 'VALIDATION_ERROR'],
  ])('refuses a call %s and calls nothing', async (_, method, pathname, headers, status, code) => {
    // Prepare
    const api = fakeApi(200, '{}');

    // Act
    const answer = await actionAnswer(API, method, pathname, headers, api.call);

    // Assess
    expect(answer!.status).toBe(status);
    expect(JSON.parse(answer!.body).error.code).toBe(code);
    expect(api.calls).toEqual([]);
  });

  it('has no actions without the API, and leaves other paths alone', async () => {
    // Prepare
    const api = fakeApi(200, '{}');

    // Act
    const withoutApi = await actionAnswer(undefined, 'POST', `/actions/${REQUEST_ID}/cancel`, SAME_SITE, api.call);
    const elsewhere = await actionAnswer(API, 'GET', `/executions/${REQUEST_ID}`, SAME_SITE, api.call);

    // Assess
    expect(withoutApi!.status).toBe(404);
    expect(elsewhere).toBeUndefined();
    expect(api.calls).toEqual([]);
  });
});

describe('requestIdOf', () => {
  it('acts on the request of its own execution or of a re-drive’s, and on no name that cannot be a request id', () => {
    expect(requestIdOf(REQUEST_ID)).toBe(REQUEST_ID);
    expect(requestIdOf(`${REQUEST_ID}-redrive-2`)).toBe(REQUEST_ID);
    expect(requestIdOf('started.by.hand')).toBeUndefined();
    expect(requestIdOf('')).toBeUndefined();
  });
});

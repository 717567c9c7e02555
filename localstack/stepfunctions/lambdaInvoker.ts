/**
 * Invokes Lambda functions running in serverless-offline, through its Lambda Invoke API
 * (`POST <endpoint>/2015-03-31/functions/<name>/invocations`, the AWS REST shape).
 */

import http from 'node:http';
import type { LambdaInvoker } from './execution';

/** Error names as JavaScript and ASL write them: `ArchiveUnavailableError`, `States.Timeout`. */
const ERROR_NAME = /^[A-Za-z_$][\w$.]*$/;

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The error name V8 wrote at the head of a stack trace, whose first line is `<name>: <message>`. For an empty
 * message V8 writes `<name>` and source-map stack formatters `<name>: `. A multi-line message contributes
 * only its first line.
 */
function nameFromStackHeader(header: unknown, message: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  const firstLine = message.split('\n')[0];
  let name: string | undefined;
  if (firstLine === '') name = header.replace(/: ?$/, '');
  else if (header.endsWith(`: ${firstLine}`)) name = header.slice(0, header.length - firstLine.length - 2);
  return name !== undefined && ERROR_NAME.test(name) ? name : undefined;
}

/**
 * The error a failed invocation's payload describes, with the name Retry and Catch must match.
 *
 * serverless-offline answers a thrown error with `{errorMessage, errorType: "Error", trace}` whatever the
 * error's class; CalMS errors set `name`, which V8 prints at the head of the stack, so the name is read back
 * from `trace[0]`. A specific `errorType` (as AWS's own `{errorMessage, errorType, stackTrace}` has) wins.
 */
export function errorFromLambdaPayload(payload: unknown): Error {
  if (typeof payload !== 'object' || payload === null || typeof (payload as { errorMessage?: unknown }).errorMessage !== 'string') {
    return namedError('Lambda.Unknown', `The function failed without an error message: ${JSON.stringify(payload)}`);
  }
  const { errorMessage, errorType, trace, stackTrace } = payload as {
    errorMessage: string;
    errorType?: unknown;
    trace?: unknown;
    stackTrace?: unknown;
  };
  const stack = Array.isArray(trace) ? trace : Array.isArray(stackTrace) ? stackTrace : [];
  const reportedType = typeof errorType === 'string' && errorType !== '' ? errorType : undefined;
  const name = (reportedType !== 'Error' ? reportedType : undefined) ?? nameFromStackHeader(stack[0], errorMessage) ?? reportedType ?? 'Error';
  const error = namedError(name, errorMessage);
  // The function's own stack, not this module's: it is what the history's cause shows.
  if (stack.length > 0) error.stack = stack.join('\n');
  return error;
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface InvokerOptions {
  /**
   * How long to keep trying to connect while nothing listens (serverless-offline restarting after a crash),
   * as the Lambda service on AWS is always there to take an invocation. @default 0
   */
  readonly connectGraceMs?: number;
}

function connectionRefused(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

/**
 * A {@link LambdaInvoker} for serverless-offline's Lambda endpoint, e.g. `http://127.0.0.1:3002`.
 *
 * Failures keep the names Step Functions gives them on AWS: the function's own error name, else
 * `Lambda.ResourceNotFoundException` (no such function), `Lambda.ServiceException` (an error answer, or the
 * connection lost during the invocation: the runtime crashed under it) or `Lambda.SdkClientException`
 * (nothing listens, for longer than `connectGraceMs`).
 */
export function serverlessOfflineInvoker(endpoint: string, options: InvokerOptions = {}): LambdaInvoker {
  const base = endpoint.replace(/\/+$/, '');
  return async (functionName, payload) => {
    const url = `${base}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
    const giveUpAt = Date.now() + (options.connectGraceMs ?? 0);
    let response: { status: number; headers: http.IncomingHttpHeaders; text: string };
    for (;;) {
      try {
        response = await post(url, JSON.stringify(payload ?? null));
        break;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (!connectionRefused(error)) {
          throw namedError('Lambda.ServiceException', `serverless-offline at ${base} lost the invocation of ${functionName}: ${reason}`);
        }
        if (Date.now() >= giveUpAt) {
          throw namedError('Lambda.SdkClientException', `Cannot reach serverless-offline at ${base} to invoke ${functionName}: ${reason}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const body = parseJson(response.text);
    if (response.headers['x-amz-function-error'] !== undefined) throw errorFromLambdaPayload(body);
    if (response.status < 200 || response.status > 299) {
      const errorType = response.headers['x-amzn-errortype'] ?? 'ServiceException';
      const message = (body as { Message?: unknown } | null)?.Message;
      throw namedError(`Lambda.${String(errorType)}`, typeof message === 'string' ? message : `HTTP ${response.status} invoking ${functionName}`);
    }
    return body;
  };
}

/**
 * node:http rather than fetch: fetch gives up on an answer after 300 s, and a waiting step (WaitForStagingSlot,
 * WaitForCalibrationJob) answers after up to 15 minutes, as a Lambda may; the function's own timeout ends it.
 */
function post(url: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      // A connection of its own: a kept-alive one may be closed by serverless-offline just as it is reused
      // ("socket hang up"), failing an invocation that never reached the function.
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

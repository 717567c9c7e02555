/**
 * The embedded local AWS Step Functions: the AWS JSON 1.0 protocol (`POST /`, `X-Amz-Target:
 * AWSStepFunctions.<Action>`) over plain node:http, so `@aws-sdk/client-sfn` and the AWS CLI work against it
 * as against LocalStack. Executions run in-process with aws-local-stepfunctions; Task states call Lambda
 * functions through the given invoker; everything is kept under `<stateDir>/stepfunctions/`.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { logger as defaultLogger, type Logger } from '../../lib/log';
import { listen } from '../listen';
import { performAction, type RequestBody } from './api';
import { StepFunctionsError } from './errors';
import type { LambdaInvoker } from './execution';
import { StepFunctionsService } from './service';
import type { StatusChangeListener } from './statusEvents';
import { FileStore } from './store';

export type { LambdaInvoker } from './execution';

export interface StepFunctionsServerOptions {
  /** 0 picks a free port; read the chosen one from the result. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The local cloud's state directory; this server keeps its files in `stepfunctions/` inside it. */
  readonly stateDir: string;
  /** Region and account of the ARNs the server hands out, e.g. `us-east-1` and `000000000000`. */
  readonly region: string;
  readonly accountId: string;
  readonly invokeLambda: LambdaInvoker;
  /**
   * Every Retry waits this long between attempts instead of what the definition says, so tests can exhaust
   * retries meant to span half an hour. @default the definition's intervals
   */
  readonly retryIntervalMs?: number;
  /**
   * Told of every execution's status change, as Step Functions tells EventBridge: the "Step Functions Execution
   * Status Change" event when it starts and when it ends. @default nobody
   */
  readonly onStatusChange?: StatusChangeListener;
  /** @default the CalMS logger, with `component: 'stepfunctions'` */
  readonly logger?: Logger;
}

export interface StepFunctionsServer {
  /** e.g. `http://127.0.0.1:4567`: the endpoint to give the SDK or `aws --endpoint-url`. */
  readonly url: string;
  readonly port: number;
  /**
   * Continues the executions an earlier server was running when it stopped, each from its state in flight;
   * call it once the Lambdas answer. Returns how many.
   */
  resumeInterrupted(): number;
  /** Stops listening and waits until every file is written; running executions resume in the next server. */
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
/** Definitions are at most 1 MB on AWS; anything much larger is not a Step Functions request. */
const LARGEST_BODY_BYTES = 2 * 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > LARGEST_BODY_BYTES) throw new StepFunctionsError('ValidationException', 'The request body is too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new StepFunctionsError('SerializationException', 'The request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new StepFunctionsError('SerializationException', 'The request body must be a JSON object');
  }
  return body as RequestBody;
}

function actionOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
    throw new StepFunctionsError('UnknownOperationException', 'Send POST / with X-Amz-Target: AWSStepFunctions.<Action>');
  }
  return target.slice(TARGET_PREFIX.length);
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

function handler(service: StepFunctionsService, logger: Logger) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let action = '';
    try {
      action = actionOf(request);
      const body = await readBody(request);
      send(response, 200, await performAction(service, action, body));
    } catch (error) {
      if (error instanceof StepFunctionsError) {
        logger.debug('Refused a Step Functions request', { action, code: error.code, errorMessage: error.message });
        send(response, 400, { __type: error.code, message: error.message });
      } else {
        logger.error('Step Functions request failed', { action, error });
        send(response, 500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) });
      }
    }
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the server once the state left by an earlier one is loaded.
 *
 * @example
 * const server = await startStepFunctionsServer({
 *   port: 4567, stateDir: '.calms', region: 'us-east-1', accountId: '000000000000',
 *   invokeLambda: serverlessOfflineInvoker('http://127.0.0.1:3002'),
 * });
 * // ...
 * await server.close();
 */
export async function startStepFunctionsServer(options: StepFunctionsServerOptions): Promise<StepFunctionsServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? defaultLogger.with({ component: 'stepfunctions' });
  const service = await StepFunctionsService.open({
    store: new FileStore(join(options.stateDir, 'stepfunctions')),
    account: { region: options.region, accountId: options.accountId },
    invokeLambda: options.invokeLambda,
    logger,
    retryIntervalMs: options.retryIntervalMs,
    onStatusChange: options.onStatusChange,
  });

  const server = createServer(handler(service, logger));
  const port = await listen(server, options.port, host);
  const url = `http://${urlHost(host)}:${port}`;
  logger.info('Local Step Functions listening', { url });

  return {
    url,
    port,
    resumeInterrupted: () => service.resumeInterrupted(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // SDK clients keep connections alive; without this, close() would wait for them to time out.
      server.closeAllConnections();
      await Promise.all([closed, service.shutdown()]);
    },
  };
}

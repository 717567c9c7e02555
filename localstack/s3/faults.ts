/**
 * Injected S3 faults, for the fault-injection tests: an admin route of the local cloud's edge (nothing like it
 * exists on AWS) makes the next requests to S3 answer an error, as S3 does in a burst of 5xx.
 *
 *   POST /_calms/faults/s3  {"failNext": 12, "status": 503}   the next 12 S3 requests answer 503 SlowDown
 *   GET  /_calms/faults/s3                                     {"remaining": 0, "injected": 12}
 *
 * Step Functions calls through the edge are never failed.
 */
import type http from 'node:http';
import { readBody, S3Failure } from './http';

export const FAULTS_PATH = '/_calms/faults/s3';

const ERROR_CODES: Readonly<Record<number, string>> = { 500: 'InternalError', 503: 'SlowDown' };

export class S3Faults {
  private remaining = 0;
  private status = 503;
  private injected = 0;

  /** Answers the admin route. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      const asked = JSON.parse((await readBody(req, 1024)).toString('utf8') || '{}') as { failNext?: unknown; status?: unknown };
      const status = asked.status ?? 503;
      if (!Number.isInteger(asked.failNext) || (asked.failNext as number) < 0 || typeof status !== 'number' || !(status in ERROR_CODES)) {
        throw new S3Failure(400, 'InvalidArgument', `Send {"failNext": <whole number>, "status": ${Object.keys(ERROR_CODES).join(' or ')}}`);
      }
      this.remaining = asked.failNext as number;
      this.status = status;
    } else if (req.method !== 'GET') {
      throw new S3Failure(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    const body = JSON.stringify({ remaining: this.remaining, injected: this.injected });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** The failure to answer this S3 request with, while a burst lasts. */
  next(): S3Failure | undefined {
    if (this.remaining === 0) return undefined;
    this.remaining -= 1;
    this.injected += 1;
    return new S3Failure(this.status, ERROR_CODES[this.status]!, 'Injected by the local cloud (fault injection): please reduce your request rate.');
  }
}

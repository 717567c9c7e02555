/**
 * One AWS endpoint for the embedded cloud, like LocalStack's port 4566: Step Functions calls (JSON protocol,
 * `X-Amz-Target: AWSStepFunctions.*`) go to the local Step Functions server, everything else to s3rver.
 * Bodies are streamed through, never buffered.
 *
 * s3rver ignores conditional writes. CalMS relies on them (a trigger claim is created only if absent), so
 * the edge enforces `If-None-Match: *` and `If-Match` on object writes and deletes itself: requests for one
 * key are serialised here, and since every client goes through the edge the check-then-write is atomic.
 * s3rver also writes an object in place, so a read during a write could see it half-written (an empty claim);
 * reads of a key wait for its writes, and writes for its reads, as S3's atomic PUT would have it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EdgeOptions {
  readonly port: number;
  readonly host: string;
  readonly s3: { readonly host: string; readonly port: number };
  readonly stepFunctions: { readonly host: string; readonly port: number };
}

export interface Edge {
  readonly url: string;
  close(): Promise<void>;
}

type Target = { readonly host: string; readonly port: number };

function forward(req: http.IncomingMessage, res: http.ServerResponse, target: Target, done: () => void = () => {}): void {
  const upstream = http.request(
    { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', done);
      answer.on('error', done);
    },
  );
  // A client that goes away must not hold the key's lock.
  res.on('close', done);
  upstream.on('error', (error) => {
    done();
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`edge: upstream ${target.host}:${target.port} failed: ${error.message}`);
  });
  req.pipe(upstream);
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/** The current ETag of an object on s3rver, or undefined when it does not exist. */
function headEtag(target: Target, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const head = http.request({ host: target.host, port: target.port, method: 'HEAD', path }, (answer) => {
      answer.resume();
      if (answer.statusCode === 404) resolve(undefined);
      else if (answer.statusCode && answer.statusCode < 300) resolve(String(answer.headers.etag ?? ''));
      else reject(new Error(`HEAD ${path} answered ${answer.statusCode}`));
    });
    head.on('error', reject);
    head.end();
  });
}

/** A request that reads, writes or deletes a whole object (not a bucket listing, not an upload part). */
function isWholeObjectRequest(req: http.IncomingMessage): boolean {
  const url = new URL(req.url ?? '/', 'http://edge');
  const isObject = url.pathname.split('/').filter(Boolean).length >= 2;
  if (!isObject || url.searchParams.has('partNumber')) return false;
  if (req.method === 'POST') return url.searchParams.has('uploadId');
  return ['GET', 'HEAD', 'PUT', 'DELETE'].includes(req.method ?? '');
}

const isWrite = (req: http.IncomingMessage) => req.method === 'PUT' || req.method === 'DELETE' || req.method === 'POST';

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const keyLocks = new Map<string, Promise<void>>();

  const oneAtATime = async (req: http.IncomingMessage, res: http.ServerResponse, objectPath: string) => {
    const previous = keyLocks.get(objectPath) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chain = previous.then(() => mine);
    keyLocks.set(objectPath, chain);
    await previous;
    const finish = () => {
      release();
      if (keyLocks.get(objectPath) === chain) keyLocks.delete(objectPath);
    };
    const isConditional = req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined;
    if (!isConditional || !isWrite(req)) return forward(req, res, options.s3, finish);
    try {
      const etag = await headEtag(options.s3, objectPath);
      const ifNoneMatch = req.headers['if-none-match'];
      const ifMatch = req.headers['if-match'];
      if (ifNoneMatch === '*' && etag !== undefined) {
        req.resume();
        s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        return finish();
      }
      if (ifMatch !== undefined && etag === undefined) {
        req.resume();
        s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        return finish();
      }
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etag) {
        req.resume();
        s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        return finish();
      }
      forward(req, res, options.s3, finish);
    } catch (error) {
      finish();
      s3Error(res, 503, 'ServiceUnavailable', `edge could not check the condition: ${(error as Error).message}`);
    }
  };

  const server = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('AWSStepFunctions.')) return forward(req, res, options.stepFunctions);
    if (isWholeObjectRequest(req)) return void oneAtATime(req, res, new URL(req.url ?? '/', 'http://edge').pathname);
    return forward(req, res, options.s3);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

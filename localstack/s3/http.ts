/**
 * HTTP plumbing shared by the edge and its S3 extensions: passing a request through to a server behind the
 * edge, talking to s3rver directly (the edge's own requests carry no signature, which s3rver accepts), and
 * answering S3-style errors.
 */
import http from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { escapeXml, XML_DECLARATION } from './xml';

export type Target = { readonly host: string; readonly port: number };

/** A small answer from s3rver, its body read whole. */
export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Streams the request to `target` and its answer back. `done` runs once the answer is sent, fails, or the
 * client goes away (possibly more than once: it must be idempotent).
 */
export function forward(req: http.IncomingMessage, res: http.ServerResponse, target: Target, done: () => void = () => {}): void {
  const upstream = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
    answer.on('end', done);
    answer.on('error', done);
  });
  // A client that goes away must not hold the key's lock.
  res.on('close', done);
  upstream.on('error', (error) => {
    done();
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`edge: upstream ${target.host}:${target.port} failed: ${error.message}`);
  });
  req.pipe(upstream);
}

export interface CallOptions {
  readonly headers?: http.OutgoingHttpHeaders | http.IncomingHttpHeaders;
  /** A stream is piped (and destroyed with the request should either fail); a buffer or string is sent whole. */
  readonly body?: Readable | Buffer | string;
}

/** Hop-by-hop headers, which must not be copied from one connection to another. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'];

/** Sends one request to `target` and reads its answer whole: only for answers known to be small. */
export function call(target: Target, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { ...options.headers };
    const { body } = options;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      for (const name of HOP_BY_HOP) delete headers[name];
      headers['content-length'] = Buffer.byteLength(body);
    }
    const request = http.request({ host: target.host, port: target.port, method, path, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('error', reject);
      answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    if (body === undefined) request.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) request.end(body);
    // Either side failing (a client that goes away mid-upload) ends both, so that the caller hears of it.
    else pipeline(body, request, (error) => error && request.destroy(error));
  });
}

/** Opens a request to `target` whose answer the caller streams. */
export function open(target: Target, method: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: target.host, port: target.port, method, path, headers }, resolve);
    request.on('error', reject);
    request.end();
  });
}

/** Sends an answer read from s3rver on to the client. */
export function reply(res: http.ServerResponse, answer: Answer): void {
  const headers = { ...answer.headers };
  for (const name of HOP_BY_HOP) delete headers[name];
  headers['content-length'] = String(answer.body.length);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

export function sendXml(res: http.ServerResponse, status: number, xml: string, headers: http.OutgoingHttpHeaders = {}): void {
  const body = Buffer.from(XML_DECLARATION + xml);
  res.writeHead(status, { ...headers, 'content-type': 'application/xml', 'content-length': body.length });
  res.end(body);
}

/** An S3 error answer; `details` become further elements of <Error>, as S3 adds (Key, UploadId, ...). */
export function s3Error(res: http.ServerResponse, status: number, code: string, message: string, details: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra = Object.entries(details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${extra}</Error>`);
}

/** Thrown by the edge's own S3 handlers; the edge answers it as an S3 error. */
export class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Reads a request body whole, refusing one above `limit` bytes (the bodies the edge parses are small). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new S3Failure(400, 'MaxMessageLengthExceeded', `Your request was too big (more than ${limit} bytes).`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Reads the error code out of an S3 error answer (for messages). */
export function errorCode(answer: Answer): string {
  return /<Code>([^<]*)<\/Code>/.exec(answer.body.toString('utf8'))?.[1] ?? `HTTP ${answer.status}`;
}

/**
 * One AWS endpoint for the embedded cloud, like LocalStack's port 4566: Step Functions calls (JSON protocol,
 * `X-Amz-Target: AWSStepFunctions.*`) go to the local Step Functions server, everything else to s3rver.
 * Bodies are streamed through, never buffered (except the small XML bodies the edge reads itself).
 *
 * s3rver ignores conditional writes. CalMS relies on them (a trigger claim is created only if absent), so
 * the edge enforces `If-None-Match: *` and `If-Match` on object writes and deletes itself: requests for one
 * key are serialised here, and since every client goes through the edge the check-then-write is atomic.
 * s3rver also writes an object in place, so a read during a write could see it half-written (an empty claim);
 * reads of a key wait for its writes, and writes for its reads, as S3's atomic PUT would have it.
 * A CopyObject holds its source's lock as well as its destination's.
 *
 * The edge also adds what s3rver 3.7.1 lacks (see the modules under ./s3):
 * - object tags kept exactly (s3rver mangles them), given at creation (`x-amz-tagging` on PutObject,
 *   CreateMultipartUpload, CopyObject with `x-amz-tagging-directive`) and set before the key's lock is
 *   released, replaced by every write, DeleteObjectTagging: s3/tagging.ts
 * - ListParts, AbortMultipartUpload, UploadPartCopy, NoSuchUpload for unknown uploads: s3/multipart.ts
 * - bucket lifecycle rules, kept in the state directory and enforced by a sweeper: s3/lifecycle.ts
 * and, for the fault-injection tests, bursts of S3 errors on demand: s3/faults.ts
 * It reads and writes a few of s3rver's files itself for that (s3/layout.ts), so it must be given s3rver's
 * directory. And it accepts any access key, as LocalStack does (s3/credentials.ts); the Step Functions server
 * checks no signature either.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { listen } from './listen';
import { asS3rverAccount } from './s3/credentials';
import { call, forward, readBody, reply, S3Failure, s3Error, sendXml, type Target } from './s3/http';
import { type ObjectName, lockKeyOf, parseCopySource, parseS3Path, S3rverLayout } from './s3/layout';
import { FAULTS_PATH, S3Faults } from './s3/faults';
import { defaultSweepIntervalMs, Lifecycle } from './s3/lifecycle';
import { KeyLocks, type Release, UploadLocks } from './s3/locks';
import { Multipart } from './s3/multipart';
import { checkTags, objectExists, parseTaggingHeader, parseTagSet, readTags, removeTags, setTags, type Tag, taggingXml } from './s3/tagging';
import { MalformedXmlError } from './s3/xml';

export interface EdgeOptions {
  readonly port: number;
  readonly host: string;
  /** `directory` is s3rver's `-d` directory: the edge reads upload parts and removes tag files there. */
  readonly s3: { readonly host: string; readonly port: number; readonly directory: string };
  readonly stepFunctions: { readonly host: string; readonly port: number };
  /** Where the edge keeps its own state (the lifecycle rules, in `s3-lifecycle.json`). */
  readonly stateDir: string;
  /** Length in seconds of one day of the lifecycle rules; default 86400. */
  readonly lifecycleDaySeconds?: number;
  /** How often the lifecycle rules are applied; default a 20th of a day, between 250 ms and a minute. */
  readonly sweepIntervalMs?: number;
}

export interface Edge {
  readonly url: string;
  close(): Promise<void>;
}

/** The file, in the state directory, that keeps the buckets' lifecycle rules. */
export const LIFECYCLE_FILE = 's3-lifecycle.json';

/** The current ETag of an object on s3rver, or undefined when it does not exist. */
async function headEtag(target: Target, path: string): Promise<string | undefined> {
  const answer = await call(target, 'HEAD', path);
  if (answer.status === 404) return undefined;
  if (answer.status < 300) return String(answer.headers.etag ?? '');
  throw new Error(`HEAD ${path} answered ${answer.status}`);
}

/** A request that reads, writes or deletes a whole object (not a bucket listing, not an upload part). */
function isWholeObjectRequest(req: http.IncomingMessage, url: URL): boolean {
  if (url.searchParams.has('partNumber')) return false;
  if (req.method === 'POST') return url.searchParams.has('uploadId');
  return ['GET', 'HEAD', 'PUT', 'DELETE'].includes(req.method ?? '');
}

/** No subresource (`?tagging`, `?acl`, ...): the SDK's `x-id` names the operation and is no subresource. */
const isPlain = (url: URL) => [...url.searchParams.keys()].every((name) => name === 'x-id');

const isWrite = (req: http.IncomingMessage) => req.method === 'PUT' || req.method === 'DELETE' || req.method === 'POST';

/** What a whole-object write does to the object's tags once s3rver has made it. */
type TagChange = { readonly set: readonly Tag[] } | { readonly copyFrom: ObjectName } | { readonly remove: true } | undefined;

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const s3: Target = { host: options.s3.host, port: options.s3.port };
  const layout = new S3rverLayout(options.s3.directory);
  const keyLocks = new KeyLocks();
  const faults = new S3Faults();
  const multipart = new Multipart({ s3, layout, keyLocks, uploadLocks: new UploadLocks() });
  const daySeconds = options.lifecycleDaySeconds ?? 86_400;
  const lifecycle = await Lifecycle.open({
    s3,
    layout,
    keyLocks,
    multipart,
    file: path.join(options.stateDir, LIFECYCLE_FILE),
    daySeconds,
    sweepIntervalMs: options.sweepIntervalMs ?? defaultSweepIntervalMs(daySeconds),
  });

  /** The checks of a whole-object write made before any lock is taken: its source and what it does to tags. */
  function planWrite(req: http.IncomingMessage, url: URL): { source?: ObjectName; tags: TagChange } {
    if (!isPlain(url)) return { tags: undefined };
    if (req.method === 'DELETE') return { tags: { remove: true } };
    if (req.method !== 'PUT') return { tags: undefined };
    const copySource = req.headers['x-amz-copy-source'];
    const given = parseTaggingHeader(req.headers['x-amz-tagging']);
    if (copySource === undefined) return { tags: { set: given ?? [] } };
    const source = parseCopySource(String(copySource));
    if (!source) {
      throw new S3Failure(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: String(copySource),
      });
    }
    const directive = String(req.headers['x-amz-tagging-directive'] ?? 'COPY');
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw new S3Failure(400, 'InvalidArgument', 'Unknown tagging directive.', {
        ArgumentName: 'x-amz-tagging-directive',
        ArgumentValue: directive,
      });
    }
    return { source, tags: directive === 'REPLACE' ? { set: given ?? [] } : { copyFrom: source } };
  }

  /** GetObjectTagging, PutObjectTagging, DeleteObjectTagging, with the key's lock held (see s3/tagging.ts). */
  async function objectTagging(req: http.IncomingMessage, res: http.ServerResponse, name: ObjectName): Promise<void> {
    const bucketDir = layout.bucketDir(name.bucket);
    if (
      !bucketDir ||
      !(await fs.promises.stat(bucketDir).then(
        (stat) => stat.isDirectory(),
        () => false,
      ))
    ) {
      throw new S3Failure(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name.bucket });
    }
    if (!(await objectExists(layout, name))) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.', { Key: name.key });
    if (req.method === 'GET') return sendXml(res, 200, taggingXml((await readTags(layout, name)) ?? []));
    if (req.method === 'DELETE') {
      await removeTags(layout, name);
      res.writeHead(204);
      return void res.end();
    }
    if (req.method !== 'PUT') throw new S3Failure(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const body = await readBody(req, 1024 * 1024);
    let tags: Tag[];
    try {
      tags = parseTagSet(body.toString('utf8'));
    } catch (error) {
      if (error instanceof MalformedXmlError)
        throw new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
      throw error;
    }
    checkTags(tags);
    await setTags(layout, name, tags);
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  }

  /** Holds the key (and a copy's source) for the request; conditional writes are checked under the lock. */
  async function wholeObject(req: http.IncomingMessage, res: http.ServerResponse, url: URL, name: ObjectName): Promise<void> {
    const plan = planWrite(req, url);
    const release: Release = await keyLocks.acquireAll([lockKeyOf(name), ...(plan.source ? [lockKeyOf(plan.source)] : [])]);
    let handedOver = false;
    try {
      const isConditional = req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined;
      if (isConditional && isWrite(req)) {
        const etag = await headEtag(s3, url.pathname);
        const ifNoneMatch = req.headers['if-none-match'];
        const ifMatch = req.headers['if-match'];
        if (ifNoneMatch === '*' && etag !== undefined) {
          throw new S3Failure(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        }
        if (ifMatch !== undefined && etag === undefined) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.');
        if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etag) {
          throw new S3Failure(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        }
      }
      if (req.method === 'POST') return await multipart.complete(req, res, name, url.searchParams);
      if (url.searchParams.has('tagging')) return await objectTagging(req, res, name);
      if (plan.tags === undefined) {
        handedOver = true;
        return forward(req, res, s3, release);
      }
      // A copy's tags are read before the copy: both keys are held, so they are the ones copied.
      const copiedTags = 'copyFrom' in plan.tags ? await readTags(layout, plan.tags.copyFrom) : undefined;
      const answer = await call(s3, req.method!, req.url ?? '/', { headers: req.headers, body: req });
      if (answer.status < 300) {
        if ('remove' in plan.tags) await removeTags(layout, name);
        else await setTags(layout, name, 'set' in plan.tags ? plan.tags.set : (copiedTags ?? []));
      }
      reply(res, answer);
    } finally {
      if (!handedOver) release();
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('AWSStepFunctions.')) return forward(req, res, options.stepFunctions);
    asS3rverAccount(req);
    const url = new URL(req.url ?? '/', 'http://edge');
    if (url.pathname === FAULTS_PATH) return faults.handle(req, res);
    const injected = faults.next();
    if (injected) throw injected;
    const name = parseS3Path(url.pathname);
    if (!name) return forward(req, res, s3);
    const query = url.searchParams;

    if (name.key === '') {
      if (query.has('lifecycle')) return lifecycle.handle(req, res, name.bucket);
      if (req.method === 'DELETE' && isPlain(url)) {
        const answer = await call(s3, 'DELETE', req.url ?? '/', { headers: req.headers, body: req });
        if (answer.status < 300) await lifecycle.forget(name.bucket);
        return reply(res, answer);
      }
      return forward(req, res, s3);
    }

    if (query.has('uploadId')) {
      if (req.method === 'GET') return multipart.listParts(req, res, name, query);
      if (req.method === 'DELETE') return multipart.abort(req, res, name, query);
      if (req.method === 'PUT' && req.headers['x-amz-copy-source'] !== undefined) return multipart.uploadPartCopy(req, res, name, query);
      if (req.method === 'PUT') return multipart.uploadPart(req, res, name, query);
    }
    if (req.method === 'POST' && query.has('uploads')) {
      // Checked now, applied when the upload completes (s3rver keeps the header with the upload).
      parseTaggingHeader(req.headers['x-amz-tagging']);
      return forward(req, res, s3);
    }
    if (isWholeObjectRequest(req, url)) return wholeObject(req, res, url, name);
    return forward(req, res, s3);
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((error: Error) => {
      req.resume();
      if (error instanceof S3Failure) return s3Error(res, error.status, error.code, error.message, error.details);
      s3Error(res, 500, 'InternalError', `edge: ${error.message}`);
    });
  });
  const port = await listen(server, options.port, options.host);
  lifecycle.start();
  return {
    url: `http://${options.host}:${port}`,
    close: async () => {
      // Stopped first, awaited last: a sweep waiting for a key that a client holds goes on once the client is cut off.
      const sweeperStopped = lifecycle.stop();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await sweeperStopped;
    },
  };
}

/**
 * The multipart requests s3rver 3.7.1 lacks or gets wrong, answered by the edge from s3rver's upload directory
 * (see layout.ts) and s3rver's own requests:
 *
 * - ListParts (`GET /bucket/key?uploadId=`): parts in order with PartNumber, ETag (quoted, as UploadPart
 *   answered it), Size and LastModified; `max-parts` (at most 1000) and `part-number-marker` page as on S3.
 *   A part whose upload is still under way is left out (also when it replaces an earlier part of that number:
 *   S3 would still list the earlier one).
 * - AbortMultipartUpload (`DELETE /bucket/key?uploadId=`): removes the upload's directory, 204.
 * - UploadPartCopy (`PUT /bucket/key?partNumber=&uploadId=` with `x-amz-copy-source`, optionally
 *   `x-amz-copy-source-range: bytes=a-b` and `x-amz-copy-source-if-match` / `-if-none-match`): streams the
 *   source range from s3rver into an UploadPart to s3rver, never holding more than a chunk in memory, and
 *   answers <CopyPartResult>. The source key is locked for the copy, as a GetObject would be.
 * - UploadPart and CompleteMultipartUpload are checked before s3rver sees them: an upload id that does not
 *   exist (never did, was aborted, was completed) or belongs to another key is NoSuchUpload (404) for every
 *   request above; s3rver would create a directory for the part, or hang on a completion naming a part it
 *   does not have. A completion must list its parts in ascending order (InvalidPartOrder) with the ETags
 *   they were uploaded with (InvalidPart). Tags given at CreateMultipartUpload (`x-amz-tagging`, which s3rver
 *   keeps among the upload's headers) are set when the upload completes, under the key's lock.
 *
 * Not done: the 5 MiB minimum part size (EntityTooSmall), S3's multipart ETag (`md5-of-md5s-N`: s3rver
 * answers the MD5 of the whole object), ListMultipartUploads, checksums, SSE-C.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { call, errorCode, forward, open, readBody, reply, S3Failure, sendXml, type Target } from './http';
import { isSafeUploadId, lockKeyOf, type ObjectName, parseCopySource, requestPathOf, type S3rverLayout } from './layout';
import type { KeyLocks, Release, UploadLocks } from './locks';
import { parseTaggingHeader, setTags } from './tagging';
import { childrenNamed, childText, escapeXml, MalformedXmlError, parseXml, S3_XMLNS } from './xml';

export interface MultipartDeps {
  readonly s3: Target;
  readonly layout: S3rverLayout;
  readonly keyLocks: KeyLocks;
  readonly uploadLocks: UploadLocks;
}

export interface Upload {
  readonly bucket: string;
  readonly uploadId: string;
  readonly key: string;
  readonly dir: string;
  /** When CreateMultipartUpload wrote the upload's key file. */
  readonly initiatedMs: number;
  /** The CreateMultipartUpload request's headers, as s3rver kept them. */
  readonly headers: Record<string, string>;
}

const MAX_PART_NUMBER = 10_000;
const MAX_COMPLETE_BODY = 16 * 1024 * 1024;
const OWNER = '<ID>123456789000</ID><DisplayName>S3rver</DisplayName>';

function noSuchUpload(uploadId: string): S3Failure {
  return new S3Failure(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

function partNumberOf(text: string | null): number {
  const number = text !== null && /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1 && number <= MAX_PART_NUMBER)) {
    throw new S3Failure(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: text ?? '',
    });
  }
  return number;
}

function integerArgument(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d{1,10}$/.test(text))
    throw new S3Failure(400, 'InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: text,
    });
  return Number(text);
}

const unquote = (etag: string) => etag.replace(/"/g, '');

const readText = (file: string): Promise<string | undefined> =>
  fs.promises.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });

/** The first `bytes` bytes of `source`; fails if it has fewer. Stops reading (and destroys `source`) once they are read. */
async function* firstBytes(source: Readable, bytes: number): AsyncGenerator<Buffer> {
  let left = bytes;
  if (left > 0) {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= piece.length;
      yield piece;
      if (left === 0) break;
    }
  }
  source.destroy();
  if (left > 0) throw new Error(`the copy source ended ${left} bytes short`);
}

export class Multipart {
  /** Part numbers being written, per upload: ListParts leaves them out. */
  private readonly inFlight = new Map<string, Map<number, number>>();

  constructor(private readonly deps: MultipartDeps) {}

  /** The upload, or undefined when there is none with this id in the bucket. */
  async readUpload(bucket: string, uploadId: string): Promise<Upload | undefined> {
    const dir = this.deps.layout.uploadDir(bucket, uploadId);
    if (!dir) return undefined;
    const key = await readText(path.join(dir, 'key'));
    if (key === undefined) return undefined;
    const [stat, metadata] = await Promise.all([
      fs.promises.stat(path.join(dir, 'key')).catch(() => undefined),
      readText(path.join(dir, 'metadata')),
    ]);
    if (!stat) return undefined;
    let headers: Record<string, string> = {};
    try {
      headers = metadata ? (JSON.parse(metadata) as Record<string, string>) : {};
    } catch {
      // a metadata file being written: no headers
    }
    return { bucket, uploadId, key, dir, initiatedMs: stat.mtimeMs, headers };
  }

  /** Every upload in the bucket (for the lifecycle sweeper). */
  async listUploads(bucket: string): Promise<Upload[]> {
    const uploadsDir = this.deps.layout.uploadsDir(bucket);
    if (!uploadsDir) return [];
    const ids = await fs.promises.readdir(uploadsDir).catch(() => [] as string[]);
    const uploads = await Promise.all(ids.map((id) => this.readUpload(bucket, id)));
    return uploads.filter((upload): upload is Upload => upload !== undefined);
  }

  /** Aborts the upload if it still exists and `isDue` holds for it; true when it did. */
  async abortIf(bucket: string, uploadId: string, isDue: (upload: Upload) => boolean): Promise<boolean> {
    const release = await this.deps.uploadLocks.acquire(this.lockName(bucket, uploadId), true);
    try {
      const upload = await this.readUpload(bucket, uploadId);
      if (!upload || !isDue(upload)) return false;
      await fs.promises.rm(upload.dir, { recursive: true, force: true });
      return true;
    } finally {
      release();
    }
  }

  private lockName(bucket: string, uploadId: string): string {
    return `${bucket}\n${uploadId}`;
  }

  private async requireUpload(name: ObjectName, uploadId: string): Promise<Upload> {
    const upload = isSafeUploadId(uploadId) ? await this.readUpload(name.bucket, uploadId) : undefined;
    if (!upload || upload.key !== name.key) throw noSuchUpload(uploadId);
    return upload;
  }

  /** Takes the upload's lock and checks that it exists; the lock is held on return. */
  private async lockUpload(name: ObjectName, uploadId: string, exclusive: boolean): Promise<{ upload: Upload; release: Release }> {
    if (!isSafeUploadId(uploadId)) throw noSuchUpload(uploadId);
    const release = await this.deps.uploadLocks.acquire(this.lockName(name.bucket, uploadId), exclusive);
    try {
      return { upload: await this.requireUpload(name, uploadId), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  private markInFlight(upload: Upload, partNumber: number): Release {
    const name = this.lockName(upload.bucket, upload.uploadId);
    const parts = this.inFlight.get(name) ?? new Map<number, number>();
    this.inFlight.set(name, parts);
    parts.set(partNumber, (parts.get(partNumber) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (parts.get(partNumber) ?? 1) - 1;
      if (left > 0) parts.set(partNumber, left);
      else parts.delete(partNumber);
      if (parts.size === 0 && this.inFlight.get(name) === parts) this.inFlight.delete(name);
    };
  }

  async listParts(req: http.IncomingMessage, res: http.ServerResponse, name: ObjectName, query: URLSearchParams): Promise<void> {
    req.resume();
    const uploadId = query.get('uploadId') ?? '';
    const maxParts = Math.min(1000, integerArgument(query, 'max-parts', 1000));
    const marker = integerArgument(query, 'part-number-marker', 0);
    const { upload, release } = await this.lockUpload(name, uploadId, false);
    try {
      const writing = this.inFlight.get(this.lockName(name.bucket, uploadId)) ?? new Map<number, number>();
      const files = new Set(await fs.promises.readdir(upload.dir));
      const numbers = [...files]
        .filter((file) => /^\d+$/.test(file) && files.has(`${file}.md5`))
        .map(Number)
        .filter((number) => number > marker && !writing.has(number))
        .sort((a, b) => a - b);
      const page = numbers.slice(0, maxParts);
      const parts = await Promise.all(
        page.map(async (number) => {
          const file = path.join(upload.dir, String(number));
          const [stat, md5] = await Promise.all([fs.promises.stat(file), fs.promises.readFile(`${file}.md5`, 'utf8')]);
          return `<Part><PartNumber>${number}</PartNumber><LastModified>${stat.mtime.toISOString()}</LastModified><ETag>"${escapeXml(md5.trim())}"</ETag><Size>${stat.size}</Size></Part>`;
        }),
      );
      sendXml(
        res,
        200,
        `<ListPartsResult xmlns="${S3_XMLNS}"><Bucket>${escapeXml(name.bucket)}</Bucket><Key>${escapeXml(name.key)}</Key>` +
          `<UploadId>${escapeXml(uploadId)}</UploadId><Initiator>${OWNER}</Initiator><Owner>${OWNER}</Owner>` +
          `<StorageClass>STANDARD</StorageClass><PartNumberMarker>${marker}</PartNumberMarker>` +
          `<NextPartNumberMarker>${page.length > 0 ? page[page.length - 1] : marker}</NextPartNumberMarker>` +
          `<MaxParts>${maxParts}</MaxParts><IsTruncated>${numbers.length > page.length}</IsTruncated>${parts.join('')}</ListPartsResult>`,
      );
    } finally {
      release();
    }
  }

  async abort(req: http.IncomingMessage, res: http.ServerResponse, name: ObjectName, query: URLSearchParams): Promise<void> {
    req.resume();
    const { upload, release } = await this.lockUpload(name, query.get('uploadId') ?? '', true);
    try {
      await fs.promises.rm(upload.dir, { recursive: true, force: true });
      res.writeHead(204);
      res.end();
    } finally {
      release();
    }
  }

  /** UploadPart: checked, then streamed to s3rver while the upload is held (shared). */
  async uploadPart(req: http.IncomingMessage, res: http.ServerResponse, name: ObjectName, query: URLSearchParams): Promise<void> {
    const partNumber = partNumberOf(query.get('partNumber'));
    const { upload, release } = await this.lockUpload(name, query.get('uploadId') ?? '', false);
    const writing = this.markInFlight(upload, partNumber);
    forward(req, res, this.deps.s3, () => {
      writing();
      release();
    });
  }

  async uploadPartCopy(req: http.IncomingMessage, res: http.ServerResponse, name: ObjectName, query: URLSearchParams): Promise<void> {
    req.resume();
    const partNumber = partNumberOf(query.get('partNumber'));
    const uploadId = query.get('uploadId') ?? '';
    const sourceHeader = String(req.headers['x-amz-copy-source'] ?? '');
    const source = parseCopySource(sourceHeader);
    if (!source) {
      throw new S3Failure(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: sourceHeader,
      });
    }
    const rangeHeader = req.headers['x-amz-copy-source-range'];
    const range = rangeHeader === undefined ? undefined : /^bytes=(\d+)-(\d+)$/.exec(String(rangeHeader));
    if (rangeHeader !== undefined && !range) {
      throw new S3Failure(
        400,
        'InvalidArgument',
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
        {
          ArgumentName: 'x-amz-copy-source-range',
          ArgumentValue: String(rangeHeader),
        },
      );
    }

    // Key lock before upload lock (see locks.ts).
    const releaseSource = await this.deps.keyLocks.acquire(lockKeyOf(source));
    try {
      const { upload, release } = await this.lockUpload(name, uploadId, false);
      const writing = this.markInFlight(upload, partNumber);
      try {
        const sourcePath = requestPathOf(source);
        const head = await call(this.deps.s3, 'HEAD', sourcePath);
        if (head.status === 404) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.', { Key: source.key });
        if (head.status >= 300) throw new Error(`HEAD of the copy source answered ${head.status}`);
        const size = Number(head.headers['content-length']);
        const etag = String(head.headers.etag ?? '');
        this.checkCopyConditions(req, etag, new Date(String(head.headers['last-modified'])));

        const first = range ? Number(range[1]) : 0;
        const last = range ? Number(range[2]) : size - 1;
        if (range && (first > last || last >= size)) {
          throw new S3Failure(400, 'InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
            ArgumentName: 'x-amz-copy-source-range',
            ArgumentValue: String(rangeHeader),
          });
        }
        const bytes = last - first + 1;
        let content: http.IncomingMessage | undefined;
        if (bytes > 0) {
          content = await open(this.deps.s3, 'GET', sourcePath, { range: `bytes=${first}-${last}` });
          if (content.statusCode !== 200 && content.statusCode !== 206) {
            content.resume();
            throw new Error(`GET of the copy source answered ${content.statusCode}`);
          }
        }
        const answer = await call(this.deps.s3, 'PUT', `${requestPathOf(name)}?partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`, {
          headers: { 'content-length': String(bytes), 'content-type': 'application/octet-stream' },
          // s3rver reads `bytes=0-0` as the whole object: take no more than the range.
          body: content ? Readable.from(firstBytes(content, bytes)) : Buffer.alloc(0),
        }).finally(() => content?.destroy());
        if (answer.status >= 300) return reply(res, answer);
        const stat = await fs.promises.stat(path.join(upload.dir, String(partNumber)));
        const partEtag = String(answer.headers.etag ?? '');
        sendXml(
          res,
          200,
          `<CopyPartResult xmlns="${S3_XMLNS}"><ETag>${escapeXml(partEtag)}</ETag><LastModified>${stat.mtime.toISOString()}</LastModified></CopyPartResult>`,
        );
      } finally {
        writing();
        release();
      }
    } finally {
      releaseSource();
    }
  }

  private checkCopyConditions(req: http.IncomingMessage, etag: string, lastModified: Date): void {
    const failed = () => new S3Failure(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    const ifMatch = req.headers['x-amz-copy-source-if-match'];
    const ifNoneMatch = req.headers['x-amz-copy-source-if-none-match'];
    const ifUnmodifiedSince = req.headers['x-amz-copy-source-if-unmodified-since'];
    const ifModifiedSince = req.headers['x-amz-copy-source-if-modified-since'];
    if (ifMatch !== undefined && unquote(String(ifMatch)) !== unquote(etag)) throw failed();
    if (ifNoneMatch !== undefined && unquote(String(ifNoneMatch)) === unquote(etag)) throw failed();
    if (ifMatch === undefined && ifUnmodifiedSince !== undefined && lastModified > new Date(String(ifUnmodifiedSince))) throw failed();
    if (ifNoneMatch === undefined && ifModifiedSince !== undefined && lastModified <= new Date(String(ifModifiedSince))) throw failed();
  }

  /**
   * CompleteMultipartUpload. The caller holds the key's lock (and has checked the request's conditions); this
   * takes the upload's exclusively, checks the part list, lets s3rver assemble the object and sets its tags.
   */
  async complete(req: http.IncomingMessage, res: http.ServerResponse, name: ObjectName, query: URLSearchParams): Promise<void> {
    const uploadId = query.get('uploadId') ?? '';
    const { upload, release } = await this.lockUpload(name, uploadId, true);
    try {
      const body = await readBody(req, MAX_COMPLETE_BODY);
      let parts: { number: number; etag: string }[];
      try {
        const root = parseXml(body.toString('utf8'));
        if (root.name !== 'CompleteMultipartUpload') throw new MalformedXmlError(`unexpected <${root.name}>`);
        parts = childrenNamed(root, 'Part').map((part) => ({
          number: Number(childText(part, 'PartNumber')),
          etag: unquote(childText(part, 'ETag') ?? ''),
        }));
        if (parts.length === 0 || parts.some((part) => !Number.isInteger(part.number))) throw new MalformedXmlError('no parts');
      } catch (error) {
        if (!(error instanceof MalformedXmlError)) throw error;
        throw new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
      }
      parts.forEach((part, index) => {
        if (index > 0 && part.number <= parts[index - 1]!.number) {
          throw new S3Failure(
            400,
            'InvalidPartOrder',
            'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
            {
              UploadId: uploadId,
            },
          );
        }
      });
      for (const part of parts) {
        const md5 = part.number >= 1 && part.number <= MAX_PART_NUMBER ? await readText(path.join(upload.dir, `${part.number}.md5`)) : undefined;
        if (md5 === undefined || md5.trim() !== part.etag) {
          throw new S3Failure(
            400,
            'InvalidPart',
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            { UploadId: uploadId, PartNumber: String(part.number), ETag: part.etag },
          );
        }
      }
      const tags = parseTaggingHeader(upload.headers['x-amz-tagging']) ?? [];
      const answer = await call(this.deps.s3, 'POST', req.url ?? '/', { headers: req.headers, body });
      if (answer.status < 300) await setTags(this.deps.layout, name, tags);
      else if (answer.status >= 500) throw new Error(`s3rver could not complete the upload: ${errorCode(answer)}`);
      reply(res, answer);
    } finally {
      release();
    }
  }
}

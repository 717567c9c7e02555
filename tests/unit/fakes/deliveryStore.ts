import { createHash } from 'node:crypto';
import { type DeliveryManifest, deliveryPrefix, executionBlockOf, README_NAME } from '../../../lib/domain/delivery';
import {
  type DeliveryLookup,
  DeliveryNotFoundError,
  type DeliveryStore,
  type StagedTarball,
  type UploadedPart,
} from '../../../lib/storage/DeliveryStore';
import { Failures } from './failures';

type Method = keyof DeliveryStore;

interface Upload {
  readonly key: string;
  readonly parts: Map<number, { readonly body: Buffer; readonly etag: string }>;
}

/** One call the fake received; `detail` holds what a test may want to check (part number, range, source). */
export interface DeliveryStoreCall {
  readonly method: Method;
  readonly key?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** S3's own error names, so code that tells them apart can be tested. */
export class FakeS3Error extends Error {
  constructor(
    override readonly name: 'NoSuchUpload' | 'NoSuchKey' | 'InvalidRange' | 'InvalidPart' | 'EntityTooSmall' | 'InvalidArgument',
    message: string,
  ) {
    super(message);
  }
}

const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const MAX_PARTS = 10_000;

/**
 * An in-memory `DeliveryStore` with S3's multipart semantics: an upload's parts are invisible until it is
 * completed (with the part list and ETags S3 gave), `abortUpload` drops them, `copyPart` copies a byte range
 * of an existing object, and a completed or aborted upload is gone (`listParts` fails with NoSuchUpload).
 * `openUpload` finds the upload of a key still in progress, as the port promises, or begins one.
 *
 * It also watches how it is used. `violations` collects what S3 would not forgive or what wastes memory: more
 * `uploadPart` calls in flight at once than `partsInFlightAllowed` (the transfer's promise, which bounds its
 * part buffers), a part's bytes changing while it uploads (a reused buffer), an abort while a part is still
 * uploading. `uploadPart` completes on a later turn of the event loop (or when `partLatency` says), so
 * overlapping calls really overlap.
 */
export class InMemoryDeliveryStore implements DeliveryStore {
  /** Visible objects by key. */
  readonly objects = new Map<string, Buffer>();
  /** Requests whose deliveries are kept (the `.donotremove`). */
  readonly kept = new Set<string>();
  readonly uploads = new Map<string, Upload>();
  readonly calls: DeliveryStoreCall[] = [];
  readonly failures = new Failures<Method>();
  readonly violations: string[] = [];
  /** Bytes received by `uploadPart`, over all calls (copies are server-side and not counted). */
  bytesUploaded = 0;
  maxPartsInFlight = 0;
  /** More `uploadPart` calls than this at once is a violation. */
  partsInFlightAllowed = 1;
  /** How long a part takes to land; a test can make parts land out of order. */
  partLatency: (partNumber: number) => Promise<void> = () => new Promise((resolve) => setImmediate(resolve));
  /** Multipart uploads begun (not found again by `openUpload`). */
  uploadsStarted = 0;
  /** Called when a part has been stored; a test can move its clock here. */
  onPartStored: (part: UploadedPart) => void = () => undefined;

  private readonly manifests = new Map<string, DeliveryManifest>();
  private readonly index = new Map<string, StagedTarball>();
  private readonly tokens = new Map<string, string>();
  private partsInFlight = 0;
  private nextUploadId = 1;

  /**
   * @param minPartBytes S3 refuses to complete an upload whose parts other than the last are smaller (5 MiB
   * there); 0 checks nothing.
   */
  constructor(private readonly minPartBytes = 0) {}

  /** Puts an object in place, as an earlier delivery would have left it. */
  putObject(key: string, body: Buffer): void {
    this.objects.set(key, Buffer.from(body));
  }

  /** The bucket's lifecycle rule: everything of a delivery and its index entries go, the token record stays. */
  expire(requestId: string): void {
    for (const key of [...this.objects.keys()]) if (key.startsWith(deliveryPrefix(requestId))) this.objects.delete(key);
    for (const [key, entry] of [...this.index]) if (entry.key.startsWith(deliveryPrefix(requestId))) this.index.delete(key);
    this.manifests.delete(requestId);
  }

  callsOf(method: Method): DeliveryStoreCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Keys of the visible objects under `prefix`, sorted. */
  keysUnder(prefix: string): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async completedSize(key: string): Promise<number | undefined> {
    this.record('completedSize', key);
    return this.objects.get(key)?.length;
  }

  async openUpload(key: string): Promise<string> {
    this.record('openUpload', key);
    const inProgress = [...this.uploads.entries()].find(([, upload]) => upload.key === key);
    if (inProgress) return inProgress[0];
    const uploadId = `upload-${this.nextUploadId++}`;
    this.uploads.set(uploadId, { key, parts: new Map() });
    this.uploadsStarted += 1;
    return uploadId;
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    this.record('listParts', key, { uploadId });
    const upload = this.upload(key, uploadId);
    return [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, part]) => ({ partNumber, etag: part.etag, size: part.body.length }));
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<UploadedPart> {
    this.record('uploadPart', key, { uploadId, partNumber, bytes: body.length });
    this.partsInFlight += 1;
    this.maxPartsInFlight = Math.max(this.maxPartsInFlight, this.partsInFlight);
    if (this.partsInFlight > this.partsInFlightAllowed) {
      this.violations.push(`uploadPart ${partNumber} of ${key} started while ${this.partsInFlight - 1} parts were uploading`);
    }
    const sentHash = sha256(body);
    try {
      // The body travels on a later turn of the event loop, as it does over a socket.
      await this.partLatency(partNumber);
      const received = Buffer.from(body);
      if (sha256(received) !== sentHash) this.violations.push(`part ${partNumber} of ${key} changed while it was uploading`);
      const upload = this.upload(key, uploadId);
      if (partNumber < 1 || partNumber > MAX_PARTS) throw new FakeS3Error('InvalidArgument', `part number ${partNumber}`);
      const part = { body: received, etag: etagOf(received) };
      upload.parts.set(partNumber, part);
      this.bytesUploaded += received.length;
      const uploaded = { partNumber, etag: part.etag, size: received.length };
      this.onPartStored(uploaded);
      return uploaded;
    } finally {
      this.partsInFlight -= 1;
    }
  }

  async copyPart(key: string, uploadId: string, partNumber: number, sourceKey: string, first: number, last: number): Promise<UploadedPart> {
    this.record('copyPart', key, { uploadId, partNumber, sourceKey, first, last });
    const upload = this.upload(key, uploadId);
    const source = this.objects.get(sourceKey);
    if (!source) throw new FakeS3Error('NoSuchKey', `${sourceKey} does not exist`);
    if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 0 && first <= last && last < source.length)) {
      throw new FakeS3Error('InvalidRange', `bytes=${first}-${last} of ${source.length} bytes`);
    }
    const body = Buffer.from(source.subarray(first, last + 1));
    const part = { body, etag: etagOf(body) };
    upload.parts.set(partNumber, part);
    const copied = { partNumber, etag: part.etag, size: body.length };
    this.onPartStored(copied);
    return copied;
  }

  async completeUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<number> {
    this.record('completeUpload', key, { uploadId, parts: parts.map((part) => part.partNumber) });
    const upload = this.upload(key, uploadId);
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (ordered.length === 0) throw new FakeS3Error('InvalidPart', `no parts to complete ${key} with`);
    const bodies = ordered.map((part, index) => {
      const stored = upload.parts.get(part.partNumber);
      if (!stored || stored.etag !== part.etag)
        throw new FakeS3Error('InvalidPart', `part ${part.partNumber} of ${key} was not uploaded with ETag ${part.etag}`);
      if (index > 0 && ordered[index - 1]!.partNumber === part.partNumber) throw new FakeS3Error('InvalidPart', `part ${part.partNumber} twice`);
      if (index < ordered.length - 1 && stored.body.length < this.minPartBytes) {
        throw new FakeS3Error('EntityTooSmall', `part ${part.partNumber} of ${key} has ${stored.body.length} bytes`);
      }
      return stored.body;
    });
    const body = Buffer.concat(bodies);
    this.objects.set(key, body);
    this.uploads.delete(uploadId);
    return body.length;
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    this.record('abortUpload', key, { uploadId });
    if (this.partsInFlight > 0) this.violations.push(`upload of ${key} aborted while a part was still uploading`);
    this.uploads.delete(uploadId);
  }

  async copyObject(sourceKey: string, key: string): Promise<void> {
    this.record('copyObject', key, { sourceKey });
    const source = this.objects.get(sourceKey);
    if (!source) throw new FakeS3Error('NoSuchKey', `${sourceKey} does not exist`);
    this.objects.set(key, Buffer.from(source));
  }

  async findStaged(executionBlock: string, selectionKey: string, stagedAfter: Date): Promise<StagedTarball | undefined> {
    this.record('findStaged', undefined, { executionBlock, selectionKey, stagedAfter: stagedAfter.toISOString() });
    const prefix = `${executionBlock}/${selectionKey}/`;
    const candidates = [...this.index.entries()]
      .filter(([key, entry]) => key.startsWith(prefix) && Date.parse(entry.stagedAt) > stagedAfter.getTime())
      .map(([, entry]) => entry)
      .sort((a, b) => Date.parse(b.stagedAt) - Date.parse(a.stagedAt));
    return candidates.find((candidate) => this.objects.get(candidate.key)?.length === candidate.bytes);
  }

  async publish(manifest: DeliveryManifest, readme: string, selectionKey: string): Promise<void> {
    this.record('publish', deliveryPrefix(manifest.requestId), { token: manifest.token, selectionKey });
    const prefix = deliveryPrefix(manifest.requestId);
    this.objects.set(`${prefix}${README_NAME}`, Buffer.from(readme, 'utf8'));
    for (const tarball of manifest.tarballs) {
      this.index.set(`${executionBlockOf(tarball.name)}/${selectionKey}/${manifest.requestId}`, {
        key: `${prefix}${tarball.name}`,
        bytes: tarball.bytes,
        sha256: tarball.sha256,
        stagedAt: manifest.stagedAt,
      });
    }
    this.tokens.set(manifest.token, manifest.requestId);
    this.manifests.set(manifest.requestId, structuredClone(manifest));
  }

  async readManifest(requestId: string): Promise<DeliveryManifest | undefined> {
    this.record('readManifest', deliveryPrefix(requestId));
    const manifest = this.manifests.get(requestId);
    return manifest && structuredClone(manifest);
  }

  async lookupToken(token: string): Promise<DeliveryLookup> {
    this.record('lookupToken', undefined, { token });
    const requestId = this.tokens.get(token);
    if (requestId === undefined) return { state: 'unknown' };
    const manifest = this.manifests.get(requestId);
    if (!manifest) return { state: 'removed', requestId };
    const prefix = deliveryPrefix(requestId);
    const complete = manifest.tarballs.every((tarball) => this.objects.get(`${prefix}${tarball.name}`)?.length === tarball.bytes);
    return { state: 'published', manifest: structuredClone(manifest), kept: this.kept.has(requestId), complete };
  }

  async presignDownload(key: string, seconds: number, fileName: string): Promise<string> {
    this.record('presignDownload', key, { seconds, fileName });
    return `https://data.calms.test/${key}?expires=${seconds}&filename=${encodeURIComponent(fileName)}`;
  }

  async setKept(requestId: string, kept: boolean): Promise<void> {
    this.record('setKept', deliveryPrefix(requestId), { kept });
    if (!this.manifests.has(requestId)) throw new DeliveryNotFoundError(`no delivery was published for request ${requestId}`);
    if (kept) this.kept.add(requestId);
    else this.kept.delete(requestId);
  }

  private record(method: Method, key?: string, detail?: Record<string, unknown>): void {
    this.calls.push({ method, key, detail });
    this.failures.check(method);
  }

  private upload(key: string, uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new FakeS3Error('NoSuchUpload', `no upload ${uploadId} of ${key} is in progress`);
    return upload;
  }
}

/**
 * Moves each tarball of a delivery into the data bucket, in steps that each fit one Lambda invocation:
 *
 * - from the cluster, `tar cf -` is streamed over SSH into a multipart upload, each part checked against the
 *   SHA-256 the job recorded for it before it is uploaded. Up to `partsInFlight` parts upload at once while the
 *   next one fills (one S3 connection is slower than a function's network), so memory stays at
 *   (parts in flight + 1) × part size, whatever the size; nothing is written to disk. A stream that sends
 *   nothing for `stallSeconds` is closed as a dropped one would be.
 * - from an earlier delivery (re-use), the tarball is copied inside S3: one CopyObject up to the copy limit,
 *   UploadPartCopy part by part beyond it.
 *
 * A step stops at a part boundary once its time budget is spent (always after at least one part, so every
 * step makes progress). The next step, or a retry after an SSH drop, asks S3 which parts are complete and
 * resumes after the last one; the tar stream is restarted at that offset. An upload becomes an object only
 * when all its parts are in, so a half-made tarball is never visible.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Cluster, SubmittedJob, TarballChecksums } from '../cluster/Cluster';
import { ClusterUnreachableError } from '../cluster/errors';
import { RequestCancelledError, TerminalError, TransientError } from '../errors';
import type { Logger } from '../log';
import type { DeliveryStore, UploadedPart } from '../storage/DeliveryStore';

export type TarballSource =
  | { readonly kind: 'cluster' }
  | { readonly kind: 'copy'; readonly key: string; readonly bytes: number; readonly sha256: string };

/** One tarball's transfer; plain JSON, carried in the execution state from one step to the next. */
export interface TarballTransfer {
  readonly measurementSet: string;
  /** Its key in the delivery. */
  readonly key: string;
  readonly source: TarballSource;
  /** Set once the multipart upload is started; resuming steps continue it. */
  readonly uploadId?: string;
  /** Set once the tarball is a complete object. */
  readonly result?: { readonly bytes: number; readonly sha256: string };
}

export interface Staging {
  readonly tarballs: readonly TarballTransfer[];
  /** True once every tarball is complete. */
  readonly complete: boolean;
}

export interface TransferDeps {
  readonly store: DeliveryStore;
  readonly partBytes: number;
  readonly copyLimitBytes: number;
  /** Parts of a tarball streamed from the cluster that upload at the same time. */
  readonly partsInFlight: number;
  /** A tar stream that sends no byte for this long is taken as stalled. */
  readonly stallSeconds: number;
  /** Milliseconds, for the time budget. */
  readonly clock: () => number;
  /**
   * Asked while a tarball streams from the cluster, at most once per {@link CANCEL_CHECK_MS}. A request
   * cancelled while a step streams (its execution stopped, its uploads aborted) would otherwise stream on to the
   * end of the step's budget and leave a new upload behind; it stops a few parts later and aborts that upload too.
   */
  readonly isCancelled: () => Promise<boolean>;
  readonly log: Logger;
}

/** How often a streaming step asks whether its request was cancelled (clock milliseconds). */
export const CANCEL_CHECK_MS = 5000;

/** S3 allows at most this many parts per multipart upload. */
export const MAX_PARTS = 10_000;

/** More parts than S3 allows at the part size the job checksummed with. */
export class TarballTooLargeError extends TerminalError {
  override name = 'TarballTooLargeError';
}

/** A part streamed from the cluster differs from what the job checksummed: the upload is aborted. */
export class TarballChecksumMismatchError extends TerminalError {
  override name = 'TarballChecksumMismatchError';
}

/**
 * Transfers until every tarball is complete or `deadline` (clock milliseconds) has passed; returns where it got.
 * `job` is needed only for tarballs from the cluster.
 */
export async function transferTarballs(
  deps: TransferDeps,
  cluster: Cluster | undefined,
  job: SubmittedJob | undefined,
  staging: Staging,
  deadline: number,
): Promise<Staging> {
  const tarballs = [...staging.tarballs];
  let progressed = false;
  for (const [index, tarball] of tarballs.entries()) {
    if (tarball.result) continue;
    if (progressed && deps.clock() >= deadline) break;
    const budget = { deadline, atLeastOnePart: !progressed };
    let next: TarballTransfer;
    try {
      if (tarball.source.kind === 'copy') {
        next = await copyTarball(deps, tarball, tarball.source, budget);
      } else {
        if (!cluster || !job) throw new Error(`${tarball.measurementSet} is to come from the cluster, but no job was given`);
        next = await streamTarball(deps, cluster, job, tarball, budget);
      }
    } catch (error) {
      // A tarball completed earlier in this step would be lost with the step's output (its upload is gone,
      // so a retry could not resume it): hand over what is done; the next step meets the failure again.
      if (!progressed || !(error instanceof TransientError)) throw error;
      deps.log.warn('staging stopped early; the next step continues', { tarball: tarball.key, error });
      break;
    }
    tarballs[index] = next;
    progressed = true;
    if (!next.result) break;
  }
  return { tarballs, complete: tarballs.every((tarball) => tarball.result !== undefined) };
}

interface Budget {
  readonly deadline: number;
  /** The first part of a step is transferred whatever the clock says. */
  readonly atLeastOnePart: boolean;
}

/** The parts 1…k that are complete in a row; anything after a gap is uploaded again. */
function completedRun(parts: readonly UploadedPart[]): UploadedPart[] {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const run: UploadedPart[] = [];
  for (const part of sorted) {
    if (part.partNumber !== run.length + 1) break;
    run.push(part);
  }
  return run;
}

async function resume(deps: TransferDeps, tarball: TarballTransfer): Promise<{ uploadId: string; done: UploadedPart[] }> {
  const uploadId = tarball.uploadId ?? (await deps.store.openUpload(tarball.key));
  return { uploadId, done: completedRun(await deps.store.listParts(tarball.key, uploadId)) };
}

async function streamTarball(
  deps: TransferDeps,
  cluster: Cluster,
  job: SubmittedJob,
  tarball: TarballTransfer,
  budget: Budget,
): Promise<TarballTransfer> {
  // The job's checksums are per part of the size in force at submission, whatever the configuration says now.
  const partBytes = job.tarPartBytes;
  // Neither waits for the other: the job's checksums come over SSH while S3 says whether the tarball is already in.
  const [checksums, completed] = await Promise.all([
    cluster.readTarballChecksums(job, tarball.measurementSet),
    deps.store.completedSize(tarball.key),
  ]);
  if (checksums.parts.length > MAX_PARTS) {
    throw new TarballTooLargeError(
      `${tarball.measurementSet}: its tarball has ${checksums.parts.length} parts of ${partBytes} bytes, more than S3's ${MAX_PARTS}; raise CALMS_STAGING_PART_MIB and calibrate again.`,
    );
  }
  if (completed !== undefined) return { ...tarball, result: { bytes: completed, sha256: checksums.sha256 } };
  const { uploadId, done } = await resume(deps, tarball);
  const log = deps.log.with({ tarball: tarball.key, uploadId });
  const mismatch = async (message: string): Promise<never> => {
    await deps.store.abortUpload(tarball.key, uploadId);
    log.error('tarball checksum mismatch; upload aborted', { reason: message });
    throw new TarballChecksumMismatchError(`${tarball.measurementSet}: ${message}; the upload was aborted and nothing was published.`);
  };
  const cancelled = async (): Promise<never> => {
    await deps.store.abortUpload(tarball.key, uploadId);
    log.warn('request cancelled while staging; upload aborted');
    throw new RequestCancelledError(`${tarball.measurementSet}: the request was cancelled; the upload was aborted.`);
  };
  // Every part is full but the last one, which may be in already when completing the upload failed.
  const misfit = (part: UploadedPart) => part.size !== partBytes && !(part.partNumber === checksums.parts.length && part.size <= partBytes);
  if (done.some(misfit) || done.length > checksums.parts.length) {
    return mismatch(`the uploaded parts do not match the job's ${checksums.parts.length} parts of ${partBytes} bytes`);
  }
  if (done.length < checksums.parts.length) {
    const offset = done.length * partBytes;
    log.info(done.length === 0 ? 'streaming tarball from the cluster' : 'resuming tarball from the cluster', {
      offset,
      parts: checksums.parts.length,
    });
    const stream = cluster.streamTar(job, tarball.measurementSet, offset);
    const finished = await uploadStreamedParts(deps, stream, {
      key: tarball.key,
      uploadId,
      measurementSet: tarball.measurementSet,
      partBytes,
      checksums,
      done,
      budget,
      mismatch,
      cancelled,
    });
    if (!finished) return { ...tarball, uploadId };
  }
  // Parts land in any order; S3 wants them listed in ascending order.
  const bytes = await deps.store.completeUpload(
    tarball.key,
    uploadId,
    [...done].sort((a, b) => a.partNumber - b.partNumber),
  );
  log.info('tarball staged', { bytes, sha256: checksums.sha256 });
  return { ...tarball, uploadId, result: { bytes, sha256: checksums.sha256 } };
}

interface PartUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly measurementSet: string;
  readonly partBytes: number;
  readonly checksums: TarballChecksums;
  /** Filled in place as parts complete. */
  readonly done: UploadedPart[];
  readonly budget: Budget;
  readonly mismatch: (message: string) => Promise<never>;
  readonly cancelled: () => Promise<never>;
}

/**
 * Cuts the stream into parts, checks each against its SHA-256 and uploads it, up to `partsInFlight` at a time
 * while the next one fills. Returns true when the stream ended with every part uploaded, false when the budget
 * ran out first (the stream is then closed). Whatever ends it, every part in flight has landed (or failed)
 * before it returns or throws: S3 may keep a part that arrives during an abort, and a resume asks S3 which
 * parts are in.
 */
async function uploadStreamedParts(deps: TransferDeps, stream: Readable, upload: PartUpload): Promise<boolean> {
  const { partBytes, checksums, done } = upload;
  const flight = new PartsInFlight(deps, upload);
  const watch = new CancelWatch(deps);
  const read = stallGuard(stream, deps.stallSeconds, upload.measurementSet);
  // Taken when the part's first byte comes, so that a stream that ends at a part boundary takes none.
  let buffer: Buffer | undefined;
  let hash = createHash('sha256');
  let filled = 0;
  let nextPartNumber = done.length + 1;

  const submitPart = async (): Promise<void> => {
    const partNumber = nextPartNumber;
    const expected = checksums.parts[partNumber - 1];
    if (expected === undefined)
      await flight.landed(() => upload.mismatch(`the tarball is longer than the ${checksums.parts.length} parts the job checksummed`));
    // Hashed chunk by chunk as the part filled, so no whole-part hash holds up the uploads in flight.
    const actual = hash.digest('hex');
    if (actual !== expected) await flight.landed(() => upload.mismatch(`part ${partNumber} has SHA-256 ${actual}, the job recorded ${expected}`));
    await flight.room();
    watch.poll();
    if (watch.cancelled) await flight.landed(upload.cancelled);
    flight.send(partNumber, buffer!, filled);
    buffer = undefined;
    hash = createHash('sha256');
    nextPartNumber += 1;
    filled = 0;
  };

  try {
    for (let chunk = await read(); chunk !== undefined; chunk = await read()) {
      let offset = 0;
      while (offset < chunk.length) {
        buffer ??= flight.takeBuffer();
        const copied = chunk.copy(buffer, filled, offset);
        hash.update(chunk.subarray(offset, offset + copied));
        filled += copied;
        offset += copied;
        if (filled < partBytes) continue;
        await submitPart();
        // Parts are cut at fixed sizes, so stopping here leaves a run of full parts to resume after.
        if (deps.clock() >= upload.budget.deadline && nextPartNumber <= checksums.parts.length) {
          await flight.drain();
          stream.destroy();
          return false;
        }
      }
    }
    if (filled > 0) await submitPart();
    await flight.drain();
  } catch (error) {
    await flight.settled();
    stream.destroy();
    throw error;
  } finally {
    await watch.settled();
  }
  if (done.length !== checksums.parts.length) {
    await upload.mismatch(`the tarball has ${done.length} parts, the job checksummed ${checksums.parts.length}`);
  }
  return true;
}

/**
 * The parts uploading and their buffers: at most `partsInFlight` uploads, and one buffer more for the part that
 * fills meanwhile, so memory stays at (parts in flight + 1) × part size whatever the tarball's size. A buffer is
 * reused only once its upload has settled.
 */
class PartsInFlight {
  private readonly uploads = new Set<Promise<void>>();
  /**
   * The buffers not in use, taken in turn (the first freed is the first taken), so that every one has been
   * filled once the first (parts in flight + 1) parts have: a step's memory reaches its bound within its first
   * parts, the same for every tarball of that many parts, rather than whenever uploads happen to fall behind.
   */
  private readonly free: Buffer[];
  private failure: { readonly error: unknown } | undefined;

  constructor(
    private readonly deps: TransferDeps,
    private readonly upload: PartUpload,
  ) {
    // No more than the parts left need, and one over for a stream longer than the job checksummed (its extra
    // part is read, found not to match, and never sent). A buffer is not resident before it is first filled.
    const partsLeft = upload.checksums.parts.length - upload.done.length;
    this.free = Array.from({ length: Math.min(deps.partsInFlight, partsLeft) + 1 }, () => Buffer.allocUnsafe(upload.partBytes));
  }

  /** A buffer for the part that fills next; there is always one, as no more than `partsInFlight` parts upload. */
  takeBuffer(): Buffer {
    const buffer = this.free.shift();
    if (!buffer) throw new Error('no part buffer is free: more parts are uploading than allowed');
    return buffer;
  }

  /** Waits until another part may go up; throws the failure of one that went up before. */
  async room(): Promise<void> {
    while (this.uploads.size >= this.deps.partsInFlight) await Promise.race(this.uploads);
    this.throwFailure();
  }

  send(partNumber: number, buffer: Buffer, length: number): void {
    const sending = this.deps.store
      .uploadPart(this.upload.key, this.upload.uploadId, partNumber, buffer.subarray(0, length))
      .then(
        (part) => {
          this.upload.done.push(part);
        },
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => {
        this.uploads.delete(sending);
        this.free.push(buffer);
      });
    this.uploads.add(sending);
  }

  /** Every part sent has landed; throws the failure of one that did not. */
  async drain(): Promise<void> {
    await this.settled();
    this.throwFailure();
  }

  /** Every part sent has landed or failed. */
  async settled(): Promise<void> {
    while (this.uploads.size > 0) await Promise.race(this.uploads);
  }

  /** Lets the parts in flight land, then ends the upload as `end` does (abort it, throw). */
  async landed(end: () => Promise<never>): Promise<never> {
    await this.settled();
    return end();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Asks whether the request was cancelled at most once per {@link CANCEL_CHECK_MS} of the clock, without holding
 * up the parts: the answer is read at a later part boundary. (The staging step asks once more at its end.)
 */
class CancelWatch {
  private checking: Promise<void> | undefined;
  private lastAsked = Number.NEGATIVE_INFINITY;
  private seen = false;
  private failure: { readonly error: unknown } | undefined;

  constructor(private readonly deps: TransferDeps) {}

  /** True once a check found the request cancelled; throws when a check failed. */
  get cancelled(): boolean {
    if (this.failure) throw this.failure.error;
    return this.seen;
  }

  poll(): void {
    if (this.checking || this.deps.clock() - this.lastAsked < CANCEL_CHECK_MS) return;
    this.lastAsked = this.deps.clock();
    this.checking = this.deps
      .isCancelled()
      .then(
        (cancelled) => {
          this.seen ||= cancelled;
        },
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => {
        this.checking = undefined;
      });
  }

  async settled(): Promise<void> {
    await this.checking;
  }
}

/**
 * Reads the stream chunk by chunk; a read that waits `stallSeconds` for a byte (tar hung, the node or the
 * network silent without dropping the connection) closes the stream and fails with ClusterUnreachableError, so
 * the step's retry resumes after the last complete part instead of waiting for the function's timeout. Only
 * the wait for tar counts: time spent waiting for room among the parts in flight does not.
 */
function stallGuard(stream: Readable, stallSeconds: number, measurementSet: string): () => Promise<Buffer | undefined> {
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  return async () => {
    const timer = setTimeout(
      () => stream.destroy(new ClusterUnreachableError(`${measurementSet}: tar sent no byte for ${stallSeconds} s; the stream was closed`)),
      stallSeconds * 1000,
    );
    try {
      const next = await chunks.next();
      return next.done ? undefined : next.value;
    } finally {
      clearTimeout(timer);
    }
  };
}

async function copyTarball(
  deps: TransferDeps,
  tarball: TarballTransfer,
  source: Extract<TarballSource, { kind: 'copy' }>,
  budget: Budget,
): Promise<TarballTransfer> {
  const result = { bytes: source.bytes, sha256: source.sha256 };
  if (source.bytes <= deps.copyLimitBytes) {
    await deps.store.copyObject(source.key, tarball.key);
    deps.log.info('tarball copied from an earlier delivery', { tarball: tarball.key, from: source.key, bytes: source.bytes });
    return { ...tarball, result };
  }
  if ((await deps.store.completedSize(tarball.key)) !== undefined) return { ...tarball, result };
  const { uploadId, done } = await resume(deps, tarball);
  const partCount = Math.ceil(source.bytes / deps.partBytes);
  let first = true;
  while (done.length < partCount) {
    if (!(first && budget.atLeastOnePart) && deps.clock() >= budget.deadline) return { ...tarball, uploadId };
    first = false;
    const partNumber = done.length + 1;
    const start = (partNumber - 1) * deps.partBytes;
    const end = Math.min(source.bytes, start + deps.partBytes) - 1;
    done.push(await deps.store.copyPart(tarball.key, uploadId, partNumber, source.key, start, end));
  }
  const bytes = await deps.store.completeUpload(tarball.key, uploadId, done);
  if (bytes !== source.bytes) {
    throw new TarballChecksumMismatchError(`${tarball.key}: the copy has ${bytes} bytes, its source ${source.bytes}`);
  }
  deps.log.info('tarball copied from an earlier delivery in parts', { tarball: tarball.key, from: source.key, bytes, parts: partCount });
  return { ...tarball, uploadId, result };
}

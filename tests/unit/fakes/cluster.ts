import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { CalibrationJob, Cluster, JobLogTail, JobStatus, NodeChoice, SubmittedJob, TarballChecksums } from '../../../lib/cluster/Cluster';
import { ClusterCommandError, ClusterUnreachableError } from '../../../lib/cluster/errors';
import { Failures } from './failures';

type Method =
  | 'chooseNode'
  | 'submit'
  | 'status'
  | 'awaitEnd'
  | 'readLogTail'
  | 'streamLog'
  | 'cancel'
  | 'removeWorkDir'
  | 'readTarballChecksums'
  | 'streamTar';

/** The SHA-256 of `content` and of each consecutive `partBytes` slice of it, as the job script records them. */
export function tarballChecksums(content: Buffer, partBytes: number): TarballChecksums {
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const parts: string[] = [];
  for (let start = 0; start < content.length; start += partBytes) parts.push(sha256(content.subarray(start, start + partBytes)));
  return { sha256: sha256(content), parts };
}

/** Deterministic bytes standing in for a `tar cf -` stream: different for every `seed`. */
export function tarballBytes(length: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    // xorshift32: cheap, and no two positions of a part repeat in a way a misplaced slice could hide.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/** One `streamTar` call, as the fake saw it. */
export interface TarStream {
  readonly measurementSet: string;
  readonly offset: number;
  readonly stream: Readable;
}

/**
 * A `Cluster` whose node choice, job statuses and log are scripted: `statuses` are answered in turn by `status`
 * and `awaitEnd` (the last one again once they run out). It records submissions and cancellations.
 *
 * For staging, `tarballs` holds the `tar cf -` bytes of each produced MS: `readTarballChecksums` computes what
 * the job would have recorded (per `job.tarPartBytes`; from `checksummed` instead when a test makes the job
 * have checksummed other bytes), and `streamTar` streams the bytes from an offset in chunks of `chunkBytes`.
 * `dropNextStream(n)` makes the next stream fail with ClusterUnreachableError after n bytes, as a dropped SSH
 * connection does; `stallNextStream(n)` makes the next one send n bytes and then nothing more, as a hung tar
 * or a silent network does (`stalledStreams` lists the streams that stalled); `corruptByteAt(x)` flips the byte
 * at tarball position x in every later stream.
 */
export class ScriptedCluster implements Cluster {
  readonly submitted: { node: string; job: CalibrationJob }[] = [];
  readonly cancelled: SubmittedJob[] = [];
  readonly removedWorkDirs: SubmittedJob[] = [];
  readonly checksumReads: string[] = [];
  readonly waits: { readonly waitSeconds: number; readonly pollSeconds: number }[] = [];
  readonly tarStreams: TarStream[] = [];
  readonly failures = new Failures<Method>();
  statuses: JobStatus[] = [{ state: 'running' }];
  log = 'CASA stand-in restoring\n';
  /** How often the whole log was streamed. */
  logStreams = 0;
  /** The `tar cf -` stream of each produced MS. */
  readonly tarballs = new Map<string, Buffer>();
  /** What the job checksummed, where a test makes it differ from what `streamTar` sends. */
  readonly checksummed = new Map<string, Buffer>();
  chunkBytes = 1000;
  /** The streams that stopped sending, with the bytes each had sent. */
  readonly stalledStreams: { readonly stream: Readable; readonly sent: number }[] = [];
  private readonly drops: (number | undefined)[] = [];
  private readonly stalls: (number | undefined)[] = [];
  private corruptAt: number | undefined;

  constructor(
    private readonly choice: NodeChoice = { node: 'arcp14.hq.eso.org:22', load: 0.2 },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The next `streamTar` (after `skip` streams that do not drop) fails after sending `bytes` bytes. */
  dropNextStream(bytes: number, skip = 0): void {
    for (let index = 0; index < skip; index++) this.drops.push(undefined);
    this.drops.push(bytes);
  }

  /** The next `streamTar` (after `skip` streams that do not stall) sends `bytes` bytes, then nothing, never ending. */
  stallNextStream(bytes: number, skip = 0): void {
    for (let index = 0; index < skip; index++) this.stalls.push(undefined);
    this.stalls.push(bytes);
  }

  /** Every later stream sends the byte at tarball position `position` flipped; undefined stops that. */
  corruptByteAt(position: number | undefined): void {
    this.corruptAt = position;
  }

  /** The offsets `streamTar` was asked for, in order (of one MS, or of all). */
  offsetsRequested(measurementSet?: string): number[] {
    return this.tarStreams.filter((call) => measurementSet === undefined || call.measurementSet === measurementSet).map((call) => call.offset);
  }

  async chooseNode(): Promise<NodeChoice> {
    this.failures.check('chooseNode');
    return this.choice;
  }

  async submit(node: string, job: CalibrationJob): Promise<SubmittedJob> {
    this.failures.check('submit');
    this.submitted.push({ node, job });
    return {
      requestId: job.requestId,
      mous: job.mous,
      node,
      workDir: `/opsw/work/calms-${job.requestId}-${job.mous}`,
      jobId: '4242',
      submitMode: 'detached',
      submittedAt: this.clock().toISOString(),
      tarPartBytes: job.tarPartBytes,
    };
  }

  async status(): Promise<JobStatus> {
    this.failures.check('status');
    return this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0]!;
  }

  /** Answers from `statuses` as `status` does, and records how long it was asked to wait. */
  async awaitEnd(_job: SubmittedJob, waitSeconds: number, pollSeconds: number): Promise<JobStatus> {
    this.waits.push({ waitSeconds, pollSeconds });
    this.failures.check('awaitEnd');
    return this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0]!;
  }

  async readLogTail(_job: SubmittedJob, maxBytes: number): Promise<JobLogTail> {
    this.failures.check('readLogTail');
    const whole = Buffer.from(this.log);
    return { text: whole.subarray(Math.max(0, whole.length - maxBytes)).toString('utf8'), totalBytes: whole.length };
  }

  streamLog(): Readable {
    this.failures.check('streamLog');
    this.logStreams += 1;
    const whole = Buffer.from(this.log);
    const chunks = function* () {
      for (let start = 0; start < whole.length; start += 64 * 1024) yield whole.subarray(start, start + 64 * 1024);
    };
    return Readable.from(chunks());
  }

  async cancel(job: SubmittedJob): Promise<void> {
    this.failures.check('cancel');
    this.cancelled.push(job);
  }

  async removeWorkDir(job: SubmittedJob): Promise<void> {
    this.failures.check('removeWorkDir');
    this.removedWorkDirs.push(job);
  }

  async readTarballChecksums(job: SubmittedJob, measurementSet: string): Promise<TarballChecksums> {
    this.failures.check('readTarballChecksums');
    this.checksumReads.push(measurementSet);
    const content = this.checksummed.get(measurementSet) ?? this.tarballs.get(measurementSet);
    if (!content) throw new ClusterCommandError(`${job.node}: readTarballChecksums: no checksums of ${measurementSet}`);
    return tarballChecksums(content, job.tarPartBytes);
  }

  streamTar(job: SubmittedJob, measurementSet: string, offset: number): Readable {
    this.failures.check('streamTar');
    const content = this.tarballs.get(measurementSet);
    const dropAfter = this.drops.shift();
    const stallAfter = this.stalls.shift();
    const corruptAt = this.corruptAt;
    const chunkBytes = this.chunkBytes;
    async function* chunks(): AsyncGenerator<Buffer> {
      if (!content) throw new ClusterCommandError(`${job.node}: streamTar: tar: ${measurementSet}: Cannot stat: No such file or directory`);
      let sent = 0;
      for (let start = offset; start < content.length; start += chunkBytes) {
        let chunk = Buffer.from(content.subarray(start, Math.min(content.length, start + chunkBytes)));
        if (corruptAt !== undefined && corruptAt >= start && corruptAt < start + chunk.length) chunk[corruptAt - start] ^= 0xff;
        if (dropAfter !== undefined && sent + chunk.length > dropAfter) {
          chunk = chunk.subarray(0, dropAfter - sent);
          if (chunk.length > 0) yield chunk;
          throw new ClusterUnreachableError(`${job.node}: streamTar: Connection lost after ${dropAfter} bytes`);
        }
        sent += chunk.length;
        yield chunk;
      }
    }
    const stream = stallAfter === undefined ? Readable.from(chunks(), { objectMode: false }) : this.stalling(chunks(), stallAfter);
    this.tarStreams.push({ measurementSet, offset, stream });
    return stream;
  }

  /**
   * Sends the first `bytes` bytes of `chunks`, then nothing. (A generator that never resumed would keep
   * Readable.from's stream from ever being destroyed; this one closes at once when its reader gives up.)
   */
  private stalling(chunks: AsyncGenerator<Buffer>, bytes: number): Readable {
    const stream = new Readable({ read: () => undefined });
    void (async () => {
      let sent = 0;
      for await (const chunk of chunks) {
        const part = chunk.subarray(0, bytes - sent);
        stream.push(part);
        sent += part.length;
        if (sent >= bytes) break;
      }
      this.stalledStreams.push({ stream, sent });
    })();
    return stream;
  }
}

/**
 * One transfer of bench/transfer.ts, in a Node process of its own so that its peak RSS is its own (and no
 * transfer inherits the heap or the warm JIT of another). Started as `node --import tsx bench/transferChild.ts`
 * with the local cloud's settings and the cluster user's key in its environment; reads its {@link TransferTask}
 * as JSON on stdin and prints its {@link TransferFigures} as JSON on stdout. The object it writes stays; the
 * caller removes it.
 *
 * - `stream`: transferTarballs as the StageMeasurementSets step runs it: the job's checksums read over SSH,
 *   `tar cf -` streamed from the node into a multipart upload, `queueSize` parts in flight, each part checked,
 *   completed.
 * - `copy-to-disk`: the first half of the two-step way: the same `tar cf -` stream (SshCluster.streamTar)
 *   written to a local file.
 * - `upload-file`: a local file uploaded with @aws-sdk/lib-storage's Upload at the same part size: the
 *   second half of the two-step way, and the ceiling.
 * - `idle`: loads everything the others load and transfers nothing (the RSS floor).
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client } from '../lib/aws/clients';
import type { SubmittedJob } from '../lib/cluster/Cluster';
import { SshCluster } from '../lib/cluster/SshCluster';
import { clusterConfig, localEnvironment, serviceConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { transferTarballs } from '../lib/staging/transfer';
import { S3DeliveryStore } from '../lib/storage/S3DeliveryStore';

export type TransferWorkload = 'stream' | 'copy-to-disk' | 'upload-file' | 'idle';

export interface TransferTask {
  readonly workload: TransferWorkload;
  /** The job whose work directory holds the MS (stream, copy-to-disk). */
  readonly job?: SubmittedJob;
  readonly measurementSet?: string;
  /** The object to write (stream, upload-file); the caller removes it. */
  readonly key?: string;
  /** The local file written (copy-to-disk) or read (upload-file). */
  readonly file?: string;
  /** Part size of the upload (upload-file; stream uses the job's). */
  readonly partBytes: number;
  /** Parts in flight: lib-storage's queue (upload-file), the transfer's (stream). */
  readonly queueSize: number;
}

export interface TransferFigures {
  readonly workload: TransferWorkload;
  /** Wall-clock seconds of the transfer itself, from the first request to the last answer. */
  readonly seconds: number;
  readonly bytes: number;
  /** Peak resident set of this process over its whole life, KiB (getrusage's ru_maxrss). */
  readonly maxRssKiB: number;
  /** CPU seconds this process spent in the transfer (user + system). */
  readonly cpuSeconds: number;
  /** The object's ETag (s3rver: the MD5 of the whole object), to compare the bytes of two workloads. */
  readonly etag?: string;
  /** Seconds spent in S3 calls, by command (e.g. CompleteMultipartUploadCommand), summed over concurrent calls. */
  readonly s3Seconds: Readonly<Record<string, number>>;
}

/** The local cloud's settings (bench/transfer.ts passes them all; alone, the `local` defaults fill in). */
const env = localEnvironment(process.env);
const quiet = createLogger({ component: 'bench-transfer' }, (line) => process.stderr.write(`${line}\n`), 'warn');

/** The client the transfer uses, timing each call by command. */
function s3Client(s3Seconds: Record<string, number>): S3Client {
  const s3 = createS3Client(serviceConfig(env));
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        const command = context.commandName ?? 'unknown';
        s3Seconds[command] = (s3Seconds[command] ?? 0) + (performance.now() - started) / 1000;
      }
    },
    { step: 'initialize', name: 'benchTiming' },
  );
  return s3;
}

function cluster(): SshCluster {
  const { pollSeconds: _poll, maxRuntimeSeconds: _max, privateKey, ...settings } = clusterConfig(env);
  if (!('key' in privateKey)) throw new Error('transferChild needs CALMS_CLUSTER_PRIVATE_KEY');
  return new SshCluster({ ...settings, privateKey: privateKey.key }, quiet);
}

const required = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`the task has no ${what}`);
  return value;
};

async function etagOf(s3: S3Client, bucket: string, key: string): Promise<string> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return (head.ETag ?? '').replace(/"/g, '');
}

/** Runs the task; returns the bytes it moved. */
async function run(task: TransferTask, s3: S3Client, bucket: string): Promise<{ bytes: number }> {
  switch (task.workload) {
    case 'idle':
      return { bytes: 0 };
    case 'stream': {
      const job = required(task.job, 'job');
      const key = required(task.key, 'key');
      const store = new S3DeliveryStore(s3, bucket);
      const { stallSeconds } = serviceConfig(env).staging;
      const deps = {
        store,
        partBytes: job.tarPartBytes,
        copyLimitBytes: 0,
        partsInFlight: task.queueSize,
        stallSeconds,
        clock: () => Date.now(),
        isCancelled: async () => false,
        log: quiet,
      };
      const tarball = { measurementSet: required(task.measurementSet, 'measurementSet'), key, source: { kind: 'cluster' as const } };
      const staged = await transferTarballs(deps, cluster(), job, { tarballs: [tarball], complete: false }, Number.POSITIVE_INFINITY);
      const result = staged.tarballs[0]!.result;
      if (!staged.complete || !result) throw new Error('the streamed transfer did not complete');
      return { bytes: result.bytes };
    }
    case 'copy-to-disk': {
      const file = required(task.file, 'file');
      await pipeline(cluster().streamTar(required(task.job, 'job'), required(task.measurementSet, 'measurementSet'), 0), fs.createWriteStream(file));
      return { bytes: fs.statSync(file).size };
    }
    case 'upload-file': {
      const file = required(task.file, 'file');
      const key = required(task.key, 'key');
      const upload = new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: fs.createReadStream(file), ContentType: 'application/x-tar' },
        partSize: task.partBytes,
        queueSize: task.queueSize,
      });
      await upload.done();
      return { bytes: fs.statSync(file).size };
    }
  }
}

async function main(): Promise<void> {
  const input: Buffer[] = [];
  for await (const chunk of process.stdin) input.push(chunk as Buffer);
  const task = JSON.parse(Buffer.concat(input).toString('utf8')) as TransferTask;
  const s3Seconds: Record<string, number> = {};
  const s3 = s3Client(s3Seconds);
  const bucket = serviceConfig(env).dataBucket;
  // Loaded before the clock starts, as a warm Lambda has them: ssh2's and the SDK's modules are required above.
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { bytes } = await run(task, s3, bucket);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const timed = { ...s3Seconds };
  const etag = task.key && task.workload !== 'idle' ? await etagOf(s3, bucket, task.key) : undefined;
  const figures: TransferFigures = {
    workload: task.workload,
    seconds,
    bytes,
    maxRssKiB: process.resourceUsage().maxRSS,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    etag,
    s3Seconds: timed,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  s3.destroy();
}

// Run only as the child's entry point, not when bench/transfer.ts imports the types.
if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`transferChild: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}

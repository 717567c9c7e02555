/**
 * Issue "Benchmarks (bench/transfer)": moving a calibrated MS from the cluster into S3.
 *
 * 1. An MS of CALMS_BENCH_TRANSFER_GIB (2 GiB by default) streamed from the emulated cluster into S3
 *    (transferTarballs, as StageMeasurementSets runs it, with the default parts in flight) against the two-step
 *    way (the tarball copied to local disk over SSH, then the file uploaded): time ratio at most 0.7.
 * 2. Against uploading the same bytes from a local file to the same S3 (the ceiling): at least 0.8 of its
 *    throughput.
 * 3. Peak RSS of the streamed transfer of half and twice that size (1 and 4 GiB by default): within 10 % of each
 *    other and under parts in flight × part size + 200 MB.
 * 4. Re-use: a second request for a staged MOUS, end to end through the API, at least 20 times faster than
 *    the first, reading zero bytes from the cluster.
 * 5. Over a simulated network (bench/throttleProxy.ts): S3 behind a per-connection limit and latency standing for
 *    one S3 connection from a function, the SSH stream behind a limit of its own. The streamed transfer reaches
 *    at least 0.8 of the slower of the SSH limit and the S3 limit × parts in flight, and at least 3 times what
 *    it reaches with one part in flight.
 *
 * Items 1 to 3 use the real adapters (SshCluster over ssh2 against the local cloud's emulated cluster,
 * S3DeliveryStore and lib-storage against its S3 through the edge), each transfer in a Node process of its
 * own (bench/transferChild.ts) started the same way, so the peak RSS is the transfer's and no run inherits
 * another's heap. The MSs are made directly in work directories on the emulated cluster's filesystem, with
 * their checksums recorded by the job script itself (bench/transferFixture.ts), so no CASA run is needed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import type { SubmittedJob } from '../lib/cluster/Cluster';
import { ConfigurationError, cliConfig, readIntegerVariable, readVariable, serviceConfig } from '../lib/config';
import { localCloudConfig } from '../localstack/config';
import type { Benchmark, BenchmarkContext, BenchmarkReport, Target } from './benchmark';
import { bytesWrittenToDiskOf, cpuTimes, findNodeProcess, flushToDisk } from './processStats';
import { startThrottleProxy } from './throttleProxy';
import { createStagedJob, removeJob } from './transferFixture';
import type { TransferFigures, TransferTask } from './transferChild';
import { bestStreamedSeconds, cpuBoundSeconds, kibToMegabytes, median, megabytesPerSecond, relativeSpread } from './transferFigures';

const ROOT = path.resolve(__dirname, '..');
const CHILD = path.join(__dirname, 'transferChild.ts');
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** CALMS_STAGING_PART_MIB's default, the part size on AWS. */
const PART_MIB = readIntegerVariable({}, 'CALMS_STAGING_PART_MIB', 5);
const PART_BYTES = PART_MIB * MIB;

/** CALMS_BENCH_TRANSFER_GIB in bytes, whole parts; a fraction of a GiB gives a quick check. */
function comparedBytes(env: Readonly<Record<string, string | undefined>>): number {
  const text = readVariable(env, 'CALMS_BENCH_TRANSFER_GIB');
  const value = Number(text);
  if (!(value > 0)) throw new ConfigurationError(`CALMS_BENCH_TRANSFER_GIB must be a positive number of GiB, got "${text}"`);
  return Math.max(1, Math.round((value * GIB) / PART_BYTES)) * PART_BYTES;
}

const COMPARED_BYTES = comparedBytes(process.env);
/** Rounds of streamed, two-step and ceiling, interleaved so that a slow spell of the machine hits all three. */
const ROUNDS = readIntegerVariable(process.env, 'CALMS_BENCH_TRANSFER_ROUNDS', 1);
const RSS_SIZES = [COMPARED_BYTES / 2, 2 * COMPARED_BYTES] as const;
/** The peak RSS hardly varies from run to run (a few MB): one run per size. */
const RSS_RUNS = 1;
/** CALMS_STAGING_PARTS_IN_FLIGHT's default: the streamed transfer's parts in flight, and lib-storage's default queue. */
const PARTS_IN_FLIGHT = readIntegerVariable({}, 'CALMS_STAGING_PARTS_IN_FLIGHT', 1);
const UPLOAD_QUEUE = 4;

const RATIO_TARGET = 0.7;
const CEILING_FRACTION_TARGET = 0.8;
const RSS_SPREAD_TARGET = 0.1;
/** What the part buffers in flight may take, plus Node, ssh2 and the SDK. */
const RSS_LIMIT_MB = (PARTS_IN_FLIGHT * PART_BYTES) / 1e6 + 200;
const REUSE_SPEEDUP_TARGET = 20;

/**
 * The simulated network: one S3 connection from a function (AWS gives one connection far less than a function's
 * network) and the SSH stream from the cluster. Scaled down from about 40 MB/s per S3 connection and 150 MB/s of
 * SSH so that this machine's own S3 and SSH stand-ins (about 75–115 MB/s on a quiet 2-CPU machine) are not the
 * limit; the ratio between the two is kept. Latency is one way, each direction: 20 ms per round trip.
 */
const NETWORK = { s3MegabytesPerSecond: 8, s3LatencyMs: 10, sshMegabytesPerSecond: 40 } as const;
/** Smaller parts than on AWS, so that a short run still has many parts in flight in turn. */
const NETWORK_PART_BYTES = 16 * MIB;
const NETWORK_BYTES = Math.max(8 * NETWORK_PART_BYTES, Math.round(COMPARED_BYTES / 4 / NETWORK_PART_BYTES) * NETWORK_PART_BYTES);
const NETWORK_FRACTION_TARGET = 0.8;
const NETWORK_SPEEDUP_TARGET = 3;
/** The 1-minute load average above which the machine counts as busy: timing targets may then fail for load alone. */
const BUSY_LOAD = 1.5;

/**
 * The stand-in casa of the re-use requests: each of the MOUS's two MSs this big, after this long. Calibration
 * takes hours on the real cluster; a minute keeps the run short and the speed-up figure a conservative one.
 */
const REUSE_MS_BYTES = Math.min(GIB, COMPARED_BYTES / 2);
const REUSE_CASA_SECONDS = 60;
const REUSE_TIMEOUT_MS = 20 * 60_000;
/** Its two QA0 Pass execution blocks give two MSs; Stella Stranger is entitled to its project. */
const MOUS = 'uid___A001_X3a0_X205';
const REUSE_REQUEST = {
  projectCode: '2023.1.00456.S',
  userName: 'Stella Stranger',
  userEmail: 'stella.stranger@example.org',
  arcContact: 'bench@example.org',
  mous: [MOUS],
};
/** States that talk to the cluster; a re-use must enter none of them. */
const CLUSTER_STATES = ['ChooseClusterNode', 'SubmitCalibrationJob', 'CheckCalibrationJob', 'StageMeasurementSets', 'RemoveWorkDirectory'];

/** The MS of the adapter-level transfers (in work directories of their own, named after bench request ids). */
const MEASUREMENT_SET = 'uid___A002_X11c1a0_X11.ms.split.cal';

const progress = (text: string) => process.stderr.write(`  transfer: ${text}\n`);
const gib = (bytes: number) => `${(bytes / GIB).toFixed(bytes % GIB === 0 ? 0 : 2)} GiB`;
const fixed = (value: number, digits = 1) => value.toFixed(digits);

interface Setup {
  readonly context: BenchmarkContext;
  /** The cloud's settings plus the cluster user's key and host keys, for the transfer processes. */
  readonly childEnv: Record<string, string>;
  readonly workRoot: string;
  readonly node: string;
  /** Scratch space of this run, removed at the end. */
  readonly scratchDir: string;
  /** The local cloud's processes whose CPU time is counted; undefined where they cannot be found. */
  readonly pids: { readonly cloud?: number; readonly s3rver?: number };
  /** The cloud's S3 (through the edge), for removing what the transfers wrote. */
  readonly s3: S3Client;
}

/** The emulated cluster keeps its key and host keys in the state directory (localstack/cluster/README.md). */
function setUp(context: BenchmarkContext): Setup {
  const stateDir = path.resolve(ROOT, localCloudConfig(context.env).stateDir);
  const clusterDir = path.join(stateDir, 'cluster');
  const workRoot = path.join(clusterDir, 'sandbox', 'work');
  const childEnv = {
    ...context.env,
    CALMS_CLUSTER_PRIVATE_KEY: fs.readFileSync(path.join(clusterDir, 'keys', 'id_ed25519'), 'utf8'),
    CALMS_CLUSTER_KNOWN_HOSTS: fs.readFileSync(path.join(clusterDir, 'known_hosts'), 'utf8'),
    CALMS_CLUSTER_WORK_ROOT: workRoot,
    CALMS_LOG_LEVEL: 'warn',
  };
  const node = (context.env.CALMS_CLUSTER_NODES ?? '').split(',')[0]!.trim();
  if (!node) throw new Error('the cloud has no CALMS_CLUSTER_NODES');
  const scratchDir = fs.mkdtempSync(path.join(stateDir, 'bench-transfer-'));
  const stateVariable = context.env.CALMS_STATE_DIR ?? '';
  const pids = {
    cloud: findNodeProcess('localstack/start.ts', 'CALMS_STATE_DIR', stateVariable),
    s3rver: findNodeProcess('s3rver.js', 'CALMS_STATE_DIR', stateVariable),
  };
  const s3 = new S3Client({ ...awsSettings(context.env), forcePathStyle: true });
  return { context, childEnv, workRoot, node, scratchDir, pids, s3 };
}

/** Runs one transfer in a fresh Node process and returns its figures. */
function transferInChild(setup: Setup, task: TransferTask, env: Record<string, string> = setup.childEnv): Promise<TransferFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const abort = () => child.kill('SIGTERM');
    setup.context.signal.addEventListener('abort', abort, { once: true });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      setup.context.signal.removeEventListener('abort', abort);
      if (setup.context.signal.aborted) return reject(setup.context.signal.reason as Error);
      const lines = Buffer.concat(stdout).toString('utf8').trim().split('\n');
      if (code !== 0) {
        return reject(new Error(`the ${task.workload} transfer exited ${code ?? signal}: ${Buffer.concat(stderr).toString('utf8').slice(-2000)}`));
      }
      resolve(JSON.parse(lines[lines.length - 1]!) as TransferFigures);
    });
    child.stdin.end(JSON.stringify(task));
  });
}

/** CPU seconds of the local cloud's processes. */
interface CloudCpu {
  /** The local cloud's own process: the emulated cluster's ssh2 server and the edge (and the idle rest). */
  readonly cloud: number;
  /** The bash and tar the emulated cluster ran, once they have ended. */
  readonly clusterCommands: number;
  readonly s3rver: number;
}

interface Sample {
  readonly cpu?: CloudCpu;
  readonly diskBytes?: number;
}

function sample(setup: Setup): Sample {
  const cloud = setup.pids.cloud === undefined ? undefined : cpuTimes(setup.pids.cloud);
  const s3rver = setup.pids.s3rver === undefined ? undefined : cpuTimes(setup.pids.s3rver);
  return {
    cpu: cloud && s3rver ? { cloud: cloud.own, clusterCommands: cloud.reapedChildren, s3rver: s3rver.own } : undefined,
    diskBytes: bytesWrittenToDiskOf(setup.scratchDir),
  };
}

function cpuBetween(before: Sample, after: Sample): CloudCpu | undefined {
  if (!before.cpu || !after.cpu) return undefined;
  return {
    cloud: after.cpu.cloud - before.cpu.cloud,
    clusterCommands: after.cpu.clusterCommands - before.cpu.clusterCommands,
    s3rver: after.cpu.s3rver - before.cpu.s3rver,
  };
}

/** One step of a workload: the transfer process's figures and what the cloud's processes spent meanwhile. */
interface Step {
  readonly figures: TransferFigures;
  readonly cloudCpu?: CloudCpu;
}

/** A workload: its steps run one after the other (the two-step way has two). */
interface Measurement {
  readonly steps: Step[];
  readonly seconds: number;
  /**
   * Bytes written to the disk of the cloud's state directory (s3rver's files, the local copy) by the workload
   * and by the flush after it: what its writes cost the disk, whether or not it waited for them.
   */
  readonly diskBytes?: number;
}

/**
 * Runs a workload's transfers, each in a process of its own. Every dirty page is written out before it starts
 * (so it does not pay for the writes of the last workload) and after it ends (to count its disk writes), then
 * the objects it wrote are removed.
 */
async function measure(setup: Setup, label: string, tasks: readonly TransferTask[]): Promise<Measurement> {
  flushToDisk();
  const first = sample(setup);
  const steps: Step[] = [];
  let before = first;
  for (const task of tasks) {
    const figures = await transferInChild(setup, task);
    const after = sample(setup);
    steps.push({ figures, cloudCpu: cpuBetween(before, after) });
    before = after;
  }
  flushToDisk();
  const last = sample(setup);
  await removeObjects(
    setup,
    tasks.flatMap((task) => (task.key ? [task.key] : [])),
  );
  const measurement: Measurement = {
    steps,
    seconds: steps.reduce((sum, step) => sum + step.figures.seconds, 0),
    diskBytes: first.diskBytes !== undefined && last.diskBytes !== undefined ? last.diskBytes - first.diskBytes : undefined,
  };
  progress(`  ${label}: ${describe(measurement)}`);
  return measurement;
}

function describe(measurement: Measurement): string {
  const steps = measurement.steps.map(({ figures, cloudCpu }) => {
    const rate = figures.bytes > 0 ? `, ${fixed(megabytesPerSecond(figures.bytes, figures.seconds), 0)} MB/s` : '';
    const complete = figures.s3Seconds.CompleteMultipartUploadCommand;
    return (
      `${figures.workload} ${fixed(figures.seconds, 2)} s${rate}${complete === undefined ? '' : ` (Complete ${fixed(complete, 1)} s)`}, ` +
      `RSS ${fixed(kibToMegabytes(figures.maxRssKiB), 0)} MB, CPU s ${cpuCell(figures, cloudCpu)}`
    );
  });
  const disk = measurement.diskBytes === undefined ? '' : `; ${fixed(measurement.diskBytes / 1e9, 2)} GB to disk`;
  return `${steps.join('; ')}${disk}`;
}

/** transfer / cloud (ssh2 server, edge) / cluster commands (bash, tar) / s3rver. */
function cpuCell(figures: TransferFigures, cloudCpu: CloudCpu | undefined): string {
  const cloud = cloudCpu ? [cloudCpu.cloud, cloudCpu.clusterCommands, cloudCpu.s3rver].map((value) => fixed(value)) : ['?', '?', '?'];
  return [fixed(figures.cpuSeconds), ...cloud].join(' / ');
}

async function removeObjects(setup: Setup, keys: readonly string[]): Promise<void> {
  const bucket = serviceConfig(setup.context.env).dataBucket;
  for (const key of keys) await setup.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

async function stagedJob(setup: Setup, label: string, bytes: number, partBytes = PART_BYTES, node = setup.node): Promise<SubmittedJob> {
  progress(`making a ${gib(bytes)} MS and its checksums on the emulated cluster (${label})`);
  return createStagedJob({
    workRoot: setup.workRoot,
    node,
    requestId: `bench-transfer-${label}`,
    mous: MOUS,
    measurementSet: MEASUREMENT_SET,
    bytes,
    partBytes,
    scratchDir: setup.scratchDir,
  });
}

interface Comparison {
  readonly stream: Measurement[];
  /** Two steps each: copy-to-disk, then upload-file. */
  readonly twoStep: Measurement[];
  readonly ceiling: Measurement[];
  /** Whether every object written had the ETag (s3rver: MD5) of the first, and the size of the local copy. */
  readonly sameBytes: boolean;
}

/** Items 1 and 2: the streamed transfer, the two-step way and the ceiling, in interleaved rounds. */
async function compare(setup: Setup): Promise<Comparison> {
  const job = await stagedJob(setup, 'compare', COMPARED_BYTES);
  const localCopy = path.join(setup.scratchDir, 'two-step-copy.tar');
  const result = { stream: [] as Measurement[], twoStep: [] as Measurement[], ceiling: [] as Measurement[] };
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const base = { job, measurementSet: MEASUREMENT_SET, partBytes: PART_BYTES, queueSize: UPLOAD_QUEUE };
      progress(`round ${round} of ${ROUNDS}`);
      result.stream.push(
        await measure(setup, 'streamed', [{ ...base, workload: 'stream', queueSize: PARTS_IN_FLIGHT, key: `bench/transfer/stream-${round}.tar` }]),
      );
      fs.rmSync(localCopy, { force: true });
      result.twoStep.push(
        await measure(setup, 'two-step', [
          { ...base, workload: 'copy-to-disk', file: localCopy },
          { ...base, workload: 'upload-file', file: localCopy, key: `bench/transfer/two-step-${round}.tar` },
        ]),
      );
      result.ceiling.push(
        await measure(setup, 'ceiling', [{ ...base, workload: 'upload-file', file: localCopy, key: `bench/transfer/ceiling-${round}.tar` }]),
      );
    }
  } finally {
    fs.rmSync(localCopy, { force: true });
    removeJob(job);
  }
  const all = [...result.stream, ...result.twoStep, ...result.ceiling].flatMap((measurement) => measurement.steps.map((step) => step.figures));
  const written = all.filter((figures) => figures.etag !== undefined);
  const sameBytes = written.every((figures) => figures.etag === written[0]!.etag) && all.every((figures) => figures.bytes === all[0]!.bytes);
  return { ...result, sameBytes };
}

interface MemoryRun {
  readonly bytes: number;
  readonly runs: Measurement[];
}

/** Item 3: the streamed transfer of each size, each run in a fresh process; and a process that transfers nothing. */
async function measureMemory(setup: Setup): Promise<{ sizes: MemoryRun[]; idle: TransferFigures }> {
  const idle = await transferInChild(setup, { workload: 'idle', partBytes: PART_BYTES, queueSize: UPLOAD_QUEUE });
  const sizes: MemoryRun[] = [];
  for (const [index, bytes] of RSS_SIZES.entries()) {
    const job = await stagedJob(setup, `rss-${index + 1}`, bytes);
    const runs: Measurement[] = [];
    try {
      for (let run = 1; run <= RSS_RUNS; run++) {
        runs.push(
          await measure(setup, `streamed ${gib(bytes)}, run ${run} of ${RSS_RUNS}`, [
            {
              workload: 'stream',
              job,
              measurementSet: MEASUREMENT_SET,
              partBytes: PART_BYTES,
              queueSize: PARTS_IN_FLIGHT,
              key: `bench/transfer/rss-${run}.tar`,
            },
          ]),
        );
      }
    } finally {
      removeJob(job);
    }
    sizes.push({ bytes, runs });
  }
  return { sizes, idle };
}

interface NetworkRun {
  /** Streamed with the default parts in flight. */
  readonly parallel: Measurement;
  /** Streamed with one part in flight. */
  readonly single: Measurement;
}

/** `host:port` as the proxy's target. */
function hostAndPort(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  return { host: address.slice(0, separator), port: Number(address.slice(separator + 1)) };
}

/**
 * Item 5: the streamed transfer through the simulated network, with the default parts in flight and with one.
 * The transfer process reaches S3 and the node only through the proxies; the proxy presents the node's host key.
 */
async function measureNetwork(setup: Setup): Promise<NetworkRun> {
  const endpoint = new URL(serviceConfig(setup.context.env).awsEndpoint ?? '');
  const s3Proxy = await startThrottleProxy(
    { host: endpoint.hostname, port: Number(endpoint.port) },
    { bytesPerSecond: NETWORK.s3MegabytesPerSecond * 1e6, latencyMs: NETWORK.s3LatencyMs },
  );
  const sshProxy = await startThrottleProxy(hostAndPort(setup.node), { bytesPerSecond: NETWORK.sshMegabytesPerSecond * 1e6 });
  const { port: nodePort } = hostAndPort(setup.node);
  const nodeKey = setup.childEnv.CALMS_CLUSTER_KNOWN_HOSTS!.split('\n').find((line) => line.startsWith(`[127.0.0.1]:${nodePort} `));
  if (!nodeKey) throw new Error(`no host key of ${setup.node} in the cloud's known_hosts`);
  const env = {
    ...setup.childEnv,
    CALMS_AWS_ENDPOINT: `${endpoint.protocol}//127.0.0.1:${s3Proxy.port}`,
    CALMS_CLUSTER_KNOWN_HOSTS: `${setup.childEnv.CALMS_CLUSTER_KNOWN_HOSTS}\n[127.0.0.1]:${sshProxy.port} ${nodeKey.split(' ').slice(1).join(' ')}\n`,
  };
  const job = await stagedJob(setup, 'network', NETWORK_BYTES, NETWORK_PART_BYTES, sshProxy.address);
  const run = async (label: string, queueSize: number): Promise<Measurement> => {
    const task: TransferTask = {
      workload: 'stream',
      job,
      measurementSet: MEASUREMENT_SET,
      partBytes: NETWORK_PART_BYTES,
      queueSize,
      key: `bench/transfer/network-${queueSize}.tar`,
    };
    const figures = await transferInChild(setup, task, env);
    await removeObjects(setup, [task.key!]);
    const measurement = { steps: [{ figures }], seconds: figures.seconds };
    progress(`  ${label}: ${describe(measurement)}`);
    return measurement;
  };
  try {
    progress(
      `simulated network: S3 ${NETWORK.s3MegabytesPerSecond} MB/s and ${2 * NETWORK.s3LatencyMs} ms per connection, SSH ${NETWORK.sshMegabytesPerSecond} MB/s`,
    );
    const parallel = await run(`${PARTS_IN_FLIGHT} parts in flight`, PARTS_IN_FLIGHT);
    const single = await run('1 part in flight', 1);
    return { parallel, single };
  } finally {
    removeJob(job);
    await s3Proxy.close();
    await sshProxy.close();
  }
}

interface RequestRun {
  readonly requestId: string;
  /** From sending POST /requests to the execution's stop date. */
  readonly seconds: number;
  readonly status: string;
  readonly states: string[];
  readonly output: { staging?: { reused?: boolean; tarballs?: { source: { kind: string }; result?: { bytes: number } }[] } };
  /** Lines of the Lambdas' log that record an SSH call to the cluster, written while this request ran. */
  readonly clusterCalls: number;
}

async function executionHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** This process's environment is not the cloud's: the clients get the cloud's region and (any) credentials. */
function awsSettings(env: Readonly<Record<string, string>>) {
  return {
    endpoint: serviceConfig(env).awsEndpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
  };
}

/** Every cluster call (SshCluster's runRemote and streamRemote) logs one line with this message. */
const CLUSTER_CALL_LINE = /"message":"cluster call( failed)?"/g;

async function requestEndToEnd(context: BenchmarkContext, sfn: SFNClient, lambdaLog: string, ticket: string): Promise<RequestRun> {
  const { apiUrl, apiKey } = cliConfig(context.env);
  const logOffset = fs.existsSync(lambdaLog) ? fs.statSync(lambdaLog).size : 0;
  const sentAt = Date.now();
  const response = await fetch(`${apiUrl}/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ ...REUSE_REQUEST, helpdeskTicket: ticket }),
    signal: context.signal,
  });
  const text = await response.text();
  const accepted =
    response.status === 202
      ? (JSON.parse(text) as { results: { outcome: string; requestId: string; executionArn: string }[] }).results[0]
      : undefined;
  if (accepted?.outcome !== 'accepted') throw new Error(`POST /requests answered ${response.status}: ${text.slice(0, 500)}`);
  const deadline = sentAt + REUSE_TIMEOUT_MS;
  for (;;) {
    context.signal.throwIfAborted();
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: accepted.executionArn }));
    if (execution.status !== 'RUNNING') {
      const stoppedAt = execution.stopDate?.getTime() ?? Date.now();
      const events = await executionHistory(sfn, accepted.executionArn);
      const log = fs.existsSync(lambdaLog) ? readFrom(lambdaLog, logOffset) : '';
      return {
        requestId: accepted.requestId,
        seconds: (stoppedAt - sentAt) / 1000,
        status: `${execution.status}${execution.error ? ` (${execution.error}: ${execution.cause ?? ''})` : ''}`,
        states: events.filter((event) => event.type?.endsWith('StateEntered')).map((event) => event.stateEnteredEventDetails!.name!),
        output: execution.output ? (JSON.parse(execution.output) as RequestRun['output']) : {},
        clusterCalls: log.match(CLUSTER_CALL_LINE)?.length ?? 0,
      };
    }
    if (Date.now() > deadline) throw new Error(`${accepted.executionArn} still ${execution.status} after ${REUSE_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const length = fs.fstatSync(fd).size - offset;
    if (length <= 0) return '';
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, offset);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Item 4: a request calibrated and staged, then a second one (a new ticket) for the same MOUS. */
async function measureReuse(setup: Setup): Promise<{ first: RequestRun; second: RequestRun; pollSeconds: string }> {
  const { context } = setup;
  const stateDir = path.resolve(ROOT, localCloudConfig(context.env).stateDir);
  const lambdaLog = path.join(stateDir, 'logs', 'serverless-offline.log');
  const sfn = new SFNClient(awsSettings(context.env));
  try {
    progress(`re-use: first request (calibration of ${REUSE_CASA_SECONDS} s, two MSs of ${gib(REUSE_MS_BYTES)}, staging)`);
    const first = await requestEndToEnd(context, sfn, lambdaLog, '980001');
    progress('re-use: second request for the same MOUS');
    const second = await requestEndToEnd(context, sfn, lambdaLog, '980002');
    return { first, second, pollSeconds: context.env.CALMS_CLUSTER_POLL_SECONDS ?? '?' };
  } finally {
    sfn.destroy();
  }
}

/** Removes the deliveries of the re-use requests (gigabytes in the bench cloud's S3) and whatever the transfers left. */
async function cleanUp(setup: Setup, requestIds: readonly string[]): Promise<void> {
  fs.rmSync(setup.scratchDir, { recursive: true, force: true });
  const bucket = serviceConfig(setup.context.env).dataBucket;
  try {
    for (const prefix of [...requestIds.map((requestId) => `deliveries/${requestId}/`), 'bench/transfer/']) {
      const listed = await setup.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      await removeObjects(
        setup,
        (listed.Contents ?? []).map((object) => object.Key!),
      );
    }
  } finally {
    setup.s3.destroy();
  }
}

/** The median figures of a workload's runs as a table row; the peak RSS is the largest of the runs. */
function row(label: string, bytes: number, runs: readonly Measurement[]): string[] {
  const middle = (pick: (run: Measurement) => number | undefined): number | undefined => {
    const values = runs.map(pick);
    return values.every((value): value is number => value !== undefined) ? median(values) : undefined;
  };
  const sumSteps = (run: Measurement, pick: (step: Step) => number | undefined): number | undefined =>
    run.steps.reduce<number | undefined>((sum, step) => (sum === undefined || pick(step) === undefined ? undefined : sum + pick(step)!), 0);
  const seconds = median(runs.map((run) => run.seconds));
  const complete = middle((run) => sumSteps(run, (step) => step.figures.s3Seconds.CompleteMultipartUploadCommand ?? 0));
  const rss = Math.max(...runs.flatMap((run) => run.steps.map((step) => step.figures.maxRssKiB)));
  const cpu = [
    middle((run) => sumSteps(run, (step) => step.figures.cpuSeconds)),
    middle((run) => sumSteps(run, (step) => step.cloudCpu?.cloud)),
    middle((run) => sumSteps(run, (step) => step.cloudCpu?.clusterCommands)),
    middle((run) => sumSteps(run, (step) => step.cloudCpu?.s3rver)),
  ];
  const disk = middle((run) => run.diskBytes);
  return [
    label,
    gib(bytes),
    String(runs.length),
    fixed(seconds, 2),
    fixed(megabytesPerSecond(bytes, seconds), 0),
    complete ? fixed(complete, 1) : '',
    fixed(kibToMegabytes(rss), 0),
    cpu.map((value) => (value === undefined ? '?' : fixed(value))).join(' / '),
    disk === undefined ? '' : fixed(disk / 1e9, 2),
  ];
}

/** Step `index` of each run, as runs of their own (without the disk figure, which is the whole workload's). */
const stepOf = (runs: readonly Measurement[], index: number): Measurement[] =>
  runs.map((run) => ({ steps: [run.steps[index]!], seconds: run.steps[index]!.figures.seconds }));

export const transferBenchmark: Benchmark = {
  name: 'transfer',
  title: `a calibrated MS from the emulated cluster into S3: streamed vs two-step vs local upload (${PART_MIB} MiB parts), peak RSS, a simulated network, re-use`,
  cloudEnv: {
    CALMS_STAGING_PART_MIB: String(PART_MIB),
    CALMS_CASA_EMULATOR_BYTES: String(REUSE_MS_BYTES),
    CALMS_CASA_EMULATOR_SECONDS: String(REUSE_CASA_SECONDS),
  },
  async run(context): Promise<BenchmarkReport> {
    const setup = setUp(context);
    let reuse: Awaited<ReturnType<typeof measureReuse>> | undefined;
    const loadBefore = os.loadavg()[0]!;
    progress(
      `1-minute load average ${loadBefore.toFixed(2)} before${loadBefore > BUSY_LOAD ? ' (busy: timing targets may fail for load alone)' : ''}`,
    );
    try {
      const comparison = await compare(setup);
      const memory = await measureMemory(setup);
      const network = await measureNetwork(setup);
      reuse = await measureReuse(setup);
      return report(comparison, memory, network, reuse, { before: loadBefore, after: os.loadavg()[0]! });
    } finally {
      await cleanUp(setup, reuse ? [reuse.first.requestId, reuse.second.requestId] : []).catch((error: Error) =>
        progress(`could not clean up: ${error.message}`),
      );
    }
  },
};

/** The best the simulated network allows the streamed transfer's parts (see bestStreamedSeconds), with the default parts in flight and with one. */
function networkSchedule(): { parts: number; parallel: number; single: number } {
  const parts = NETWORK_BYTES / NETWORK_PART_BYTES;
  const fill = NETWORK_PART_BYTES / 1e6 / NETWORK.sshMegabytesPerSecond;
  // A part's bytes at the connection's rate, and at least the round trip of its answer.
  const upload = NETWORK_PART_BYTES / 1e6 / NETWORK.s3MegabytesPerSecond + (2 * NETWORK.s3LatencyMs) / 1000;
  return { parts, parallel: bestStreamedSeconds(parts, fill, upload, PARTS_IN_FLIGHT), single: bestStreamedSeconds(parts, fill, upload, 1) };
}

/** The median CPU time of the streamed runs over every process that took part, and the least wall time it allows on this machine. */
function streamedCpuFloor(runs: readonly Measurement[]): { cpuSeconds: number; seconds: number } | undefined {
  const totals = runs.map((run) => {
    const step = run.steps[0]!;
    return step.cloudCpu && step.figures.cpuSeconds + step.cloudCpu.cloud + step.cloudCpu.clusterCommands + step.cloudCpu.s3rver;
  });
  if (!totals.every((total): total is number => total !== undefined)) return undefined;
  const cpuSeconds = median(totals);
  return { cpuSeconds, seconds: cpuBoundSeconds(cpuSeconds, os.cpus().length) };
}

function report(
  comparison: Comparison,
  memory: { sizes: MemoryRun[]; idle: TransferFigures },
  network: NetworkRun,
  reuse: { first: RequestRun; second: RequestRun; pollSeconds: string },
  load: { readonly before: number; readonly after: number },
): BenchmarkReport {
  const seconds = (runs: readonly Measurement[]) => median(runs.map((run) => run.seconds));
  const streamed = seconds(comparison.stream);
  const twoStep = seconds(comparison.twoStep);
  const ceiling = seconds(comparison.ceiling);
  const ratio = streamed / twoStep;
  // The same bytes: the fraction of the ceiling's throughput is the inverse ratio of the times.
  const ofCeiling = ceiling / streamed;

  const peakMb = memory.sizes.map((size) => kibToMegabytes(Math.max(...size.runs.map((run) => run.steps[0]!.figures.maxRssKiB))));
  const spread = relativeSpread(peakMb[0]!, peakMb[1]!);

  const networkRate = (run: Measurement) => megabytesPerSecond(NETWORK_BYTES, run.seconds);
  const slowerLimit = Math.min(NETWORK.sshMegabytesPerSecond, NETWORK.s3MegabytesPerSecond * PARTS_IN_FLIGHT);
  const parallelRate = networkRate(network.parallel);
  const singleRate = networkRate(network.single);
  const busy = load.before > BUSY_LOAD || load.after > BUSY_LOAD;
  const networkBounds = networkSchedule();
  const cpuFloor = streamedCpuFloor(comparison.stream);

  const { first, second } = reuse;
  const speedup = first.seconds / second.seconds;
  const clusterStates = second.states.filter((state) => CLUSTER_STATES.includes(state));
  const tarballs = second.output.staging?.tarballs ?? [];
  const copiedOnly = tarballs.length > 0 && tarballs.every((tarball) => tarball.source.kind === 'copy');
  const readNothing = second.output.staging?.reused === true && copiedOnly && clusterStates.length === 0 && second.clusterCalls === 0;
  const stagedBytes = (run: RequestRun) => (run.output.staging?.tarballs ?? []).reduce((sum, tarball) => sum + (tarball.result?.bytes ?? 0), 0);
  const succeeded = first.status === 'SUCCEEDED' && second.status === 'SUCCEEDED';

  const targets: Target[] = [
    {
      criterion: `1. streamed / two-step time <= ${RATIO_TARGET}`,
      measured: `${fixed(streamed, 2)} s / ${fixed(twoStep, 2)} s = ${fixed(ratio, 2)}`,
      met: ratio <= RATIO_TARGET,
    },
    {
      criterion: `2. streamed throughput >= ${CEILING_FRACTION_TARGET} of the local upload's`,
      measured: `${fixed(megabytesPerSecond(COMPARED_BYTES, streamed), 0)} / ${fixed(megabytesPerSecond(COMPARED_BYTES, ceiling), 0)} MB/s = ${fixed(ofCeiling, 2)}`,
      met: ofCeiling >= CEILING_FRACTION_TARGET,
    },
    {
      criterion: `3. peak RSS of ${gib(RSS_SIZES[0])} and ${gib(RSS_SIZES[1])} within ${RSS_SPREAD_TARGET * 100} % of each other`,
      measured: `${fixed(peakMb[0]!, 0)} MB and ${fixed(peakMb[1]!, 0)} MB, ${fixed(spread * 100)} % apart`,
      met: spread <= RSS_SPREAD_TARGET,
    },
    {
      criterion: `3. peak RSS under ${PARTS_IN_FLIGHT} parts in flight x ${PART_MIB} MiB + 200 MB = ${fixed(RSS_LIMIT_MB, 0)} MB`,
      measured: `max ${fixed(Math.max(...peakMb), 0)} MB`,
      met: Math.max(...peakMb) < RSS_LIMIT_MB,
    },
    {
      criterion: `4. second request for a staged MOUS >= ${REUSE_SPEEDUP_TARGET}x faster than the first`,
      measured: `${fixed(first.seconds, 1)} s / ${fixed(second.seconds, 2)} s = ${fixed(speedup, 1)}x${succeeded ? '' : `; first ${first.status}, second ${second.status}`}`,
      met: succeeded && speedup >= REUSE_SPEEDUP_TARGET,
    },
    {
      criterion: '4. the second request reads zero bytes from the cluster',
      measured:
        `staging.reused ${String(second.output.staging?.reused)}, ${tarballs.length} tarballs copied in S3: ${String(copiedOnly)}, ` +
        `cluster states entered: ${clusterStates.join(', ') || 'none'}, SSH calls logged: ${second.clusterCalls}`,
      met: readNothing,
    },
    {
      criterion: `5. simulated network: streamed >= ${NETWORK_FRACTION_TARGET} of the slower of SSH and S3 x ${PARTS_IN_FLIGHT} parts in flight`,
      measured: `${fixed(parallelRate)} MB/s of min(${NETWORK.sshMegabytesPerSecond}, ${NETWORK.s3MegabytesPerSecond} x ${PARTS_IN_FLIGHT}) = ${slowerLimit} MB/s: ${fixed(parallelRate / slowerLimit, 2)}`,
      met: parallelRate >= NETWORK_FRACTION_TARGET * slowerLimit,
    },
    {
      criterion: `5. simulated network: ${PARTS_IN_FLIGHT} parts in flight >= ${NETWORK_SPEEDUP_TARGET}x one part in flight`,
      measured: `${fixed(parallelRate)} / ${fixed(singleRate)} MB/s = ${fixed(parallelRate / singleRate, 2)}x`,
      met: parallelRate >= NETWORK_SPEEDUP_TARGET * singleRate,
    },
    {
      criterion: 'every transfer delivered the same bytes',
      measured: comparison.sameBytes ? 'the same size and ETag (MD5) every time' : 'sizes or ETags differ',
      met: comparison.sameBytes,
    },
  ];

  const endToEnd = (label: string, run: RequestRun) => [
    `${label} (${run.status.split(' ')[0]})`,
    gib(stagedBytes(run)),
    '1',
    fixed(run.seconds, 2),
    '',
    '',
    '',
    '',
    '',
  ];
  return {
    columns: ['workload', 'size', 'runs', 'seconds', 'MB/s', 'Complete s', 'peak RSS MB', 'CPU s: transfer / cloud / tar+bash / s3rver', 'disk GB'],
    rows: [
      row('ceiling: upload of a local file (lib-storage Upload)', COMPARED_BYTES, comparison.ceiling),
      row('two-step, 1: tar over SSH to local disk', COMPARED_BYTES, stepOf(comparison.twoStep, 0)),
      row('two-step, 2: upload of that file (as the ceiling)', COMPARED_BYTES, stepOf(comparison.twoStep, 1)),
      row('two-step: total', COMPARED_BYTES, comparison.twoStep),
      row('streamed: tar over SSH into S3 (transferTarballs)', COMPARED_BYTES, comparison.stream),
      ...memory.sizes.map((size) => row('streamed, for peak RSS', size.bytes, size.runs)),
      ['a transfer process that transfers nothing', '', '1', '', '', '', fixed(kibToMegabytes(memory.idle.maxRssKiB), 0), '', ''],
      row(`simulated network: streamed, ${PARTS_IN_FLIGHT} parts in flight`, NETWORK_BYTES, [network.parallel]),
      row('simulated network: streamed, 1 part in flight', NETWORK_BYTES, [network.single]),
      endToEnd('re-use: first request, end to end', first),
      endToEnd('re-use: second request, end to end', second),
    ],
    notes: [
      `Each transfer runs in a fresh Node process, timed from its first request to its last answer; seconds and CPU are the median of the runs`,
      `(${ROUNDS} rounds of streamed, two-step and ceiling in turn; CALMS_BENCH_TRANSFER_ROUNDS), peak RSS the largest (getrusage; MB = 10^6 bytes). Parts of ${PART_MIB} MiB`,
      `but on the simulated network. Sizes follow CALMS_BENCH_TRANSFER_GIB (${gib(COMPARED_BYTES)} compared).`,
      `Streamed: ${PARTS_IN_FLIGHT} parts uploading while the next fills, each checked against the job's SHA-256 first. lib-storage's Upload keeps ${UPLOAD_QUEUE} parts in flight;`,
      'the two-step way checks no checksums, which only makes it faster. Complete s: CompleteMultipartUpload, where s3rver writes the whole object once more.',
      "CPU s: the transfer process; the local cloud's process (the emulated cluster's ssh2 server and the edge); the tar and bash it ran; s3rver.",
      "All of them share this machine's CPUs. Disk GB: written to the disk of the state directory by the workload and the flush after it (each",
      'workload starts after a sync, so none pays for the writes of another).',
      `Re-use: the stand-in casa works ${REUSE_CASA_SECONDS} s and writes two MSs of ${gib(REUSE_MS_BYTES)} (CALMS_CASA_EMULATOR_*), the job is polled every ` +
        `${reuse.pollSeconds} s; the second request (a new ticket) finds them staged and copies them inside S3.`,
      `Re-use, states of the second request: ${second.states.join(' > ')}.`,
      `Simulated network (bench/throttleProxy.ts): every S3 connection ${NETWORK.s3MegabytesPerSecond} MB/s each way with ${2 * NETWORK.s3LatencyMs} ms per round trip, ` +
        `the SSH connection ${NETWORK.sshMegabytesPerSecond} MB/s; ${NETWORK_PART_BYTES / MIB} MiB parts.`,
      `Its best schedule (bench/transferFigures.ts, no set-up or completion) for those ${networkBounds.parts} parts: ${fixed(networkBounds.parallel)} s with ${PARTS_IN_FLIGHT} parts in flight, ` +
        `${fixed(networkBounds.single)} s with one: at most ${fixed(megabytesPerSecond(NETWORK_BYTES, networkBounds.parallel) / slowerLimit, 2)} of the limit and ` +
        `${fixed(networkBounds.single / networkBounds.parallel, 2)}x; fewer parts (a smaller CALMS_BENCH_TRANSFER_GIB) bring both down.`,
      cpuFloor === undefined
        ? 'CPU floor: the CPU time of the cloud processes could not be read.'
        : `CPU floor: the streamed transfer's processes (transfer, cloud, tar, s3rver) used ${fixed(cpuFloor.cpuSeconds)} CPU s, so on ${os.cpus().length} CPUs it cannot take ` +
          `less than ${fixed(cpuFloor.seconds, 2)} s however it overlaps them; target 1 needs ${fixed(RATIO_TARGET * twoStep, 2)} s, target 2 ${fixed(ceiling / CEILING_FRACTION_TARGET, 2)} s.`,
      `Load average (1 minute): ${fixed(load.before, 2)} before, ${fixed(load.after, 2)} after.` +
        (busy ? ` WARNING: the machine was busy (above ${BUSY_LOAD}); timing targets may fail for load alone. Run it again on a quiet machine.` : ''),
    ],
    targets,
  };
}

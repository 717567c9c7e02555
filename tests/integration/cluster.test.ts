/**
 * The SSH cluster adapter against a cluster: always the emulated one (started here, on free ports), and a
 * real OpenSSH server when .ci/openssh.sh has set CALMS_TEST_OPENSSH_* (see that script).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseCasaBuilds } from '../../lib/cluster/casaBuilds';
import { JobState, SubmitMode, type CalibrationJob, type Cluster, type JobStatus, type SubmittedJob } from '../../lib/cluster/Cluster';
import {
  ClusterAuthenticationError,
  ClusterUnreachableError,
  HostKeyMismatchError,
  UnsafeShellValueError,
  UnsupportedCycleError,
} from '../../lib/cluster/errors';
import type { ObservedField } from '../../lib/archive/Archive';
import { KnownHosts } from '../../lib/cluster/knownHosts';
import { BASH_FROM_STDIN, bashProgram } from '../../lib/cluster/remoteCommands';
import { quote, singleQuote } from '../../lib/cluster/shell';
import { SshCluster, type SshClusterSettings } from '../../lib/cluster/SshCluster';
import { runRemote } from '../../lib/cluster/sshConnection';
import { createLogger, type Logger } from '../../lib/log';
import { closedPortNode, startSilentNode, type SilentNode } from '../../localstack/cluster/deadNodes';
import { startEmulatedCluster, type EmulatedCluster } from '../../localstack/cluster/emulatedCluster';
import { generateSshKeyPair } from '../../localstack/cluster/keys';

interface SnapshotMous {
  readonly uid: string;
  readonly projectCode: string;
  readonly execBlocks: readonly { readonly uid: string; readonly qa0: string; readonly fields: readonly ObservedField[] }[];
}

/** A cluster to run the adapter against, and what its stand-in casa was told. */
interface Target {
  /** Settings of the adapter under test, as clusterConfig would give them. */
  readonly settings: SshClusterSettings;
  /** The archive snapshot the cluster's stand-in casa reads. */
  readonly mous: readonly SnapshotMous[];
  /** The MOUS the stand-in casa was told to fail for, with this exit status. */
  readonly failMous: string;
  readonly failExitCode: number;
}

// Jobs take a few seconds end to end; the project's default is not relied on when this file runs alone.
jest.setTimeout(90_000);

const TEST_CASA_BUILDS = parseCasaBuilds('1-2=casa-4.2.2:rhel5,3-=casa-6.5.4');
const silentLog: Logger = createLogger({}, () => undefined);

const fileNameUid = (uid: string): string => uid.replace(/^uid:\/\//, 'uid___').replace(/\//g, '_');
const hostKeyLine = (): string => generateSshKeyPair().public.split(' ').slice(0, 2).join(' ');
const pinned = (node: string, keyLine: string): string => {
  const separator = node.lastIndexOf(':');
  return `[${node.slice(0, separator)}]:${node.slice(separator + 1)} ${keyLine}`;
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Small, so that even the stand-in's small MSs span several parts. */
const TAR_PART_BYTES = 4096;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let requestCounter = 0;
function calibrationJob(mous: SnapshotMous, overrides: Partial<CalibrationJob> = {}): CalibrationJob {
  requestCounter += 1;
  return {
    requestId: `it-${process.pid}-${requestCounter}`,
    mous: fileNameUid(mous.uid),
    projectCode: mous.projectCode,
    helpdeskTicket: '16140',
    calibratorFields: [],
    tarPartBytes: TAR_PART_BYTES,
    ...overrides,
  };
}

/** The MSs the stand-in casa must produce: one per QA0 Pass EB (that observed one of the fields, if any). */
function expectedMeasurementSets(mous: SnapshotMous, fields: readonly string[] = []): string[] {
  return mous.execBlocks
    .filter((executionBlock) => executionBlock.qa0 === 'Pass')
    .filter((executionBlock) => fields.length === 0 || executionBlock.fields.some((field) => fields.includes(field.name)))
    .map((executionBlock) => `${fileNameUid(executionBlock.uid)}.ms.split.cal`)
    .sort();
}

/** Polls as the state machine does, only faster; gives up after a minute. */
async function waitForEnd(cluster: Cluster, job: SubmittedJob): Promise<JobStatus> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const status = await cluster.status(job);
    if (status.state !== JobState.Running) return status;
    await sleep(200);
  }
  throw new Error(`job ${job.jobId} on ${job.node} still running after a minute`);
}

function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Runs a bash program on a node, with the adapter's own connection code. */
async function onNode(target: Target, node: string, lines: string[]): Promise<string> {
  const call = { operation: 'test', command: BASH_FROM_STDIN, stdin: bashProgram(lines), timeoutMs: 20_000 };
  const result = await runRemote(node, target.settings, call, silentLog);
  if (result.exitCode !== 0) throw new Error(`test program failed with ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

const exists = async (target: Target, node: string, path: string): Promise<boolean> =>
  (await onNode(target, node, [`if [ -e ${quote(path, 'absolutePath')} ]; then echo yes; else echo no; fi`])).trim() === 'yes';

/** What every cluster, emulated or real OpenSSH, must do with the adapter. */
function adapterContract(getTarget: () => Target): void {
  let target: Target;
  let cluster: SshCluster;
  let logLines: string[];
  let calibrated: SnapshotMous;
  beforeAll(() => {
    target = getTarget();
    calibrated = target.mous.find(
      (mous) => fileNameUid(mous.uid) !== fileNameUid(target.failMous) && expectedMeasurementSets(mous).length > 0,
    ) as SnapshotMous;
  });
  beforeEach(() => {
    logLines = [];
    cluster = new SshCluster(
      target.settings,
      createLogger({}, (line) => logLines.push(line)),
    );
  });

  it("chooses a node and says so in the seed's words", async () => {
    // Act
    const choice = await cluster.chooseNode();

    // Assess
    expect(target.settings.nodes).toContain(choice.node);
    expect(choice.load).toBeGreaterThanOrEqual(0);
    expect(logLines.map((line) => JSON.parse(line).message)).toContain(`DATAMACHINE chosen: ${choice.node}`);
  });

  it('runs a job to success: the QA0 Pass EBs as MSs, a log, checksummed tar streams from any offset, and cleanup', async () => {
    // Prepare
    const { node } = await cluster.chooseNode();

    // Act
    const job = await cluster.submit(node, calibrationJob(calibrated));
    const status = await waitForEnd(cluster, job);
    const log = (await cluster.readLogTail(job, 1024 * 1024)).text;
    const [firstMeasurementSet] = expectedMeasurementSets(calibrated);
    const tar = await readAll(cluster.streamTar(job, firstMeasurementSet, 0));
    const resumeAt = 2 * TAR_PART_BYTES;
    const tail = await readAll(cluster.streamTar(job, firstMeasurementSet, resumeAt));
    const checksums = await cluster.readTarballChecksums(job, firstMeasurementSet);
    await cluster.removeWorkDir(job);

    // Assess
    expect(status).toEqual({ state: JobState.Succeeded, measurementSets: expectedMeasurementSets(calibrated) });
    expect(log).toContain(`Restoring MOUS ${fileNameUid(calibrated.uid)}`);
    expect(log).toMatch(/Completed: \d+ calibrated MS\(s\)/);
    expect(log).not.toContain('Old project');
    const listing = spawnSync('tar', ['tf', '-'], { input: tar }).stdout.toString().split('\n');
    expect(listing).toEqual(expect.arrayContaining([`${firstMeasurementSet}/`, `${firstMeasurementSet}/table.f0`]));
    expect(tail.equals(tar.subarray(resumeAt))).toBe(true);
    const slices = Array.from({ length: Math.ceil(tar.length / TAR_PART_BYTES) }, (_, index) =>
      sha256(tar.subarray(index * TAR_PART_BYTES, (index + 1) * TAR_PART_BYTES)),
    );
    expect(checksums).toEqual({ sha256: sha256(tar), parts: slices });
    expect(await exists(target, node, job.workDir)).toBe(false);
  });

  it("keeps only the calibrator fields asked for, and starts the log with the seed's line", async () => {
    // Prepare
    const [{ name: field }] = calibrated.execBlocks.find((executionBlock) => executionBlock.qa0 === 'Pass')!.fields;
    const job = await cluster.submit(target.settings.nodes[0], calibrationJob(calibrated, { calibratorFields: [field] }));

    // Act
    const status = await waitForEnd(cluster, job);
    const log = (await cluster.readLogTail(job, 1024 * 1024)).text;
    const keptFields = await onNode(target, job.node, [
      `cat ${quote(job.workDir, 'absolutePath')}/calibrated/*/table.info | grep '^Fields' | sort -u`,
    ]);
    await cluster.removeWorkDir(job);

    // Assess
    expect(log.split('\n')[0]).toBe(`*** Based on your selection, only data for field ${field} will be staged. ***`);
    expect(status).toEqual({ state: JobState.Succeeded, measurementSets: expectedMeasurementSets(calibrated, [field]) });
    expect(keptFields).toBe(`Fields ${field}\n`);
  });

  it('notes the RHEL5 build for an old project', async () => {
    // Prepare: the cycle comes from the project code alone, so any Cycle 1-2 code selects the old build.
    const job = await cluster.submit(target.settings.nodes[0], calibrationJob(calibrated, { projectCode: '2013.1.00123.S' }));

    // Act
    await waitForEnd(cluster, job);
    const log = (await cluster.readLogTail(job, 1024 * 1024)).text;
    await cluster.removeWorkDir(job);

    // Assess
    expect(log.split('\n')).toContain('Old project, using RHEL5 build of CASA.');
    expect(log).toContain('with CASA build casa-4.2.2.');
  });

  it('reports a failed job with its exit status, keeps its work directory and log', async () => {
    // Prepare
    const failing = target.mous.find((mous) => fileNameUid(mous.uid) === fileNameUid(target.failMous)) ?? calibrated;
    const job = await cluster.submit(target.settings.nodes[0], calibrationJob(failing, { mous: fileNameUid(target.failMous) }));

    // Act
    const status = await waitForEnd(cluster, job);
    const log = (await cluster.readLogTail(job, 1024 * 1024)).text;

    // Assess
    expect(status).toEqual({
      state: JobState.Failed,
      exitCode: target.failExitCode,
      reason: `the job exited with status ${target.failExitCode}`,
    });
    expect(log).toContain(`emulated failure for ${fileNameUid(target.failMous)}`);
    expect(log).toContain(`CASA failed with exit status ${target.failExitCode}.`);
    expect(await exists(target, job.node, job.workDir)).toBe(true);
    await cluster.removeWorkDir(job);
  });

  it('submits through sbatch when so configured', async () => {
    // Prepare
    const sbatchCluster = new SshCluster({ ...target.settings, submitMode: SubmitMode.Sbatch }, silentLog);

    // Act
    const job = await sbatchCluster.submit(target.settings.nodes[0], calibrationJob(calibrated));
    const status = await waitForEnd(sbatchCluster, job);
    await sbatchCluster.removeWorkDir(job);

    // Assess
    expect(job.submitMode).toBe(SubmitMode.Sbatch);
    expect(status).toEqual({ state: JobState.Succeeded, measurementSets: expectedMeasurementSets(calibrated) });
  });

  it('refuses a node whose host key changed, and a node with no pinned key', async () => {
    // Prepare
    const [node] = target.settings.nodes;
    const changed = new SshCluster({ ...target.settings, knownHosts: KnownHosts.parse(pinned(node, hostKeyLine())) }, silentLog);
    const unknown = new SshCluster({ ...target.settings, knownHosts: KnownHosts.parse('') }, silentLog);

    // Act
    const [submitToChanged, chooseUnknown] = await Promise.allSettled([changed.submit(node, calibrationJob(calibrated)), unknown.chooseNode()]);

    // Assess
    expect(submitToChanged.status === 'rejected' && submitToChanged.reason).toBeInstanceOf(HostKeyMismatchError);
    expect(submitToChanged.status === 'rejected' && String(submitToChanged.reason)).toContain('which is not the pinned one');
    expect(chooseUnknown.status === 'rejected' && chooseUnknown.reason).toBeInstanceOf(HostKeyMismatchError);
  });

  it("is refused with any key but the cluster user's", async () => {
    // Prepare
    const stranger = new SshCluster({ ...target.settings, privateKey: generateSshKeyPair().private }, silentLog);

    // Act
    const submission = stranger.submit(target.settings.nodes[0], calibrationJob(calibrated));

    // Assess
    await expect(submission).rejects.toThrow(ClusterAuthenticationError);
  });

  it("logs in to every node for the smoke check, and refuses a changed host key, an unpinned node and a stranger's key as it refuses a job", async () => {
    // Prepare
    const [node] = target.settings.nodes;
    const changed = new SshCluster({ ...target.settings, knownHosts: KnownHosts.parse(pinned(node, hostKeyLine())) }, silentLog);
    const unknown = new SshCluster({ ...target.settings, knownHosts: KnownHosts.parse('') }, silentLog);
    const stranger = new SshCluster({ ...target.settings, privateKey: generateSshKeyPair().private }, silentLog);

    // Act
    await Promise.all(target.settings.nodes.map((each) => cluster.logIn(each)));
    const refusals = await Promise.allSettled([changed.logIn(node), unknown.logIn(node), stranger.logIn(node)]);

    // Assess
    expect(logLines.filter((line) => line.includes('"operation":"logIn"') && line.includes('"exitCode":0'))).toHaveLength(
      target.settings.nodes.length,
    );
    expect(refusals.map((refusal) => refusal.status === 'rejected' && (refusal.reason as Error).name)).toEqual([
      'HostKeyMismatchError',
      'HostKeyMismatchError',
      'ClusterAuthenticationError',
    ]);
  });

  describe('hostile values', () => {
    let canary: string;
    const hostileValues = () => [
      `x"; touch ${canary}; "`,
      `x'; touch ${canary}; '`,
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `J0510+1800\ntouch ${canary}`,
      `J0510+1800 && touch ${canary}`,
    ];
    beforeEach(() => {
      canary = `${target.settings.workRoot}/pwned-${process.pid}-${requestCounter}`;
    });

    it.each(['calibratorFields', 'helpdeskTicket', 'projectCode', 'requestId', 'mous'] as const)(
      "never run from a job's %s: nothing is sent, nothing created",
      async (field) => {
        // Prepare
        const jobs = hostileValues().map((value) =>
          calibrationJob(calibrated, { [field]: field === 'calibratorFields' ? ['J0510+1800', value] : value }),
        );

        // Act
        const outcomes = await Promise.allSettled(jobs.map((job) => cluster.submit(target.settings.nodes[0], job)));

        // Assess: a malformed project code is refused by the cycle lookup, which validates it first.
        const refusal = field === 'projectCode' ? UnsupportedCycleError : UnsafeShellValueError;
        expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason instanceof refusal)).toEqual(jobs.map(() => true));
        expect(await exists(target, target.settings.nodes[0], canary)).toBe(false);
        expect(logLines.filter((line) => JSON.parse(line).operation === 'submit')).toEqual([]);
      },
    );

    it("stay literal text when quoted, on the node's own shell", async () => {
      // Prepare
      const values = hostileValues();

      // Act
      const printed = await Promise.all(values.map((value) => onNode(target, target.settings.nodes[0], [`printf '%s' ${singleQuote(value)}`])));

      // Assess
      expect(printed).toEqual(values);
      expect(await exists(target, target.settings.nodes[0], canary)).toBe(false);
    });

    it("cannot point cleanup at a directory that is not a job's work directory", async () => {
      // Prepare
      const job = await cluster.submit(target.settings.nodes[0], calibrationJob(calibrated));
      await waitForEnd(cluster, job);

      // Act
      const outsideRoot = cluster.removeWorkDir({ ...job, workDir: target.settings.workRoot });
      const injected = cluster.status({ ...job, jobId: `1; touch ${canary}` });

      // Assess
      await expect(outsideRoot).rejects.toThrow(UnsafeShellValueError);
      await expect(injected).rejects.toThrow(UnsafeShellValueError);
      expect(await exists(target, job.node, target.settings.workRoot)).toBe(true);
      expect(await exists(target, job.node, canary)).toBe(false);
      await cluster.removeWorkDir(job);
    });
  });
}

const bandpass = { name: 'J0510+1800', intents: ['CALIBRATE_BANDPASS', 'CALIBRATE_FLUX'] };
const hlTau = { name: 'HL_Tau', intents: ['OBSERVE_TARGET'] };
const fixtureMous: SnapshotMous[] = [
  {
    uid: 'uid://A001/X1296/X675',
    projectCode: '2017.1.00727.S',
    execBlocks: [
      { uid: 'uid://A002/Xd33a12/X15be', qa0: 'Pass', fields: [bandpass, { name: 'J0321+1234', intents: ['CALIBRATE_PHASE'] }, hlTau] },
      { uid: 'uid___A002_Xd33a12_X2a01', qa0: 'Pass', fields: [{ name: 'J0423-0120', intents: ['CALIBRATE_PHASE'] }, hlTau] },
      { uid: 'uid___A002_Xd33a12_X3b02', qa0: 'SemiPass', fields: [bandpass, hlTau] },
      { uid: 'uid___A002_Xd33a12_X4c03', qa0: 'Fail', fields: [bandpass, hlTau] },
    ],
  },
  {
    uid: 'uid___A001_X133d_X1244',
    projectCode: '2018.1.01406.S',
    execBlocks: [
      {
        uid: 'uid___A002_Xe1f219_X6d0b',
        qa0: 'Pass',
        fields: [
          { name: 'J1924-2914', intents: ['CALIBRATE_PHASE'] },
          { name: 'Sgr_A*', intents: ['OBSERVE_TARGET'] },
        ],
      },
    ],
  },
];

describe('SshCluster against the emulated cluster', () => {
  const FAIL_EXIT_CODE = 7;
  let stateDir: string;
  let emulated: EmulatedCluster;
  let target: Target;
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'calms-cluster-it-'));
    const snapshotFile = join(stateDir, 'snapshot.json');
    writeFileSync(snapshotFile, JSON.stringify({ users: [], projects: [], delegations: [], mous: fixtureMous }));
    emulated = await startEmulatedCluster({
      basePort: 0,
      nodeCount: 3,
      loads: [2.5, 0.25, 1.0],
      stateDir,
      user: 'arcproc',
      archiveSnapshot: snapshotFile,
      casa: { seconds: 0.5, bytes: 4096, calibratorBytes: 512, failMous: ['uid://A001/X133d/X1244'], failExitCode: FAIL_EXIT_CODE, hangMous: [] },
      log: silentLog,
    });
    target = {
      settings: settingsFor(emulated),
      mous: fixtureMous,
      failMous: 'uid___A001_X133d_X1244',
      failExitCode: FAIL_EXIT_CODE,
    };
  });
  afterAll(async () => {
    await emulated?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  function settingsFor(cluster: EmulatedCluster): SshClusterSettings {
    return {
      nodes: cluster.nodes,
      user: 'arcproc',
      privateKey: cluster.privateKey,
      knownHosts: KnownHosts.parse(cluster.knownHosts),
      workRoot: cluster.workRoot,
      submitMode: SubmitMode.Detached,
      casaBuilds: TEST_CASA_BUILDS,
      restoreScript: 'calms_restore.py',
      connectTimeoutMs: 1500,
      commandTimeoutMs: 20_000,
    };
  }

  adapterContract(() => target);

  describe('node choice', () => {
    let silent: SilentNode;
    let closed: string;
    let logLines: string[];
    beforeAll(async () => {
      silent = await startSilentNode();
      closed = await closedPortNode();
    });
    afterAll(() => silent.close());
    beforeEach(() => {
      logLines = [];
    });

    /** The emulated nodes plus the dead ones, each dead one pinned to some key so a connection is tried. */
    const withDeadNodes = (knownHosts: string): SshClusterSettings => ({
      ...target.settings,
      nodes: [silent.node, ...emulated.nodes, closed],
      knownHosts: KnownHosts.parse([knownHosts, pinned(silent.node, hostKeyLine()), pinned(closed, hostKeyLine())].join('\n')),
    });
    const messages = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

    it('takes the least loaded node, skipping one that never answers and one that is down', async () => {
      // Prepare
      const cluster = new SshCluster(
        withDeadNodes(emulated.knownHosts),
        createLogger({}, (line) => logLines.push(line)),
      );

      // Act
      const choice = await cluster.chooseNode();

      // Assess
      expect(choice).toEqual({ node: emulated.nodes[1], load: 0.25 });
      const chosen = messages().find((entry) => entry.message === `DATAMACHINE chosen: ${emulated.nodes[1]}`);
      expect(chosen?.skippedNodes).toBe(`${silent.node},${closed}`);
      const failures = messages().filter((entry) => entry.message === 'cluster call failed');
      expect(failures.map((entry) => [entry.node, entry.errorName])).toEqual(
        expect.arrayContaining([
          [silent.node, 'ClusterUnreachableError'],
          [closed, 'ClusterUnreachableError'],
        ]),
      );
    });

    it('never chooses a node whose host key changed, however idle', async () => {
      // Prepare
      const knownHosts = emulated.knownHosts
        .split('\n')
        .map((line, index) => (index === 1 ? pinned(emulated.nodes[1], hostKeyLine()) : line))
        .join('\n');
      const cluster = new SshCluster(
        withDeadNodes(knownHosts),
        createLogger({}, (line) => logLines.push(line)),
      );

      // Act
      const choice = await cluster.chooseNode();

      // Assess
      expect(choice).toEqual({ node: emulated.nodes[2], load: 1.0 });
      const refusal = messages().find((entry) => entry.node === emulated.nodes[1] && entry.message === 'cluster call failed');
      expect(refusal?.errorName).toBe('HostKeyMismatchError');
    });

    it('reports the cluster unreachable when no node answers', async () => {
      // Prepare
      const settings = withDeadNodes(emulated.knownHosts);
      const cluster = new SshCluster({ ...settings, nodes: [silent.node, closed] }, silentLog);

      // Act
      const choice = cluster.chooseNode();

      // Assess
      await expect(choice).rejects.toThrow(ClusterUnreachableError);
      await expect(choice).rejects.toThrow(`${silent.node} (`);
    });
  });

  it('cancels a running job: it fails with the status of TERM', async () => {
    // Prepare
    emulated.setCasa({ seconds: 60 });
    const cluster = new SshCluster(target.settings, silentLog);
    const job = await cluster.submit(emulated.nodes[0], calibrationJob(fixtureMous[0]));
    const whileRunning = await cluster.status(job);

    // Act
    await cluster.cancel(job);
    const status = await waitForEnd(cluster, job);
    emulated.setCasa({ seconds: 0.5 });
    await cluster.removeWorkDir(job);

    // Assess
    expect(whileRunning).toEqual({ state: JobState.Running });
    expect(status).toEqual({ state: JobState.Failed, exitCode: 143, reason: 'the job exited with status 143' });
  });

  it('stops the first attempt when a submission is retried into the same work directory', async () => {
    // Prepare
    emulated.setCasa({ seconds: 60 });
    const cluster = new SshCluster(target.settings, silentLog);
    const job = calibrationJob(fixtureMous[0]);
    const first = await cluster.submit(emulated.nodes[0], job);

    // Act
    const retried = await cluster.submit(emulated.nodes[0], job);
    let firstStillThere = true;
    // The first job's process state: nothing once it is gone, Z while it waits to be reaped.
    const processState = [`sed -n 's/^State:[[:space:]]*\\(.\\).*/\\1/p' /proc/${quote(first.jobId, 'jobId')}/status 2>/dev/null || true`];
    for (let attempt = 0; attempt < 50 && firstStillThere; attempt++) {
      firstStillThere = !['', 'Z', 'X'].includes((await onNode(target, first.node, processState)).trim());
      if (firstStillThere) await sleep(100);
    }
    const retriedStatus = await cluster.status(retried);
    await cluster.cancel(retried);
    await waitForEnd(cluster, retried);
    emulated.setCasa({ seconds: 0.5 });
    await cluster.removeWorkDir(retried);

    // Assess
    expect(retried.jobId).not.toBe(first.jobId);
    expect(firstStillThere).toBe(false);
    expect(retriedStatus).toEqual({ state: JobState.Running });
  });
});

const openSsh = {
  node: process.env.CALMS_TEST_OPENSSH_NODE,
  user: process.env.CALMS_TEST_OPENSSH_USER,
  privateKey: process.env.CALMS_TEST_OPENSSH_PRIVATE_KEY,
  knownHosts: process.env.CALMS_TEST_OPENSSH_KNOWN_HOSTS,
  workRoot: process.env.CALMS_TEST_OPENSSH_WORK_ROOT,
  archiveSnapshot: process.env.CALMS_TEST_OPENSSH_ARCHIVE_SNAPSHOT,
  failMous: process.env.CALMS_TEST_OPENSSH_FAIL_MOUS,
  failExitCode: process.env.CALMS_TEST_OPENSSH_FAIL_EXIT_CODE,
};
const openSshConfigured = Object.values(openSsh).every((value) => value !== undefined && value !== '');

(openSshConfigured ? describe : describe.skip)(
  openSshConfigured
    ? `SshCluster against real OpenSSH at ${openSsh.node}`
    : 'SshCluster against real OpenSSH: SKIPPED, CALMS_TEST_OPENSSH_* not set (as root: eval "$(.ci/openssh.sh)")',
  () => {
    adapterContract(() => ({
      settings: {
        nodes: [openSsh.node!],
        user: openSsh.user!,
        privateKey: openSsh.privateKey!,
        knownHosts: KnownHosts.parse(openSsh.knownHosts!),
        workRoot: openSsh.workRoot!,
        submitMode: SubmitMode.Detached,
        casaBuilds: TEST_CASA_BUILDS,
        restoreScript: 'calms_restore.py',
        connectTimeoutMs: 5000,
        commandTimeoutMs: 20_000,
      },
      mous: (JSON.parse(readFileSync(openSsh.archiveSnapshot!, 'utf8')) as { mous: SnapshotMous[] }).mous,
      failMous: openSsh.failMous!,
      failExitCode: Number(openSsh.failExitCode),
    }));
  },
);

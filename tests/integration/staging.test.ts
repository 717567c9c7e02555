/**
 * Staging on the local cloud, end to end: a request is calibrated on the emulated cluster, its MSs streamed as
 * tarballs into S3 in several invocations (the test cloud stops each staging step after one 5 MiB part), the
 * delivery published and the user emailed the seed's text with a link that downloads tarballs unpacking to
 * the MS directories the cluster produced. A second request re-uses them without the cluster; another field
 * selection does not.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createStagedJob } from '../../bench/transferFixture';
import { startThrottleProxy, type ThrottleProxy } from '../../bench/throttleProxy';
import { parseCasaBuilds } from '../../lib/cluster/casaBuilds';
import { SubmitMode, type SubmittedJob, type TarballChecksums } from '../../lib/cluster/Cluster';
import { ClusterUnreachableError } from '../../lib/cluster/errors';
import { KnownHosts } from '../../lib/cluster/knownHosts';
import { SshCluster } from '../../lib/cluster/SshCluster';
import { RequestCancelledError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { CANCEL_CHECK_MS, type Staging, TarballChecksumMismatchError, transferTarballs } from '../../lib/staging/transfer';
import { S3DeliveryStore } from '../../lib/storage/S3DeliveryStore';
import { startEmulatedCluster, type EmulatedCluster } from '../../localstack/cluster/emulatedCluster';
import { mailsOf, rawMail, s3, service, statesEntered, triggerExists, waitForExecution, type CaughtMail } from './support/clients';
import { TEST_USER, testRequests } from './support/requests';

const MOUS = 'uid___A001_X3a0_X205';
const FIRST_MS = 'uid___A002_X11c1a0_X11.ms.split.cal';
const SECOND_MS = 'uid___A002_X11c6f2_X8e.ms.split.cal';
/** CALMS_CASA_EMULATOR_BYTES of the test cloud: three parts of 5 MiB with the tar headers. */
const MS_BYTES = 11 * 1024 * 1024;
const PARTS_PER_TARBALL = 3;
const USER = TEST_USER.userEmail;
const ARC = 'arc.staff@example.org';

const requests = testRequests(74000, ARC);

async function deliver(overrides: Record<string, unknown> = {}) {
  const accepted = await requests.submit(MOUS, overrides);
  const execution = await waitForExecution(accepted.executionArn, 120_000);
  expect([execution.status, execution.error, execution.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
  const mail = (await mailsOf(accepted.requestId)).find((candidate) => candidate.subject.startsWith('Re: '));
  if (!mail) throw new Error(`no email to the user for ${accepted.requestId}`);
  return { accepted, execution, states: statesEntered(execution.events), mail, output: JSON.parse(execution.output!) };
}

function linkIn(mail: CaughtMail): string {
  const link = mail.text.split('\n')[1]!;
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:13000\/local\/downloads\/[0-9a-f]{64}$/);
  return link;
}

async function download(url: string): Promise<Buffer> {
  const redirect = await fetch(url, { redirect: 'manual' });
  expect(redirect.status).toBe(302);
  const file = await fetch(redirect.headers.get('location')!);
  expect(file.status).toBe(200);
  return Buffer.from(await file.arrayBuffer());
}

function unpack(tarball: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-unpack-'));
  const result = spawnSync('tar', ['xf', '-', '-C', dir], { input: tarball });
  expect(result.status).toBe(0);
  return dir;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('staging a calibrated MOUS into S3 and telling the user', () => {
  let first: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    first = await deliver();
  }, 150_000);

  test('the MSs are streamed part by part, one part per invocation, then published, cleaned up and announced', () => {
    const { states, output } = first;
    expect(states).toContain('ChooseClusterNode');
    expect(states.filter((state) => state === 'StageMeasurementSets')).toHaveLength(2 * PARTS_PER_TARBALL);
    expect(states.slice(-7)).toEqual([
      'AreMeasurementSetsStaged',
      'ReleaseStagingSlot',
      'PublishDelivery',
      'WasCalibratedOnCluster',
      'RemoveWorkDirectory',
      'EmailDownloadLink',
      'Delivered',
    ]);
    expect(output.staging.reused).toBe(false);
    expect(output.staging.tarballs.map((tarball: { key: string }) => tarball.key)).toEqual([
      `deliveries/${first.accepted.requestId}/${FIRST_MS}.tar`,
      `deliveries/${first.accepted.requestId}/${SECOND_MS}.tar`,
    ]);
    expect(output.workDirectory).toEqual({ removed: output.calibration.job.workDir });
  });

  test('the user gets the seed email: To the user, BCC ARC contact, maintainer and AOG, Reply-To no-reply', async () => {
    const { mail, accepted } = first;
    const settings = service();
    expect(mail.to.map((to) => to.address)).toEqual([USER]);
    expect(mail.envelope.to.map((to) => to.address).sort()).toEqual([USER, ARC, settings.mail.maintainer, settings.mail.aog].sort());
    expect(mail.cc ?? []).toEqual([]);
    expect(await rawMail(mail)).toMatch(new RegExp(`^Reply-To: ${settings.mail.noReply.replace(/\./g, '\\.')}\r?$`, 'm'));
    expect(mail.subject).toBe(`Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${MOUS}, helpdesk ticket ${accepted.requestId.split('-')[0]!.slice(1)}`);
    expect(mail.text).toBe(
      [
        'Your calibrated data is ready for download from',
        linkIn(mail),
        '',
        'It will be deleted 28 days from now.',
        '',
        'Kind regards,',
        '',
        'The ESO ALMA Team',
        '',
      ].join('\n'),
    );
    expect(mail.headers['in-reply-to']).toBe(`<${accepted.requestId}@${settings.mail.from.split('@')[1]}>`);
    expect(await triggerExists(accepted.triggerName)).toBe(false);
  });

  test('the link opens a page listing README and tarballs with sizes; the tarballs unpack to the MSs the cluster made', async () => {
    const link = linkIn(first.mail);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const name of ['README.txt', `${FIRST_MS}.tar`, `${SECOND_MS}.tar`]) expect(html).toContain(`>${name}</a>`);

    // The README opens in the browser: it is served as text, not redirected to S3.
    const readme = await (await fetch(`${link}/README.txt`)).text();
    for (const measurementSet of [FIRST_MS, SECOND_MS]) {
      const tarball = await download(`${link}/${measurementSet}.tar`);
      expect(readme).toContain(`${sha256(tarball)}  ${measurementSet}.tar`);
      expect(readme).toContain(`${measurementSet}.tar  ${tarball.length} bytes`);
      const dir = unpack(tarball);
      expect(fs.readdirSync(dir)).toEqual([measurementSet]);
      expect(fs.readdirSync(path.join(dir, measurementSet)).sort()).toEqual(['table.f0', 'table.info']);
      const data = fs.readFileSync(path.join(dir, measurementSet, 'table.f0'));
      expect(data.length).toBe(MS_BYTES);
      expect(data.every((byte) => byte === 0x2a)).toBe(true);
      expect(fs.readFileSync(path.join(dir, measurementSet, 'table.info'), 'utf8')).toContain(
        `Execution block ${measurementSet.replace('.ms.split.cal', '')}`,
      );
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a second request for the MOUS re-uses the staged tarballs: no cluster, copies in S3, its own delivery and link', async () => {
    const second = await deliver();

    expect(second.states).not.toContain('ChooseClusterNode');
    expect(second.states).not.toContain('RemoveWorkDirectory');
    // The test cloud's staging steps have no time budget: one copy per step.
    expect(second.states.filter((state) => state.endsWith('MeasurementSets'))).toEqual([
      'LookForStagedMeasurementSets',
      'CopyStagedMeasurementSets',
      'CopyStagedMeasurementSets',
    ]);
    expect(second.output.staging.reused).toBe(true);
    expect(second.output.staging.tarballs.map((tarball: { source: { key: string } }) => tarball.source.key)).toEqual([
      `deliveries/${first.accepted.requestId}/${FIRST_MS}.tar`,
      `deliveries/${first.accepted.requestId}/${SECOND_MS}.tar`,
    ]);
    const link = linkIn(second.mail);
    expect(link).not.toBe(linkIn(first.mail));
    const tarball = await download(`${link}/${FIRST_MS}.tar`);
    expect(sha256(tarball)).toBe(sha256(await download(`${linkIn(first.mail)}/${FIRST_MS}.tar`)));
  }, 150_000);

  test('another calibrator-field selection is not a re-use: it is calibrated and staged anew', async () => {
    const selected = await deliver({ calibratorFields: ['J1337-1257'] });

    expect(selected.states).toContain('ChooseClusterNode');
    expect(selected.output.staging.tarballs.map((tarball: { measurementSet: string }) => tarball.measurementSet)).toEqual([FIRST_MS]);
  }, 150_000);

  test('once its files are gone (as the lifecycle rule removes them), the link answers 410 with a clear message', async () => {
    const link = linkIn(first.mail);
    const prefix = `deliveries/${first.accepted.requestId}/`;
    const client = s3();
    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: service().dataBucket, Prefix: prefix }));
    expect(Contents.length).toBe(4);
    for (const object of Contents) await client.send(new DeleteObjectCommand({ Bucket: service().dataBucket, Key: object.Key! }));

    const page = await fetch(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('has been deleted');
    const file = await fetch(`${link}/${FIRST_MS}.tar`, { redirect: 'manual' });
    expect(file.status).toBe(410);
    const unknown = await fetch(link.replace(/[0-9a-f]{8}$/, '00000000'));
    expect(unknown.status).toBe(404);
  });
});

/**
 * The transfer itself with several parts in flight, on the real adapters: SshCluster against an emulated
 * cluster of its own (behind a proxy that can cut its connections), S3DeliveryStore against the test cloud's S3.
 * The MS is random data checksummed by the real job script (bench/transferFixture.ts), so a part resumed at the
 * wrong offset could not pass.
 */
describe('streaming a tarball with several parts in flight (real SSH and S3)', () => {
  const PART = 5 * 1024 * 1024;
  const PARTS_IN_FLIGHT = 3;
  const MS = 'uid___A002_X11c1a0_X11.ms.split.cal';
  const silent = createLogger({}, () => undefined);
  let stateDir: string;
  let emulated: EmulatedCluster;
  let proxy: ThrottleProxy;
  let cluster: SshCluster;
  let job: SubmittedJob;
  let checksums: TarballChecksums;
  let testCount = 0;

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-transfer-it-'));
    const snapshot = path.join(stateDir, 'snapshot.json');
    fs.writeFileSync(snapshot, JSON.stringify({ users: [], projects: [], delegations: [], mous: [] }));
    const casa = { seconds: 0, bytes: 0, calibratorBytes: 0, failMous: [], failExitCode: 1, hangMous: [] };
    emulated = await startEmulatedCluster({
      basePort: 0,
      nodeCount: 1,
      loads: [0],
      stateDir,
      user: 'arcproc',
      archiveSnapshot: snapshot,
      casa,
      log: silent,
    });
    const [host, port] = emulated.nodes[0]!.split(':');
    proxy = await startThrottleProxy({ host: host!, port: Number(port) }, {});
    // The proxy presents the node's own host key.
    const knownHosts = `${emulated.knownHosts}[127.0.0.1]:${proxy.port} ${emulated.knownHosts.split('\n')[0]!.split(' ').slice(1).join(' ')}\n`;
    cluster = new SshCluster(
      {
        nodes: [proxy.address],
        user: 'arcproc',
        privateKey: emulated.privateKey,
        knownHosts: KnownHosts.parse(knownHosts),
        workRoot: emulated.workRoot,
        submitMode: SubmitMode.Detached,
        casaBuilds: parseCasaBuilds('1-=casa-6.5.4'),
        restoreScript: 'calms_restore.py',
        connectTimeoutMs: 3000,
        commandTimeoutMs: 20_000,
      },
      silent,
    );
    // 8.5 parts of random data, checksummed by the job script itself.
    job = await createStagedJob({
      workRoot: emulated.workRoot,
      node: proxy.address,
      requestId: 'it-transfer',
      mous: MOUS,
      measurementSet: MS,
      bytes: 8 * PART + PART / 2,
      partBytes: PART,
      scratchDir: stateDir,
    });
    checksums = await cluster.readTarballChecksums(job, MS);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await emulated?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** A store that counts the parts in flight, and records whether an abort came while any was. */
  function watchedStore(onPartStarted: (partNumber: number, started: number) => void = () => undefined) {
    const store = new S3DeliveryStore(s3(), service().dataBucket);
    const watch = { inFlight: 0, maxInFlight: 0, started: 0, abortsWhileInFlight: 0, aborts: 0 };
    const watched = Object.create(store) as S3DeliveryStore;
    watched.uploadPart = async (key, uploadId, partNumber, body) => {
      watch.inFlight += 1;
      watch.started += 1;
      watch.maxInFlight = Math.max(watch.maxInFlight, watch.inFlight);
      onPartStarted(partNumber, watch.started);
      try {
        return await store.uploadPart(key, uploadId, partNumber, body);
      } finally {
        watch.inFlight -= 1;
      }
    };
    watched.abortUpload = async (key, uploadId) => {
      watch.aborts += 1;
      if (watch.inFlight > 0) watch.abortsWhileInFlight += 1;
      return store.abortUpload(key, uploadId);
    };
    return { store, watched, watch };
  }

  function transfer(store: S3DeliveryStore, options: { stallSeconds?: number; isCancelled?: () => Promise<boolean>; clock?: () => number } = {}) {
    testCount += 1;
    const key = `bench/it-transfer/${testCount}/${MS}.tar`;
    const deps = {
      store,
      partBytes: PART,
      copyLimitBytes: PART,
      partsInFlight: PARTS_IN_FLIGHT,
      stallSeconds: options.stallSeconds ?? 60,
      clock: options.clock ?? (() => Date.now()),
      isCancelled: options.isCancelled ?? (async () => false),
      log: silent,
    };
    const staging: Staging = { tarballs: [{ measurementSet: MS, key, source: { kind: 'cluster' } }], complete: false };
    return { key, step: () => transferTarballs(deps, cluster, job, staging, Number.POSITIVE_INFINITY) };
  }

  async function objectSha256(key: string): Promise<string | undefined> {
    try {
      const object = await s3().send(new GetObjectCommand({ Bucket: service().dataBucket, Key: key }));
      return sha256(Buffer.from(await object.Body!.transformToByteArray()));
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async function partsOf(store: S3DeliveryStore, key: string): Promise<number[]> {
    const uploadId = await store.openUpload(key);
    return (await store.listParts(key, uploadId)).map((part) => part.partNumber);
  }

  /**
   * The `tar` this job's latest stream runs on the node: found by its working directory, the job's output
   * directory, the youngest if several (the emulated node does not end a command whose connection was cut).
   */
  function tarProcess(): number | undefined {
    const outputDir = path.join(job.workDir, 'calibrated');
    const found: { pid: number; startedAt: number }[] = [];
    for (const entry of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        if (path.basename(argv[0]!) !== 'tar' || !argv.includes(MS) || fs.readlinkSync(`/proc/${entry}/cwd`) !== outputDir) continue;
        // Field 22 of /proc/<pid>/stat, counted after the command name in parentheses.
        const startedAt = Number(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
        found.push({ pid: Number(entry), startedAt });
      } catch {
        // gone meanwhile
      }
    }
    return found.sort((a, b) => b.startedAt - a.startedAt)[0]?.pid;
  }

  test('an SSH connection cut mid-part with parts in flight: they land, and the retry restarts tar after the last complete part', async () => {
    // Prepare: the connection is cut when the fourth part starts uploading, while the fifth fills
    const { watched, store, watch } = watchedStore((_partNumber, started) => {
      if (started === 4) proxy.dropAll();
    });
    const { key, step } = transfer(watched);
    const connectionsBefore = proxy.connectionsAccepted;

    // Act
    await expect(step()).rejects.toBeInstanceOf(ClusterUnreachableError);
    const kept = await partsOf(store, key);
    const staged = await step();

    // Assess
    expect(kept).toEqual([1, 2, 3, 4]);
    expect(watch.maxInFlight).toBeLessThanOrEqual(PARTS_IN_FLIGHT);
    expect(proxy.connectionsAccepted - connectionsBefore).toBeGreaterThanOrEqual(3);
    expect(watch.started).toBe(4 + (checksums.parts.length - 4));
    expect(staged.tarballs[0]!.result).toEqual({ bytes: expect.any(Number), sha256: checksums.sha256 });
    expect(await objectSha256(key)).toBe(checksums.sha256);
  });

  test('a tar that stops sending is noticed after CALMS_STAGING_STALL_SECONDS, and the retry resumes after the last complete part', async () => {
    // Prepare: tar is stopped (SIGSTOP) when the third part starts uploading
    let stopped: number | undefined;
    const { watched, store } = watchedStore((_partNumber, started) => {
      if (started !== 3) return;
      stopped = tarProcess();
      if (stopped !== undefined) process.kill(stopped, 'SIGSTOP');
    });
    const { key, step } = transfer(watched, { stallSeconds: 1 });

    // Act
    const started = Date.now();
    const stalled = step();
    await expect(stalled).rejects.toThrow(`${MS}: tar sent no byte for 1 s; the stream was closed`);
    const waited = Date.now() - started;
    const state = stopped === undefined ? undefined : fs.readFileSync(`/proc/${stopped}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];
    if (stopped !== undefined) process.kill(stopped, 'SIGKILL');
    const kept = await partsOf(store, key);
    const staged = await step();

    // Assess: the stall was real (tar stopped, not ended) and the parts before it stayed
    expect(stopped).toEqual(expect.any(Number));
    expect(state).toBe('T');
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, index) => index + 1));
    expect(staged.tarballs[0]!.result!.sha256).toBe(checksums.sha256);
    expect(await objectSha256(key)).toBe(checksums.sha256);
  });

  test('a cancel seen mid-stream aborts the upload once the parts in flight landed, leaving nothing behind', async () => {
    // Prepare
    let cancelled = false;
    const { watched, store, watch } = watchedStore((_partNumber, started) => {
      if (started === 2) cancelled = true;
    });
    // A cancel is looked for every few seconds: here the clock jumps that far whenever it is read.
    let now = 0;
    const { key, step } = transfer(watched, { isCancelled: async () => cancelled, clock: () => (now += CANCEL_CHECK_MS) });

    // Act
    const run = step();
    await expect(run).rejects.toBeInstanceOf(RequestCancelledError);

    // Assess
    expect(watch.aborts).toBe(1);
    expect(watch.abortsWhileInFlight).toBe(0);
    expect(watch.started).toBeLessThan(checksums.parts.length);
    expect(await partsOf(store, key)).toEqual([]);
    expect(await objectSha256(key)).toBeUndefined();
  });

  test("a part that differs from the job's checksum aborts the upload once the parts in flight landed, publishing nothing", async () => {
    // Prepare: one byte of the fifth part changed on the node after the job checksummed the MS
    const data = path.join(job.workDir, 'calibrated', MS, 'table.f0');
    const { atime, mtime } = fs.statSync(data);
    const fd = fs.openSync(data, 'r+');
    const at = 4 * PART + 100;
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    fs.writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, at);
    fs.closeSync(fd);
    // Its time stays, as tar's header records it: only the fifth part differs.
    fs.utimesSync(data, atime, mtime);
    const { watched, store, watch } = watchedStore();
    const { key, step } = transfer(watched);

    // Act
    const run = step();
    await expect(run).rejects.toBeInstanceOf(TarballChecksumMismatchError);

    // Assess
    await expect(run).rejects.toThrow('part 5 has SHA-256');
    expect(watch.started).toBe(4);
    expect(watch.aborts).toBe(1);
    expect(watch.abortsWhileInFlight).toBe(0);
    expect(await partsOf(store, key)).toEqual([]);
    expect(await objectSha256(key)).toBeUndefined();
  });
});

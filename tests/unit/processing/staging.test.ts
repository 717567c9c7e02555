import { RequestCancelledError } from '../../../lib/errors';
import { createHash } from 'node:crypto';
import type { SubmittedJob } from '../../../lib/cluster/Cluster';
import {
  type DeliveryManifest,
  deliveryReadme,
  fieldSelectionKey,
  README_NAME,
  reuseMessages,
  tarballKey,
  tarballName,
  tokenFingerprint,
} from '../../../lib/domain/delivery';
import type { MousRequest } from '../../../lib/domain/request';
import { ArchiveError, MailUnavailableError, StorageUnavailableError } from '../../../lib/errors';
import {
  acquireStagingSlot,
  emailDownloadLink,
  lookForStagedMeasurementSets,
  publishDelivery,
  releaseStagingSlot,
  removeWorkDirectory,
  stageMeasurementSets,
  type StagingDeps,
} from '../../../lib/processing/staging';
import type { StagingState } from '../../../lib/staging/stagingState';
import { CANCEL_CHECK_MS } from '../../../lib/staging/transfer';
import {
  calibrator,
  execBlock,
  FakeArchive,
  fakeStepDeps,
  InMemoryDeliveryStore,
  mousRecord,
  ScriptedCluster,
  seedMousRequest,
  tarballBytes,
  target,
} from '../fakes';

const NOW = new Date('2026-11-24T12:00:00Z');
const DAY = 86_400_000;
const PART = 1024;
const EB1 = 'uid___A002_Xd33a12_X15be';
const EB2 = 'uid___A002_Xd33a12_X2c01';
const MS1 = `${EB1}.ms.split.cal`;
const MS2 = `${EB2}.ms.split.cal`;
const TOKEN = '8672af71dac32e0ad9703dae3438fcac';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The seed's MOUS with two QA0 Pass blocks around a failed one, which yields no MS. */
const MOUS = mousRecord({
  execBlocks: [
    execBlock({ uid: EB1, qa0: 'Pass', fields: [calibrator('J0510+1800'), calibrator('J0321+1234'), target('HL_Tau')] }),
    execBlock({ uid: 'uid___A002_Xd33a12_X1fff', qa0: 'Fail', fields: [calibrator('J0510+1800'), target('HL_Tau')] }),
    execBlock({ uid: EB2, qa0: 'Pass', fields: [calibrator('J0510+1800'), calibrator('J0431+2037'), target('HL_Tau')] }),
  ],
});

function harness(overrides: { retentionDays?: number; stepSeconds?: number } = {}) {
  let now = NOW;
  const store = new InMemoryDeliveryStore();
  const cluster = new ScriptedCluster();
  const tokens = [TOKEN, 'ffffffffffffffffffffffffffffffff'];
  const {
    deps: stepDeps,
    mailer,
    ledger,
    cancelMarks,
    statistics,
    triggers,
    log,
    slots,
    rules,
  } = fakeStepDeps(() => now, new FakeArchive({ mous: [MOUS] }));
  const deps: StagingDeps = {
    ...stepDeps,
    store,
    retentionDays: overrides.retentionDays ?? 28,
    downloadBaseUrl: 'https://calms.example.org/prod',
    noReply: 'no_reply_eu_data_delivery@eso.org',
    newToken: () => tokens.shift()!,
    transfer: { partBytes: PART, copyLimitBytes: 4 * PART, partsInFlight: 2, stallSeconds: 120, stepSeconds: overrides.stepSeconds ?? 600 },
  };
  return {
    deps,
    store,
    cluster,
    mailer,
    ledger,
    cancelMarks,
    statistics,
    triggers,
    log,
    slots,
    leaseSeconds: rules.leaseSeconds,
    setNow: (at: Date) => (now = at),
  };
}

type Harness = ReturnType<typeof harness>;

/** An earlier request's published delivery of `ebs`, with tarballs of `bytes` bytes each. */
async function publishEarlier(
  store: InMemoryDeliveryStore,
  options: { requestId: string; stagedAt: Date; calibratorFields?: string[]; ebs?: string[]; bytes?: number; retentionDays?: number },
): Promise<Map<string, { key: string; content: Buffer }>> {
  const calibratorFields = options.calibratorFields ?? [];
  const tarballs = new Map<string, { key: string; content: Buffer }>();
  for (const [index, eb] of (options.ebs ?? [EB1, EB2]).entries()) {
    const measurementSet = `${eb}.ms.split.cal`;
    const key = tarballKey(options.requestId, measurementSet);
    const content = tarballBytes(options.bytes ?? 3000, index + 31);
    store.putObject(key, content);
    tarballs.set(eb, { key, content });
  }
  const manifest: DeliveryManifest = {
    requestId: options.requestId,
    mous: MOUS.uid,
    projectCode: MOUS.projectCode,
    helpdeskTicket: '16000',
    calibratorFields,
    stagedAt: options.stagedAt.toISOString(),
    expiresAt: new Date(options.stagedAt.getTime() + (options.retentionDays ?? 28) * DAY).toISOString(),
    retentionDays: options.retentionDays ?? 28,
    token: `token-of-${options.requestId}`,
    tarballs: [...tarballs.entries()].map(([eb, { content }]) => ({
      name: tarballName(`${eb}.ms.split.cal`),
      bytes: content.length,
      sha256: sha256(content),
      source: 'cluster',
    })),
  };
  await store.publish(manifest, deliveryReadme(manifest), fieldSelectionKey(calibratorFields));
  return tarballs;
}

/** The whole MOUS, no calibrator selection, unless overridden. */
function request(overrides: { calibratorFields?: string[] } = {}): MousRequest {
  return seedMousRequest({ calibratorFields: overrides.calibratorFields ?? [] });
}

function submittedJob(forRequest: MousRequest): SubmittedJob {
  return {
    requestId: forRequest.requestId,
    mous: forRequest.mous,
    node: 'arcp14.hq.eso.org:22',
    workDir: `/opsw/work/calms-${forRequest.requestId}-${forRequest.mous}`,
    jobId: '4242',
    submitMode: 'detached',
    submittedAt: NOW.toISOString(),
    tarPartBytes: PART,
  };
}

const NOTHING_STAGED: StagingState = { reused: false, tarballs: [], complete: false };

describe('lookForStagedMeasurementSets', () => {
  it("re-uses every needed MS staged by a recent request, saying so in stagecalms's words", async () => {
    // Prepare
    const { deps, store, log } = harness();
    const earlier = await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - 10 * DAY) });
    const current = request();

    // Act
    const staging = await lookForStagedMeasurementSets(deps, current);

    // Assess
    expect(staging).toEqual({
      reused: true,
      complete: false,
      tarballs: [EB1, EB2].map((eb) => ({
        measurementSet: `${eb}.ms.split.cal`,
        key: tarballKey(current.requestId, `${eb}.ms.split.cal`),
        source: { kind: 'copy', key: earlier.get(eb)!.key, bytes: 3000, sha256: sha256(earlier.get(eb)!.content) },
      })),
    });
    expect(log.messages()).toEqual([
      'Checking for pre-existing MSs for the following EBs ...',
      `Found pre-existing deliveries/r-earlier/${EB1}.ms.split.cal.tar .\n   Will try to use this instead of recreating it (server-side copy) ...`,
      `Found pre-existing deliveries/r-earlier/${EB2}.ms.split.cal.tar .\n   Will try to use this instead of recreating it (server-side copy) ...`,
    ]);
    // The request's own keys come from the handler's withLogKeys (tests/unit/log.test.ts), not from the step.
    expect(log.lines[0]!.keys).toMatchObject({ executionBlocks: `${EB1},${EB2}` });
  });

  it("gives up the request's place in the staging queue when it re-uses: copies need no cluster", async () => {
    // Prepare
    const { deps, store, slots } = harness();
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - 10 * DAY) });
    const current = request();
    const next = seedMousRequest({ calibratorFields: [], helpdeskTicket: '16141' });
    slots.seedEntry(current);
    slots.seedEntry(next);

    // Act
    const staging = await lookForStagedMeasurementSets(deps, current);

    // Assess
    expect(staging.reused).toBe(true);
    expect(slots.queued()).toEqual([next.requestId]);
  });

  it("keeps the request's place in the staging queue when it regenerates", async () => {
    // Prepare
    const { deps, store, slots } = harness();
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY), ebs: [EB1] });
    const current = request();
    slots.seedEntry(current);

    // Act
    const staging = await lookForStagedMeasurementSets(deps, current);

    // Assess
    expect(staging.reused).toBe(false);
    expect(slots.queued()).toEqual([current.requestId]);
    expect(slots.callsOf('leaveQueue')).toEqual([]);
  });

  it('stops at the first MS not found and regenerates all', async () => {
    // Prepare
    const { deps, store, log } = harness();
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY), ebs: [EB2] });

    // Act
    const staging = await lookForStagedMeasurementSets(deps, request());

    // Assess
    expect(staging).toEqual(NOTHING_STAGED);
    expect(log.messages()).toEqual([
      'Checking for pre-existing MSs for the following EBs ...',
      `MS for ${EB1} was not found among the already staged MSs. Will not search further ...`,
      'None or not all of the needed MSs found: Will regenerate all the MSs ...',
    ]);
    expect(store.callsOf('findStaged')).toHaveLength(1);
  });

  it('regenerates all when only a later MS is missing', async () => {
    // Prepare
    const { deps, store, log } = harness();
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY), ebs: [EB1] });

    // Act
    const staging = await lookForStagedMeasurementSets(deps, request());

    // Assess
    expect(staging).toEqual(NOTHING_STAGED);
    expect(log.messages()).toEqual([
      reuseMessages.checking,
      reuseMessages.found(tarballKey('r-earlier', MS1)),
      reuseMessages.notFound(EB2),
      reuseMessages.regenerate,
    ]);
  });

  it.each<[string, string[], string[], boolean]>([
    ['does not re-use MSs staged for the whole MOUS for a calibrator selection', [], ['J0510+1800'], false],
    ['does not re-use MSs staged for a calibrator selection for the whole MOUS', ['J0510+1800'], [], false],
    ['does not re-use MSs staged for another calibrator selection', ['J0510+1800'], ['J0510+1800', 'J0321+1234'], false],
    ['re-uses MSs staged for the same selection given in another order', ['J0321+1234', 'J0510+1800'], ['J0510+1800', 'J0321+1234'], true],
  ])('%s', async (_case, stagedFields, requestedFields, found) => {
    // Prepare
    const { deps, store } = harness();
    const ebs = requestedFields.length === 0 || requestedFields.includes('J0510+1800') ? [EB1, EB2] : [EB1];
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY), calibratorFields: stagedFields, ebs });

    // Act
    const staging = await lookForStagedMeasurementSets(deps, request({ calibratorFields: requestedFields }));

    // Assess
    expect(staging.reused).toBe(found);
    expect(staging.tarballs.length > 0).toBe(found);
  });

  it.each([
    ['does not re-use a delivery staged exactly the retention ago', 28, 28 * DAY, false],
    ['re-uses a delivery staged a second less than the retention ago', 28, 28 * DAY - 1000, true],
    ['does not re-use a delivery staged longer ago than a shorter configured retention', 14, 15 * DAY, false],
  ])('%s', async (_when, retentionDays, age, found) => {
    // Prepare
    const { deps, store } = harness({ retentionDays });
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - age) });

    // Act
    const staging = await lookForStagedMeasurementSets(deps, request());

    // Assess
    expect(staging.reused).toBe(found);
  });

  it('does not re-use a delivery the lifecycle rule has removed', async () => {
    // Prepare
    const { deps, store } = harness();
    await publishEarlier(store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY) });
    store.expire('r-earlier');

    // Act
    const staging = await lookForStagedMeasurementSets(deps, request());

    // Assess
    expect(staging).toEqual(NOTHING_STAGED);
  });

  it('fails with ArchiveError when the MOUS is no longer in the archive', async () => {
    // Prepare
    const { deps } = harness();
    const unknown = seedMousRequest({ mous: ['uid___A001_X1_X2'], calibratorFields: [] });

    // Act
    const staging = lookForStagedMeasurementSets(deps, unknown);

    // Assess
    await expect(staging).rejects.toBeInstanceOf(ArchiveError);
  });
});

describe('stageMeasurementSets', () => {
  async function until(first: StagingState, call: (staging: StagingState) => Promise<StagingState>, limit = 50) {
    const states: StagingState[] = [];
    let staging = first;
    while (!staging.complete && states.length < limit) {
      staging = await call(staging);
      states.push(staging);
    }
    return states;
  }

  it('copies re-used MSs from the earlier delivery without a cluster', async () => {
    // Prepare
    const h = harness();
    const earlier = await publishEarlier(h.store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY), bytes: 6 * PART + 5 });
    const current = request();
    const found = await lookForStagedMeasurementSets(h.deps, current);

    // Act
    const states = await until(found, (staging) => stageMeasurementSets(h.deps, undefined, current, staging));

    // Assess
    const staged = states.at(-1)!;
    expect(staged.complete).toBe(true);
    expect(staged.reused).toBe(true);
    for (const eb of [EB1, EB2]) {
      expect(h.store.objects.get(tarballKey(current.requestId, `${eb}.ms.split.cal`))!.equals(earlier.get(eb)!.content)).toBe(true);
    }
    expect(h.log.messages().filter((message) => message.startsWith('Copying'))).toEqual(['Copying the pre-existing MSs ...']);
    expect(h.store.bytesUploaded).toBe(0);
  });

  it('plans one tarball per produced MS and streams them from the cluster, a part per step on a tiny budget', async () => {
    // Prepare
    const h = harness({ stepSeconds: 0 });
    const current = request();
    const job = submittedJob(current);
    const contents = new Map([
      [MS1, tarballBytes(2 * PART + 1, 41)],
      [MS2, tarballBytes(PART, 42)],
    ]);
    for (const [ms, content] of contents) h.cluster.tarballs.set(ms, content);
    const calibration = { job, measurementSets: [MS1, MS2] };

    // Act
    const states = await until(NOTHING_STAGED, (staging) => stageMeasurementSets(h.deps, h.cluster, current, staging, calibration));

    // Assess
    expect(states).toHaveLength(4);
    const staged = states.at(-1)!;
    expect(staged).toEqual({
      reused: false,
      complete: true,
      tarballs: [MS1, MS2].map((ms) => ({
        measurementSet: ms,
        key: tarballKey(current.requestId, ms),
        source: { kind: 'cluster' },
        uploadId: expect.any(String),
        result: { bytes: contents.get(ms)!.length, sha256: sha256(contents.get(ms)!) },
      })),
    });
    for (const [ms, content] of contents) expect(h.store.objects.get(tarballKey(current.requestId, ms))!.equals(content)).toBe(true);
    expect(h.cluster.offsetsRequested(MS1)).toEqual([0, PART, 2 * PART]);
    expect(h.cluster.offsetsRequested(MS2)).toEqual([0]);
    expect(h.log.messages().filter((message) => message.startsWith('Copying'))).toEqual(['Copying over the generated MSs ...']);
    expect(h.log.messages().filter((message) => message === 'staging continues in the next step')).toHaveLength(3);
  });

  it('stops streaming a few parts after a cancel has marked the request, aborting its upload', async () => {
    // Prepare: each part takes as long as the transfer waits between two looks for a cancel
    const h = harness();
    const current = request();
    const parts = 12;
    h.cluster.tarballs.set(MS1, tarballBytes(parts * PART, 43));
    let stored = 0;
    h.store.onPartStored = () => {
      stored += 1;
      h.setNow(new Date(NOW.getTime() + stored * CANCEL_CHECK_MS));
      if (stored === 1) void h.cancelMarks.mark(current.requestId, NOW);
    };

    // Act
    const staging = stageMeasurementSets(h.deps, h.cluster, current, NOTHING_STAGED, { job: submittedJob(current), measurementSets: [MS1] });

    // Assess
    await expect(staging).rejects.toBeInstanceOf(RequestCancelledError);
    expect(h.store.callsOf('uploadPart').length).toBeLessThan(parts);
    expect(h.store.callsOf('abortUpload')).toHaveLength(1);
    expect(h.store.uploads.size).toBe(0);
    expect(h.store.objects.size).toBe(0);
  });

  it('aborts the upload it opened when the request was marked cancelled after its last part, before handing over', async () => {
    // Prepare: a step that uploads its one part while the cancel marks the request
    const h = harness({ stepSeconds: 0 });
    const current = request();
    h.cluster.tarballs.set(MS1, tarballBytes(3 * PART, 44));
    let parts = 0;
    h.store.onPartStored = () => {
      parts += 1;
      if (parts === 1) void h.cancelMarks.mark(current.requestId, NOW);
    };
    const marked = h.cancelMarks.isMarked.bind(h.cancelMarks);
    let asked = 0;
    // The mark is found only by the look after the step's work, as when the cancel lands just then.
    h.cancelMarks.isMarked = async (requestId) => (asked++ === 0 ? false : marked(requestId));

    // Act
    const staging = stageMeasurementSets(h.deps, h.cluster, current, NOTHING_STAGED, { job: submittedJob(current), measurementSets: [MS1] });

    // Assess
    await expect(staging).rejects.toThrow(`Request ${current.requestId} was cancelled while it was staged; its unfinished uploads were aborted.`);
    expect(h.store.callsOf('uploadPart')).toHaveLength(1);
    expect(h.store.callsOf('abortUpload')).toHaveLength(1);
    expect(h.store.uploads.size).toBe(0);
  });

  it('renews the staging slot at every step of streaming from the cluster', async () => {
    // Prepare
    const h = harness({ stepSeconds: 0 });
    const current = request();
    h.cluster.tarballs.set(MS1, tarballBytes(3 * PART, 43));
    // Staging comes after calibration: the holder's job started long ago.
    const jobStartedAt = new Date(NOW.getTime() - 3_600_000);
    h.slots.seedHolder(current, { leaseUntil: new Date(NOW.getTime() + h.leaseSeconds * 1000), jobStartedAt });
    const calibration = { job: submittedJob(current), measurementSets: [MS1] };
    const leases: string[] = [];
    let minutes = 0;

    // Act
    await until(NOTHING_STAGED, async (staging) => {
      minutes += 1;
      h.setNow(new Date(NOW.getTime() + minutes * 60_000));
      const next = await stageMeasurementSets(h.deps, h.cluster, current, staging, calibration);
      leases.push(h.slots.holderOf(current.requestId)!.leaseUntil);
      return next;
    });

    // Assess
    expect(leases).toHaveLength(3);
    expect(leases).toEqual([1, 2, 3].map((minute) => new Date(NOW.getTime() + minute * 60_000 + h.leaseSeconds * 1000).toISOString()));
    expect(h.slots.holderOf(current.requestId)!.jobStartedAt).toBe(jobStartedAt.toISOString());
    expect(h.log.messages('warn')).toEqual([]);
  });

  it('does not touch the staging slots while copying re-used MSs', async () => {
    // Prepare
    const h = harness();
    await publishEarlier(h.store, { requestId: 'r-earlier', stagedAt: new Date(NOW.getTime() - DAY) });
    const current = request();
    const found = await lookForStagedMeasurementSets(h.deps, current);
    const callsBefore = h.slots.calls.length;

    // Act
    await until(found, (staging) => stageMeasurementSets(h.deps, undefined, current, staging));

    // Assess
    expect(h.slots.calls.slice(callsBefore)).toEqual([]);
    expect(h.log.messages('warn')).toEqual([]);
  });

  it('refuses to go on with nothing to stage', async () => {
    // Prepare
    const h = harness();

    // Act
    const staging = stageMeasurementSets(h.deps, h.cluster, request(), NOTHING_STAGED, { job: submittedJob(request()), measurementSets: [] });

    // Assess
    await expect(staging).rejects.toThrow('nothing to stage');
  });
});

describe('publishDelivery', () => {
  async function stagedFromCluster(h: Harness, current: MousRequest) {
    const contents = new Map([
      [MS1, tarballBytes(2 * PART + 1, 51)],
      [MS2, tarballBytes(PART + 7, 52)],
    ]);
    for (const [ms, content] of contents) h.cluster.tarballs.set(ms, content);
    const staging = await stageMeasurementSets(h.deps, h.cluster, current, NOTHING_STAGED, {
      job: submittedJob(current),
      measurementSets: [MS1, MS2],
    });
    expect(staging.complete).toBe(true);
    return { staging, contents };
  }

  it('publishes the manifest, README and token, linking to the download page', async () => {
    // Prepare
    const h = harness();
    const current = request({ calibratorFields: ['J0510+1800'] });
    const { staging, contents } = await stagedFromCluster(h, current);

    // Act
    const published = await publishDelivery(h.deps, current, staging);

    // Assess
    // No token in the state the execution history shows: a fingerprint of it.
    expect(published).toEqual({
      tokenFingerprint: tokenFingerprint(TOKEN),
      stagedAt: '2026-11-24T12:00:00.000Z',
      expiresAt: '2026-12-22T12:00:00.000Z',
    });
    expect(JSON.stringify(published)).not.toContain(TOKEN);
    const lookup = await h.store.lookupToken(TOKEN);
    expect(lookup).toEqual({
      state: 'published',
      kept: false,
      complete: true,
      manifest: {
        requestId: current.requestId,
        mous: 'uid___A001_X1296_X675',
        projectCode: '2017.1.00727.S',
        helpdeskTicket: '16140',
        calibratorFields: ['J0510+1800'],
        stagedAt: '2026-11-24T12:00:00.000Z',
        expiresAt: '2026-12-22T12:00:00.000Z',
        retentionDays: 28,
        token: TOKEN,
        tarballs: [MS1, MS2].map((ms) => ({
          name: `${ms}.tar`,
          bytes: contents.get(ms)!.length,
          sha256: sha256(contents.get(ms)!),
          source: 'cluster',
        })),
      },
    });
    const manifest = (lookup as { manifest: DeliveryManifest }).manifest;
    expect(h.store.objects.get(`deliveries/${current.requestId}/${README_NAME}`)!.toString('utf8')).toBe(deliveryReadme(manifest));
    expect(h.store.callsOf('publish')[0]!.detail).toEqual({ token: TOKEN, selectionKey: fieldSelectionKey(['J0510+1800']) });
    expect(h.log.messages()).toContain(
      [
        `Staging of calibrated MS(s) for 2017.1.00727.S uid___A001_X1296_X675 helpdesk ticket #16140 completed`,
        `at https://calms.example.org/prod/downloads/<token ${tokenFingerprint(TOKEN)}>`,
        'Data will be deleted 28 days from Tue, 24 Nov 2026 12:00:00 GMT unless it is kept.',
      ].join('\n'),
    );
  });

  it('publishes once: a retry later returns the same token and dates', async () => {
    // Prepare
    const h = harness();
    const current = request();
    const { staging } = await stagedFromCluster(h, current);
    const first = await publishDelivery(h.deps, current, staging);
    h.setNow(new Date(NOW.getTime() + 3_600_000));

    // Act
    const again = await publishDelivery(h.deps, current, staging);

    // Assess
    expect(again).toEqual(first);
    expect(h.store.callsOf('publish')).toHaveLength(1);
  });

  it('lets a later request re-use what it published, and records where re-used tarballs came from', async () => {
    // Prepare
    const h = harness();
    const first = request();
    const { staging, contents } = await stagedFromCluster(h, first);
    await publishDelivery(h.deps, first, staging);
    h.setNow(new Date(NOW.getTime() + 5 * DAY));
    const later = seedMousRequest({ calibratorFields: [], helpdeskTicket: '16999' });

    // Act
    const found = await lookForStagedMeasurementSets(h.deps, later);
    const copied = await stageMeasurementSets(h.deps, undefined, later, found);
    const published = await publishDelivery(h.deps, later, copied);

    // Assess
    expect(found.reused).toBe(true);
    const lookup = await h.store.lookupToken((await h.store.readManifest(later.requestId))!.token);
    expect(lookup.state === 'published' && lookup.manifest.tarballs.map((tarball) => [tarball.source, tarball.sha256])).toEqual(
      [MS1, MS2].map((ms) => [tarballKey(first.requestId, ms), sha256(contents.get(ms)!)]),
    );
    expect(published.stagedAt).toBe(new Date(NOW.getTime() + 5 * DAY).toISOString());
  });

  it('refuses to publish before every tarball is staged', async () => {
    // Prepare
    const h = harness();
    const current = request();
    const unfinished: StagingState = {
      reused: false,
      complete: false,
      tarballs: [{ measurementSet: MS1, key: tarballKey(current.requestId, MS1), source: { kind: 'cluster' }, uploadId: 'upload-1' }],
    };

    // Act
    const published = publishDelivery(h.deps, current, unfinished);

    // Assess
    await expect(published).rejects.toThrow('is not staged yet');
    expect(h.store.callsOf('publish')).toEqual([]);
  });
});

describe('acquireStagingSlot and releaseStagingSlot', () => {
  it('hand the slot from one request to the next in the queue, telling the waiting one when to ask again', async () => {
    // Prepare
    const h = harness();
    const first = request();
    const second = seedMousRequest({ calibratorFields: [], helpdeskTicket: '16141' });
    const third = seedMousRequest({ calibratorFields: [], helpdeskTicket: '16142' });
    for (const queued of [first, second, third]) await h.deps.queue.join(queued);

    // Act: each holder's job is submitted (which lets the next one in) before the next one asks.
    const outcomes = [];
    for (const asking of [first, second, third]) {
      const outcome = await acquireStagingSlot(h.deps, asking);
      outcomes.push(outcome);
      if (outcome.acquired) await h.deps.queue.renew(asking.requestId, true);
    }
    const released = await releaseStagingSlot(h.deps, first);
    const thirdAgain = await acquireStagingSlot(h.deps, third);

    // Assess
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false]);
    expect(outcomes[2]).toEqual({ acquired: false, position: 1, holders: [first.requestId, second.requestId] });
    expect(released).toEqual({ released: true });
    expect(thirdAgain.acquired).toBe(true);
    expect(h.slots.currentHolders().map((holder) => holder.requestId)).toEqual([second.requestId, third.requestId]);
  });
});

describe('a re-driven staging and the queue', () => {
  it('counts as a started job: the next request is let in while it stages, without a job submitted in this attempt', async () => {
    // Prepare: a request whose staging failed is re-driven; it takes a slot again and goes straight to staging.
    const h = harness({ stepSeconds: 0 });
    const redriven = { ...request(), redrive: 1 };
    const next = seedMousRequest({ calibratorFields: [], helpdeskTicket: '16141' });
    for (const queued of [redriven, next]) await h.deps.queue.join(queued);
    const job = submittedJob(redriven);
    h.cluster.tarballs.set(MS1, tarballBytes(2 * PART + 1, 43));
    const slot = await acquireStagingSlot(h.deps, redriven);
    const before = await acquireStagingSlot(h.deps, next);

    // Act
    await stageMeasurementSets(h.deps, h.cluster, redriven, NOTHING_STAGED, { job, measurementSets: [MS1] });
    const after = await acquireStagingSlot(h.deps, next);

    // Assess: before, the holder had not started a job, so nobody else was let in (the fault this fixes).
    expect(slot.acquired).toBe(true);
    expect(before).toEqual({ acquired: false, position: 1, holders: [redriven.requestId] });
    expect(h.slots.holderOf(redriven.requestId)!.jobStartedAt).toBe(NOW.toISOString());
    expect(after.acquired).toBe(true);
  });
});

describe('removeWorkDirectory', () => {
  it("deletes the job's work directory on its node, as stagecalms did", async () => {
    // Prepare
    const h = harness();
    const current = request();
    const job = submittedJob(current);

    // Act
    const removed = await removeWorkDirectory(h.deps, h.cluster, job);

    // Assess
    expect(removed).toEqual({ removed: job.workDir });
    expect(h.cluster.removedWorkDirs).toEqual([job]);
    expect(h.log.messages()).toEqual(['Deleting temporary work directory ...']);
  });
});

describe('emailDownloadLink', () => {
  /** The trigger of `current` and its published delivery, two tarballs of 3000 bytes from the cluster. */
  async function published(h: Harness, current: MousRequest, retentionDays?: number) {
    h.triggers.seed({ name: current.triggerName, mous: current.mous, requestId: current.requestId, createdAt: current.requestedAt });
    await publishEarlier(h.store, { requestId: current.requestId, stagedAt: NOW, retentionDays });
  }

  it("sends the user AOG's email of the seed with the link, and removes the trigger", async () => {
    // Prepare
    const h = harness();
    const current = request();
    await published(h, current);

    // Act
    const sent = await emailDownloadLink(h.deps, current);

    // Assess
    expect(sent).toEqual({ sentTo: 'judits@phys.ethz.ch' });
    expect(h.mailer.sent).toEqual([
      {
        to: ['judits@phys.ethz.ch'],
        bcc: ['evkampe@eso.org', 'dpetry@eso.org', 'aog@eso.org'],
        replyTo: 'no_reply_eu_data_delivery@eso.org',
        subject: 'Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675, helpdesk ticket 16140',
        text: `Your calibrated data is ready for download from
https://calms.example.org/prod/downloads/token-of-${current.requestId}

It will be deleted 28 days from now.

Kind regards,

The ESO ALMA Team
`,
        messageId: current.requestMessageId.replace(/^</, '<delivered.'),
        inReplyTo: current.requestMessageId,
        references: [current.requestMessageId],
      },
    ]);
    expect(h.triggers.texts.has(current.triggerName)).toBe(false);
    expect(h.triggers.claims.has(current.mous)).toBe(false);
  });

  it('says the configured retention, right after publishing', async () => {
    // Prepare
    const h = harness({ retentionDays: 14 });
    await published(h, request(), 14);

    // Act
    await emailDownloadLink(h.deps, request());

    // Assess
    expect(h.mailer.sent[0]!.text).toContain('\nIt will be deleted 14 days from now.\n');
  });

  it('says the days left when it is sent days after publishing (a re-drive that resumes here)', async () => {
    // Prepare
    const h = harness();
    await published(h, request());
    h.setNow(new Date(NOW.getTime() + 10 * DAY));

    // Act
    await emailDownloadLink(h.deps, request());

    // Assess
    expect(h.mailer.sent[0]!.text).toContain('\nIt will be deleted 18 days from now.\n');
  });

  it('sends once across retries, also when removing the trigger failed after sending', async () => {
    // Prepare
    const h = harness();
    const current = request();
    await published(h, current);
    h.triggers.failures.failNext('remove', new StorageUnavailableError('S3 did not delete the trigger'));

    // Act
    const first = emailDownloadLink(h.deps, current);
    await expect(first).rejects.toBeInstanceOf(StorageUnavailableError);
    await emailDownloadLink(h.deps, current);
    await emailDownloadLink(h.deps, current);

    // Assess
    expect(h.mailer.sent).toHaveLength(1);
    expect(h.ledger.messageIdOf(current.requestId, 'delivered')).toBe(h.mailer.sent[0]!.messageId);
    expect(h.triggers.texts.has(current.triggerName)).toBe(false);
  });

  it('records the request as delivered, with the bytes of its tarballs, once however often it runs', async () => {
    // Prepare
    const h = harness();
    const current = request();
    await published(h, current);
    h.setNow(new Date(NOW.getTime() + 60_000));

    // Act
    await emailDownloadLink(h.deps, current);
    await emailDownloadLink(h.deps, current);

    // Assess
    expect([...h.statistics.records.values()]).toEqual([
      {
        requestId: current.requestId,
        helpdeskTicket: current.helpdeskTicket,
        mous: current.mous,
        projectCode: current.projectCode,
        requestedAt: current.requestedAt,
        endedAt: '2026-11-24T12:01:00.000Z',
        outcome: 'DELIVERED',
        reused: false,
        bytesDelivered: 6000,
        bytesReused: 0,
      },
    ]);
  });

  it('records a delivery copied from an earlier one as re-used, its bytes as saved', async () => {
    // Prepare
    const h = harness();
    const current = request();
    await publishEarlier(h.store, { requestId: 't16000-earlier', stagedAt: new Date(NOW.getTime() - DAY) });
    const staging = await lookForStagedMeasurementSets(h.deps, current);
    const copied = await stageMeasurementSets(h.deps, undefined, current, staging);
    await publishDelivery(h.deps, current, copied);

    // Act
    await emailDownloadLink(h.deps, current);

    // Assess
    expect(h.statistics.records.get(current.requestId)).toMatchObject({
      outcome: 'DELIVERED',
      reused: true,
      bytesDelivered: 6000,
      bytesReused: 6000,
    });
  });

  it('does not record the outcome when the email could not be sent', async () => {
    // Prepare
    const h = harness();
    const current = request();
    await published(h, current);
    h.mailer.failures.failNext('send', new MailUnavailableError('SMTP did not answer'));

    // Act
    const sending = emailDownloadLink(h.deps, current);

    // Assess
    await expect(sending).rejects.toBeInstanceOf(MailUnavailableError);
    expect(h.statistics.records.size).toBe(0);
  });
});

import { createHash } from 'node:crypto';
import type { SubmittedJob } from '../../../lib/cluster/Cluster';
import { ClusterUnreachableError } from '../../../lib/cluster/errors';
import { tarballKey } from '../../../lib/domain/delivery';
import { RequestCancelledError, StorageUnavailableError, TerminalError } from '../../../lib/errors';
import {
  CANCEL_CHECK_MS,
  MAX_PARTS,
  type Staging,
  TarballChecksumMismatchError,
  TarballTooLargeError,
  type TarballTransfer,
  type TransferDeps,
  transferTarballs,
} from '../../../lib/staging/transfer';
import { InMemoryDeliveryStore, RecordingLogger, ScriptedCluster, tarballBytes } from '../fakes';

/** The part size the job checksummed by; the configured one differs on purpose, to show the job's wins. */
const PART = 1024;
const REQUEST = 't16140-uid___A001_X1296_X675-20261124T120000Z-ab12';
const MS_A = 'uid___A002_Xd33a12_X15be.ms.split.cal';
const MS_B = 'uid___A002_Xd33a12_X2c01.ms.split.cal';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const job: SubmittedJob = {
  requestId: REQUEST,
  mous: 'uid___A001_X1296_X675',
  node: 'arcp14.hq.eso.org:22',
  workDir: `/opsw/work/calms-${REQUEST}-uid___A001_X1296_X675`,
  jobId: '4242',
  submitMode: 'detached',
  submittedAt: '2026-11-24T12:00:00.000Z',
  tarPartBytes: PART,
};

function fromCluster(measurementSet: string): TarballTransfer {
  return { measurementSet, key: tarballKey(REQUEST, measurementSet), source: { kind: 'cluster' } };
}

/** Parts uploading at once, unless a test says otherwise: several, as on AWS. */
const PARTS_IN_FLIGHT = 3;

function harness(options: { copyLimitBytes?: number; chunkBytes?: number; partsInFlight?: number; stallSeconds?: number } = {}) {
  const cluster = new ScriptedCluster();
  cluster.chunkBytes = options.chunkBytes ?? 300;
  const store = new InMemoryDeliveryStore();
  const partsInFlight = options.partsInFlight ?? PARTS_IN_FLIGHT;
  store.partsInFlightAllowed = partsInFlight;
  const log = new RecordingLogger();
  let now = 1_000_000;
  let cancelled = false;
  let cancelChecks = 0;
  const deps: TransferDeps = {
    store,
    partBytes: 3 * PART,
    copyLimitBytes: options.copyLimitBytes ?? 4 * PART,
    partsInFlight,
    stallSeconds: options.stallSeconds ?? 60,
    clock: () => now,
    isCancelled: async () => {
      cancelChecks += 1;
      return cancelled;
    },
    log,
  };
  /** One step: transfers until `budgetMs` of the fake clock has passed (0: the least a step does). */
  const step = (staging: Staging, budgetMs = Number.POSITIVE_INFINITY) => transferTarballs(deps, cluster, job, staging, now + budgetMs);
  return {
    cluster,
    store,
    log,
    deps,
    step,
    advance: (ms: number) => (now += ms),
    cancel: () => (cancelled = true),
    cancelChecks: () => cancelChecks,
  };
}

/** Holds each part's upload until the test lets it land, so that parts really are in flight together. */
function gatedParts(store: InMemoryDeliveryStore) {
  const waiting = new Map<number, () => void>();
  const arrived: number[] = [];
  let listener: () => void = () => undefined;
  store.partLatency = (partNumber) =>
    new Promise<void>((resolve) => {
      waiting.set(partNumber, resolve);
      arrived.push(partNumber);
      listener();
    });
  return {
    /** Part numbers whose upload has begun and not been let land. */
    waiting: () => [...waiting.keys()].sort((a, b) => a - b),
    /** Resolves once `count` uploads are held. */
    held: (count: number) =>
      new Promise<void>((resolve) => {
        listener = () => {
          if (waiting.size >= count) resolve();
        };
        listener();
      }),
    land: (partNumber: number) => {
      waiting.get(partNumber)!();
      waiting.delete(partNumber);
    },
    arrived,
  };
}

/** Steps until the staging is complete (or `limit` steps have run), returning every state. */
async function stepsUntilComplete(step: (staging: Staging) => Promise<Staging>, first: Staging, limit = 100): Promise<Staging[]> {
  const states: Staging[] = [];
  let staging = first;
  while (!staging.complete && states.length < limit) {
    staging = await step(staging);
    states.push(staging);
  }
  return states;
}

describe('transferTarballs from the cluster', () => {
  it.each([
    ['smaller than a part', 300],
    ['as large as a part', PART],
    ['spanning parts', 2 * PART + 7],
    ['holding the whole tarball', 4 * PART],
  ])('delivers a tarball of several parts byte-identical, with stream chunks %s', async (_chunks, chunkBytes) => {
    // Prepare
    const { cluster, store, step } = harness({ chunkBytes });
    const content = tarballBytes(3 * PART + PART / 2, 7);
    cluster.tarballs.set(MS_A, content);

    // Act
    const staging = await step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    expect(staging.complete).toBe(true);
    expect(staging.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    // Parts of the job's size, not the configured one, each uploaded once, the last one shorter.
    expect(store.callsOf('uploadPart').map((call) => call.detail!.bytes)).toEqual([PART, PART, PART, PART / 2]);
    expect(store.bytesUploaded).toBe(content.length);
    expect(store.callsOf('completeUpload')).toHaveLength(1);
    expect(store.uploads.size).toBe(0);
    expect(cluster.offsetsRequested()).toEqual([0]);
    // Never more parts uploading than allowed, and none changes under way (a buffer reused too early).
    expect(store.maxPartsInFlight).toBeLessThanOrEqual(PARTS_IN_FLIGHT);
    expect(store.violations).toEqual([]);
    expect(cluster.tarStreams.every((call) => call.stream.destroyed)).toBe(true);
  });

  it('delivers a tarball that is a whole number of parts without an empty last part', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const content = tarballBytes(3 * PART, 8);
    cluster.tarballs.set(MS_A, content);

    // Act
    const staging = await step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    expect(staging.tarballs[0]!.result).toEqual({ bytes: 3 * PART, sha256: sha256(content) });
    expect(store.callsOf('uploadPart').map((call) => call.detail!.partNumber)).toEqual([1, 2, 3]);
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
  });

  it('with no budget left uploads exactly one part per step, each step resuming at the next part', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const content = tarballBytes(4 * PART + 100, 9);
    cluster.tarballs.set(MS_A, content);
    const uploadsPerStep: number[] = [];
    const tinyBudgetStep = async (staging: Staging) => {
      const before = store.callsOf('uploadPart').length;
      const next = await step(staging, 0);
      uploadsPerStep.push(store.callsOf('uploadPart').length - before);
      return next;
    };

    // Act
    const states = await stepsUntilComplete(tinyBudgetStep, { tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    expect(states).toHaveLength(5);
    expect(uploadsPerStep).toEqual([1, 1, 1, 1, 1]);
    expect(cluster.offsetsRequested()).toEqual([0, PART, 2 * PART, 3 * PART, 4 * PART]);
    // Nothing is visible before the last step, and every step carries the same upload on.
    expect(states.slice(0, 4).map((state) => state.complete)).toEqual([false, false, false, false]);
    expect(new Set(states.map((state) => state.tarballs[0]!.uploadId)).size).toBe(1);
    expect(store.uploadsStarted).toBe(1);
    expect(states[4]!.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    expect(store.bytesUploaded).toBe(content.length);
    expect(store.violations).toEqual([]);
    expect(cluster.tarStreams.every((call) => call.stream.destroyed)).toBe(true);
  });

  it('stops a step at a part boundary once its time is up', async () => {
    // Prepare
    const { cluster, store, step, advance } = harness();
    cluster.tarballs.set(MS_A, tarballBytes(30 * PART, 10));
    // Each stored part takes a second of the fake clock.
    store.onPartStored = () => advance(1000);

    // Act
    const first = await step({ tarballs: [fromCluster(MS_A)], complete: false }, 2500);
    const uploadedInFirst = store.callsOf('uploadPart').length;
    const second = await step(first, 2500);

    // Assess
    expect(first.complete).toBe(false);
    expect(uploadedInFirst).toBeGreaterThanOrEqual(3);
    expect(uploadedInFirst).toBeLessThan(30);
    expect(cluster.offsetsRequested()).toEqual([0, uploadedInFirst * PART]);
    expect(second.complete).toBe(false);
    expect(store.objects.has(tarballKey(REQUEST, MS_A))).toBe(false);
  });

  it.each([
    ['mid-part in the first step', 2 * PART + 500, 0, 2 * PART],
    ['right after a part boundary', 2 * PART, 0, 2 * PART],
    ['in a later step', PART + 10, 1, 2 * PART],
  ])(
    'when SSH drops %s, throws ClusterUnreachableError and the retry resumes after the last complete part',
    async (_when, dropAfter, tinySteps, resumeAt) => {
      // Prepare
      const { cluster, store, step } = harness();
      const content = tarballBytes(5 * PART + 100, 11);
      cluster.tarballs.set(MS_A, content);
      let staging: Staging = { tarballs: [fromCluster(MS_A)], complete: false };
      for (let index = 0; index < tinySteps; index++) staging = await step(staging, 0);
      cluster.dropNextStream(dropAfter);

      // Act
      const dropped = step(staging);
      await expect(dropped).rejects.toBeInstanceOf(ClusterUnreachableError);
      const partsKept = (await store.listParts(tarballKey(REQUEST, MS_A), [...store.uploads.keys()][0]!)).map((part) => part.partNumber);
      // Step Functions retries the step with the same input.
      const retried = await step(staging);

      // Assess
      expect(partsKept).toEqual(Array.from({ length: resumeAt / PART }, (_, index) => index + 1));
      expect(cluster.offsetsRequested().slice(-2)).toEqual([tinySteps * PART, resumeAt]);
      expect(retried.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
      expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
      expect(store.bytesUploaded).toBeLessThanOrEqual(content.length + PART);
      expect(store.uploadsStarted).toBe(1);
      expect(store.violations).toEqual([]);
    },
  );

  it.each([
    ['in the first part', 17],
    ['in the second part', PART + 17],
    ['in the last, short part', 3 * PART + 3],
  ])('aborts on a corrupted byte %s and publishes nothing', async (_where, position) => {
    // Prepare
    const { cluster, store, step } = harness();
    cluster.tarballs.set(MS_A, tarballBytes(3 * PART + 50, 12));
    cluster.corruptByteAt(position);

    // Act
    const staging = step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    await expect(staging).rejects.toBeInstanceOf(TarballChecksumMismatchError);
    await expect(staging).rejects.toBeInstanceOf(TerminalError);
    await expect(staging).rejects.toThrow(`part ${Math.floor(position / PART) + 1} has SHA-256`);
    // The bad part never went up; the parts before it are discarded with the upload.
    expect(store.callsOf('uploadPart').map((call) => call.detail!.partNumber)).toEqual(
      Array.from({ length: Math.floor(position / PART) }, (_, index) => index + 1),
    );
    expect(store.callsOf('abortUpload')).toHaveLength(1);
    expect(store.uploads.size).toBe(0);
    expect(store.objects.size).toBe(0);
    // An abort while a part still uploads may leave that part behind on S3.
    expect(store.violations).toEqual([]);
  });

  it.each([
    ['longer, by whole parts', 3 * PART + 100, 3 * PART, 'longer than the 3 parts the job checksummed'],
    ['longer, within the last part', 3 * PART + 100, 3 * PART + 40, 'part 4 has SHA-256'],
    ['shorter, by whole parts', 2 * PART, 3 * PART, 'the tarball has 2 parts, the job checksummed 3'],
    ['shorter, within the last part', 2 * PART + 10, 2 * PART + 500, 'part 3 has SHA-256'],
  ])('aborts a tarball %s than the job checksummed', async (_how, streamedBytes, checksummedBytes, reason) => {
    // Prepare
    const { cluster, store, step } = harness();
    const longest = tarballBytes(Math.max(streamedBytes, checksummedBytes), 13);
    cluster.tarballs.set(MS_A, longest.subarray(0, streamedBytes));
    cluster.checksummed.set(MS_A, longest.subarray(0, checksummedBytes));

    // Act
    const staging = step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    await expect(staging).rejects.toBeInstanceOf(TarballChecksumMismatchError);
    await expect(staging).rejects.toThrow(reason);
    expect(store.callsOf('completeUpload')).toHaveLength(0);
    expect(store.callsOf('abortUpload')).toHaveLength(1);
    expect(store.uploads.size).toBe(0);
    expect(store.objects.size).toBe(0);
    expect(store.violations).toEqual([]);
  });

  it('stops a few parts after the request is cancelled mid-step, asking not before every part, and aborts the upload it had begun', async () => {
    // Prepare
    const { cluster, store, step, cancel, advance, cancelChecks } = harness();
    const parts = 30;
    cluster.tarballs.set(MS_A, tarballBytes(parts * PART, 14));
    store.onPartStored = (part) => {
      // Each part takes a second: a check is due every few parts.
      advance(1000);
      if (part.partNumber === 8) cancel();
    };

    // Act
    const staging = step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    await expect(staging).rejects.toBeInstanceOf(RequestCancelledError);
    await expect(staging).rejects.toBeInstanceOf(TerminalError);
    const uploaded = store.callsOf('uploadPart').length;
    // Seen by the check after the next one is due, with up to the parts in flight already sent.
    expect(uploaded).toBeGreaterThanOrEqual(8);
    expect(uploaded).toBeLessThanOrEqual(8 + CANCEL_CHECK_MS / 1000 + PARTS_IN_FLIGHT + 1);
    expect(cancelChecks()).toBeLessThan(uploaded / 2);
    expect(store.callsOf('abortUpload')).toHaveLength(1);
    expect(store.uploads.size).toBe(0);
    expect(store.objects.size).toBe(0);
    // Every part in flight landed before the abort.
    expect(store.violations).toEqual([]);
  });

  it('completes, without streaming again, an upload whose every part is in when completing it failed', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const content = tarballBytes(2 * PART + 300, 14);
    cluster.tarballs.set(MS_A, content);
    const staging: Staging = { tarballs: [fromCluster(MS_A)], complete: false };
    store.failures.failNext('completeUpload', new StorageUnavailableError('S3 did not complete the upload: SlowDown'));

    // Act
    await expect(step(staging)).rejects.toBeInstanceOf(StorageUnavailableError);
    const retried = await step(staging);

    // Assess
    expect(retried.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    expect(cluster.offsetsRequested()).toEqual([0]);
    expect(store.bytesUploaded).toBe(content.length);
  });

  it('takes a tarball whose upload completed in a step that died before saying so as done, streaming nothing', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const content = tarballBytes(2 * PART + 300, 15);
    cluster.tarballs.set(MS_A, content);
    const staging: Staging = { tarballs: [fromCluster(MS_A)], complete: false };
    await step(staging);
    const streamed = cluster.offsetsRequested().length;
    const uploaded = store.bytesUploaded;

    // Act: the state machine retries with the state from before that step
    const retried = await step(staging);

    // Assess
    expect(retried.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(cluster.offsetsRequested()).toHaveLength(streamed);
    expect(store.bytesUploaded).toBe(uploaded);
    expect(store.uploadsStarted).toBe(1);
  });

  it('refuses, before uploading anything, a tarball of more parts than S3 allows', async () => {
    // Prepare
    const { cluster, store, deps } = harness();
    cluster.tarballs.set(MS_A, tarballBytes((MAX_PARTS + 1) * 16, 16));
    const smallParts = { ...job, tarPartBytes: 16 };

    // Act
    const staging = transferTarballs(deps, cluster, smallParts, { tarballs: [fromCluster(MS_A)], complete: false }, 0);

    // Assess
    await expect(staging).rejects.toBeInstanceOf(TarballTooLargeError);
    expect(store.uploadsStarted).toBe(0);
  });

  it('aborts an upload whose parts were cut to another size than the job checksummed', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const content = tarballBytes(3 * PART, 18);
    cluster.tarballs.set(MS_A, content);
    const key = tarballKey(REQUEST, MS_A);
    const uploadId = await store.openUpload(key);
    await store.uploadPart(key, uploadId, 1, content.subarray(0, PART / 2));

    // Act
    const staging = step({ tarballs: [{ ...fromCluster(MS_A), uploadId }], complete: false });

    // Assess
    await expect(staging).rejects.toThrow("the uploaded parts do not match the job's 3 parts of 1024 bytes");
    expect(store.uploads.size).toBe(0);
    expect(store.objects.size).toBe(0);
    expect(cluster.tarStreams).toEqual([]);
  });

  it("keeps a tarball completed in a step when the next one's stream drops in that step", async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const first = tarballBytes(PART + 200, 15);
    const second = tarballBytes(3 * PART + 5, 16);
    cluster.tarballs.set(MS_A, first);
    cluster.tarballs.set(MS_B, second);
    // A step begins the first tarball; the next one completes it and starts the second, whose stream drops.
    const begun = await step({ tarballs: [fromCluster(MS_A), fromCluster(MS_B)], complete: false }, 0);
    cluster.dropNextStream(PART + 10, 1);

    // Act
    const handedOver = await step(begun);
    const finished = await step(handedOver);

    // Assess
    expect(handedOver.complete).toBe(false);
    expect(handedOver.tarballs[0]!.result).toEqual({ bytes: first.length, sha256: sha256(first) });
    expect(finished.complete).toBe(true);
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(first)).toBe(true);
    expect(store.objects.get(tarballKey(REQUEST, MS_B))!.equals(second)).toBe(true);
    expect(cluster.offsetsRequested(MS_A)).toEqual([0, PART]);
    expect(cluster.offsetsRequested(MS_B)).toEqual([0, PART]);
    expect(store.bytesUploaded).toBe(first.length + second.length);
  });

  it('lets the drop through when the step got nowhere, for the state machine to retry later', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    cluster.tarballs.set(MS_A, tarballBytes(3 * PART, 17));
    cluster.dropNextStream(PART - 1);

    // Act
    const staging = step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    await expect(staging).rejects.toBeInstanceOf(ClusterUnreachableError);
    expect(store.bytesUploaded).toBe(0);
  });

  it('does not touch tarballs that are complete', async () => {
    // Prepare
    const { cluster, store, step } = harness();
    const done: TarballTransfer = { ...fromCluster(MS_A), uploadId: 'upload-old', result: { bytes: 10, sha256: 'a'.repeat(64) } };

    // Act
    const staging = await step({ tarballs: [done], complete: false });

    // Assess
    expect(staging).toEqual({ tarballs: [done], complete: true });
    expect(store.calls).toEqual([]);
    expect(cluster.tarStreams).toEqual([]);
  });
});

describe('transferTarballs with several parts in flight', () => {
  it('keeps up to the configured parts uploading while the next fills, never more, and completes them in order whatever order they land in', async () => {
    // Prepare
    const { cluster, store, step } = harness({ partsInFlight: 3 });
    const content = tarballBytes(7 * PART + 11, 31);
    cluster.tarballs.set(MS_A, content);
    const gate = gatedParts(store);

    // Act
    const staging = step({ tarballs: [fromCluster(MS_A)], complete: false });
    await gate.held(3);
    const firstHeld = gate.waiting();
    // Parts land last to first, a round at a time.
    for (let round = 0; round < 3; round++) {
      await gate.held(Math.min(3, 8 - 3 * round));
      for (const partNumber of gate.waiting().reverse()) gate.land(partNumber);
    }
    const staged = await staging;

    // Assess
    expect(firstHeld).toEqual([1, 2, 3]);
    expect(store.maxPartsInFlight).toBe(3);
    expect(store.violations).toEqual([]);
    expect(staged.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    expect(store.callsOf('completeUpload').map((call) => call.detail!.parts)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
  });

  it('fills every part buffer in turn, so that memory reaches its bound within the first parts however fast the parts land', async () => {
    // Prepare: each part lands long before the next one is full, so two buffers would do if the last one freed
    // were taken again
    const { cluster, store, step } = harness({ partsInFlight: 3 });
    cluster.tarballs.set(MS_A, tarballBytes(9 * PART, 38));
    store.partLatency = () => Promise.resolve();
    const upload = store.uploadPart.bind(store);
    const blocks: ArrayBufferLike[] = [];
    const bufferOfPart: string[] = [];
    store.uploadPart = async (key, uploadId, partNumber, body) => {
      // Small buffers share Node's pool: a part's buffer is its memory block and its place in it.
      if (!blocks.includes(body.buffer)) blocks.push(body.buffer);
      bufferOfPart[partNumber - 1] = `${blocks.indexOf(body.buffer)}@${body.byteOffset}`;
      return upload(key, uploadId, partNumber, body);
    };

    // Act
    await step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess: the first 4 parts (3 in flight + 1 filling) each had a buffer of its own, and no other was made
    expect(new Set(bufferOfPart.slice(0, 4)).size).toBe(4);
    expect(new Set(bufferOfPart).size).toBe(4);
    expect(bufferOfPart.slice(4)).toEqual(bufferOfPart.slice(0, 4).concat(bufferOfPart[0]!));
  });

  it('with one part in flight uploads one part at a time', async () => {
    // Prepare
    const { cluster, store, step } = harness({ partsInFlight: 1 });
    const content = tarballBytes(5 * PART, 32);
    cluster.tarballs.set(MS_A, content);

    // Act
    await step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    expect(store.maxPartsInFlight).toBe(1);
    expect(store.violations).toEqual([]);
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
  });

  it('when SSH drops while parts are in flight, lets them land before failing, and the retry resumes after the last complete part', async () => {
    // Prepare
    const { cluster, store, step } = harness({ partsInFlight: 3 });
    const content = tarballBytes(8 * PART, 33);
    cluster.tarballs.set(MS_A, content);
    const gate = gatedParts(store);
    cluster.dropNextStream(3 * PART + 200);
    const staging: Staging = { tarballs: [fromCluster(MS_A)], complete: false };

    // Act
    const dropped = step(staging);
    await gate.held(3);
    let settled = false;
    dropped.catch(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const settledWhileInFlight = settled;
    for (const partNumber of gate.waiting()) gate.land(partNumber);
    await expect(dropped).rejects.toBeInstanceOf(ClusterUnreachableError);
    store.partLatency = () => new Promise((resolve) => setImmediate(resolve));
    const retried = await step(staging);

    // Assess
    expect(settledWhileInFlight).toBe(false);
    expect(cluster.offsetsRequested()).toEqual([0, 3 * PART]);
    expect(retried.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    expect(store.bytesUploaded).toBe(content.length);
    expect(store.violations).toEqual([]);
  });

  it('when a part fails to upload while later ones are in flight, fails once they landed, and the retry resumes at the failed part', async () => {
    // Prepare
    const { cluster, store, step } = harness({ partsInFlight: 3 });
    const content = tarballBytes(6 * PART, 34);
    cluster.tarballs.set(MS_A, content);
    const gate = gatedParts(store);
    const staging: Staging = { tarballs: [fromCluster(MS_A)], complete: false };
    const upload = store.uploadPart.bind(store);
    store.uploadPart = async (key, uploadId, partNumber, body) => {
      if (partNumber !== 2) return upload(key, uploadId, partNumber, body);
      // It fails a moment later, once part 3 has gone up too.
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new StorageUnavailableError('S3 did not answer part 2: SlowDown');
    };

    // Act
    const failed = step(staging);
    await gate.held(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const abortedOrCompleted = store.calls.filter((call) => call.method === 'abortUpload' || call.method === 'completeUpload').length;
    for (const partNumber of gate.waiting().reverse()) gate.land(partNumber);
    await expect(failed).rejects.toBeInstanceOf(StorageUnavailableError);
    const uploadId = [...store.uploads.keys()][0]!;
    const kept = (await store.listParts(tarballKey(REQUEST, MS_A), uploadId)).map((part) => part.partNumber);
    store.uploadPart = upload;
    store.partLatency = () => new Promise((resolve) => setImmediate(resolve));
    const retried = await step(staging);

    // Assess
    expect(abortedOrCompleted).toBe(0);
    expect(kept).toEqual([1, 3]);
    // Part 3 came after a gap: the run of complete parts ends at 1, and the retry streams from part 2.
    expect(cluster.offsetsRequested()).toEqual([0, PART]);
    expect(retried.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    expect(store.violations).toEqual([]);
  });

  it('on a checksum mismatch with parts in flight, lets every one land before it aborts the upload', async () => {
    // Prepare
    const { cluster, store, step } = harness({ partsInFlight: 3 });
    cluster.tarballs.set(MS_A, tarballBytes(6 * PART, 35));
    cluster.corruptByteAt(3 * PART + 5);
    const gate = gatedParts(store);

    // Act
    const staging = step({ tarballs: [fromCluster(MS_A)], complete: false });
    await gate.held(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const abortedWhileInFlight = store.callsOf('abortUpload').length;
    for (const partNumber of gate.waiting()) gate.land(partNumber);

    // Assess
    await expect(staging).rejects.toThrow('part 4 has SHA-256');
    expect(abortedWhileInFlight).toBe(0);
    expect(store.callsOf('uploadPart').map((call) => call.detail!.partNumber)).toEqual([1, 2, 3]);
    expect(store.callsOf('abortUpload')).toHaveLength(1);
    expect(store.uploads.size).toBe(0);
    expect(store.objects.size).toBe(0);
    expect(store.violations).toEqual([]);
  });

  it('takes a tar stream that stops sending as dropped: fails with ClusterUnreachableError and the retry resumes after the last complete part', async () => {
    // Prepare
    const { cluster, store, step } = harness({ partsInFlight: 3, stallSeconds: 0.2 });
    const content = tarballBytes(6 * PART, 36);
    cluster.tarballs.set(MS_A, content);
    cluster.stallNextStream(2 * PART + 100);
    const staging: Staging = { tarballs: [fromCluster(MS_A)], complete: false };

    // Act
    const started = Date.now();
    const stalled = step(staging);
    await expect(stalled).rejects.toBeInstanceOf(ClusterUnreachableError);
    const waited = Date.now() - started;
    await expect(stalled).rejects.toThrow(`${MS_A}: tar sent no byte for 0.2 s; the stream was closed`);
    const retried = await step(staging);

    // Assess: the stall happened (the stream sent what it was told, then nothing) and was closed
    expect(cluster.stalledStreams.map(({ sent }) => sent)).toEqual([2 * PART + 100]);
    expect(cluster.stalledStreams[0]!.stream.destroyed).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(cluster.offsetsRequested()).toEqual([0, 2 * PART]);
    expect(retried.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarballKey(REQUEST, MS_A))!.equals(content)).toBe(true);
    expect(store.violations).toEqual([]);
  });

  it('does not take waiting for room among the parts in flight as a stall', async () => {
    // Prepare: every part takes longer to land than the stall limit, one at a time
    const { cluster, store, step } = harness({ partsInFlight: 1, stallSeconds: 0.05 });
    const content = tarballBytes(4 * PART, 37);
    cluster.tarballs.set(MS_A, content);
    store.partLatency = () => new Promise((resolve) => setTimeout(resolve, 120));

    // Act
    const staged = await step({ tarballs: [fromCluster(MS_A)], complete: false });

    // Assess
    expect(staged.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(cluster.offsetsRequested()).toEqual([0]);
  });
});

describe('transferTarballs copying from an earlier delivery', () => {
  const SOURCE_KEY = tarballKey('t1-uid___A001_X1296_X675-20261101T000000Z-zz99', MS_A);

  function copied(bytes: number) {
    const h = harness();
    const content = tarballBytes(bytes, 21);
    h.store.putObject(SOURCE_KEY, content);
    const tarball: TarballTransfer = {
      measurementSet: MS_A,
      key: tarballKey(REQUEST, MS_A),
      source: { kind: 'copy', key: SOURCE_KEY, bytes, sha256: sha256(content) },
    };
    // Copies need no cluster and no job.
    const step = (staging: Staging, budgetMs = Number.POSITIVE_INFINITY) =>
      transferTarballs(h.deps, undefined, undefined, staging, h.deps.clock() + budgetMs);
    return { ...h, content, tarball, step };
  }

  it.each([1, 4 * PART])('copies a tarball of %i bytes, up to the copy limit, in one request', async (bytes) => {
    // Prepare
    const { store, content, tarball, step } = copied(bytes);

    // Act
    const staging = await step({ tarballs: [tarball], complete: false });

    // Assess
    expect(staging.tarballs[0]!.result).toEqual({ bytes, sha256: sha256(content) });
    expect(store.callsOf('copyObject')).toEqual([{ method: 'copyObject', key: tarball.key, detail: { sourceKey: SOURCE_KEY } }]);
    expect(store.callsOf('openUpload')).toEqual([]);
    expect(store.objects.get(tarball.key)!.equals(content)).toBe(true);
  });

  it('copies a larger tarball in part ranges of the configured size that tile it exactly', async () => {
    // Prepare
    const { store, content, tarball, deps, step } = copied(4 * PART + 1);

    // Act
    const staging = await step({ tarballs: [tarball], complete: false });

    // Assess
    const ranges = store.callsOf('copyPart').map((call) => [call.detail!.first, call.detail!.last] as [number, number]);
    expect(ranges).toEqual([
      [0, deps.partBytes - 1],
      [deps.partBytes, 4 * PART],
    ]);
    expect(store.callsOf('copyObject')).toEqual([]);
    expect(staging.tarballs[0]!.result).toEqual({ bytes: content.length, sha256: sha256(content) });
    expect(store.objects.get(tarball.key)!.equals(content)).toBe(true);
    expect(store.bytesUploaded).toBe(0);
  });

  it('copies one part per step with no budget left, resuming where the last step ended', async () => {
    // Prepare
    const { store, content, tarball, deps, step } = copied(20 * PART + 33);
    const tinyBudgetStep = (staging: Staging) => step(staging, 0);

    // Act
    const states = await stepsUntilComplete(tinyBudgetStep, { tarballs: [tarball], complete: false });

    // Assess
    const partCount = Math.ceil(content.length / deps.partBytes);
    expect(states).toHaveLength(partCount);
    const ranges = store.callsOf('copyPart').map((call) => [call.detail!.first as number, call.detail!.last as number]);
    expect(ranges).toHaveLength(partCount);
    // The ranges tile the source: each begins right after the one before, the first at 0, the last at its end.
    expect(ranges[0]![0]).toBe(0);
    for (let index = 1; index < ranges.length; index++) expect(ranges[index]![0]).toBe(ranges[index - 1]![1] + 1);
    expect(ranges.at(-1)![1]).toBe(content.length - 1);
    expect(store.callsOf('copyPart').map((call) => call.detail!.partNumber)).toEqual(Array.from({ length: partCount }, (_, index) => index + 1));
    expect(new Set(states.map((state) => state.tarballs[0]!.uploadId)).size).toBe(1);
    expect(store.objects.get(tarball.key)!.equals(content)).toBe(true);
  });

  it('does one small copy per step with no budget left, then the next tarball in the next step', async () => {
    // Prepare
    const { store, tarball, step } = copied(100);
    const other: TarballTransfer = { ...tarball, measurementSet: MS_B, key: tarballKey(REQUEST, MS_B) };

    // Act
    const first = await step({ tarballs: [tarball, other], complete: false }, 0);
    const second = await step(first, 0);

    // Assess
    expect(first.tarballs.map((entry) => entry.result !== undefined)).toEqual([true, false]);
    expect(second.complete).toBe(true);
    expect(store.callsOf('copyObject').map((call) => call.key)).toEqual([tarball.key, other.key]);
  });
});

/** Operations on fakes: a request's execution, its delivery, the slots, the trigger, mail and the cluster. */
import type { SubmittedJob } from '../../../lib/cluster/Cluster';
import { type DeliveryManifest, deliveryReadme, tarballKey, tarballName } from '../../../lib/domain/delivery';
import type { MousRequest } from '../../../lib/domain/request';
import type { CancelDeps } from '../../../lib/operations/cancel';
import type { ResendDeps } from '../../../lib/operations/deliveries';
import { emailDownloadLink } from '../../../lib/processing/staging';
import type { StagingState } from '../../../lib/staging/stagingState';
import { FakeArchive, fakeStepDeps, InMemoryDeliveryStore, ScriptedCluster } from '../fakes';
import { FakeExecutions } from '../fakes/executions';

export const NOW = new Date('2026-11-24T12:00:00Z');
export const DAY = 86_400_000;
export const BASE_URL = 'https://calms.example.org/prod';
export const NO_REPLY = 'no_reply_eu_data_delivery@eso.org';
export const TOKEN = 'a'.repeat(64);
export const MS = 'uid___A002_Xd33a12_X15be.ms.split.cal';
export const SECOND_MS = 'uid___A002_Xd33a12_X2c01.ms.split.cal';

export function harness() {
  let now = NOW;
  const clock = () => now;
  const executions = new FakeExecutions(clock);
  const store = new InMemoryDeliveryStore();
  const cluster = new ScriptedCluster({ node: 'arcp14.hq.eso.org:22', load: 0.2 }, clock);
  const { deps: stepDeps, mailer, ledger, cancelMarks, statistics, triggers, log, slots } = fakeStepDeps(clock);
  const deps: CancelDeps & ResendDeps = {
    ...stepDeps,
    executions,
    store,
    downloadBaseUrl: BASE_URL,
    cluster,
    noReply: NO_REPLY,
  };
  return { deps, executions, store, cluster, mailer, ledger, cancelMarks, statistics, triggers, log, slots, setNow: (at: Date) => (now = at) };
}

export type Harness = ReturnType<typeof harness>;

/** The trigger intake recorded for `request`. */
export function triggerOf(request: MousRequest) {
  return { name: request.triggerName, mous: request.mous, requestId: request.requestId, createdAt: request.requestedAt };
}

export function jobOf(request: MousRequest): SubmittedJob {
  return {
    requestId: request.requestId,
    mous: request.mous,
    node: 'arcp14.hq.eso.org:22',
    workDir: `/opsw/work/calms-${request.requestId}-${request.mous}`,
    jobId: '4242',
    submitMode: 'detached',
    submittedAt: '2026-11-24T11:00:00.000Z',
    tarPartBytes: 1024,
  };
}

const calibrationOf = (request: MousRequest) => ({ job: jobOf(request), pollSeconds: 300, deadline: '2026-11-26T11:00:00.000Z' });

/** The states an entitled request passes through up to its calibration job, each with its input. */
export function calibratingStates(request: MousRequest): [string, unknown][] {
  const slot = { acquired: true, leaseUntil: '2026-11-24T12:30:00.000Z' };
  const staging = { reused: false, tarballs: [], complete: false };
  return [
    ['EmailRequestToAog', { request }],
    ['CheckEntitlement', { request, requestEmail: {} }],
    ['LookForStagedMeasurementSets', { request, entitlement: { outcome: 'ENTITLED' } }],
    ['AcquireStagingSlot', { request, staging }],
    ['ChooseClusterNode', { request, staging, slot }],
    ['SubmitCalibrationJob', { request, staging, slot, clusterNode: { node: 'arcp14.hq.eso.org:22', load: 0.2 } }],
    ['WaitForCalibrationJob', { request, staging, slot, calibration: calibrationOf(request) }],
    ['CheckCalibrationJob', { request, staging, slot, calibration: calibrationOf(request) }],
    ['WaitForCalibrationJob', { request, staging, slot, calibration: calibrationOf(request), calibrationProgress: { state: 'running' } }],
  ];
}

/** …and on to staging: the job has succeeded, one tarball is complete and the other half uploaded. */
export function stagingStates(request: MousRequest, uploadId: string): [string, unknown][] {
  const staging: StagingState = {
    reused: false,
    complete: false,
    tarballs: [
      { measurementSet: MS, key: tarballKey(request.requestId, MS), source: { kind: 'cluster' }, result: { bytes: 2048, sha256: 'e'.repeat(64) } },
      { measurementSet: SECOND_MS, key: tarballKey(request.requestId, SECOND_MS), source: { kind: 'cluster' }, uploadId },
    ],
  };
  const progress = { state: 'succeeded', measurementSets: [MS, SECOND_MS] };
  return [
    ...calibratingStates(request),
    ['CheckCalibrationJob', { request, calibration: calibrationOf(request) }],
    ['StageMeasurementSets', { request, calibration: calibrationOf(request), calibrationProgress: progress, staging }],
  ];
}

/** A published delivery of `request`, staged `stagedAt`, kept 28 days. */
export async function publish(h: Harness, request: MousRequest, stagedAt: Date = NOW, token: string = TOKEN): Promise<DeliveryManifest> {
  const manifest: DeliveryManifest = {
    requestId: request.requestId,
    mous: request.mous,
    projectCode: request.projectCode,
    helpdeskTicket: request.helpdeskTicket,
    calibratorFields: request.calibratorFields,
    stagedAt: stagedAt.toISOString(),
    expiresAt: new Date(stagedAt.getTime() + 28 * DAY).toISOString(),
    retentionDays: 28,
    token,
    tarballs: [{ name: tarballName(MS), bytes: 4, sha256: 'f'.repeat(64), source: 'cluster' }],
  };
  h.store.putObject(tarballKey(request.requestId, MS), Buffer.from('tar!'));
  await h.store.publish(manifest, deliveryReadme(manifest), 'all');
  return manifest;
}

/** A request that went all the way: its delivery published and the user emailed by the real step. */
export async function deliver(h: Harness, request: MousRequest): Promise<DeliveryManifest> {
  const manifest = await publish(h, request);
  h.executions.add(request, {
    status: 'SUCCEEDED',
    states: [
      ['EmailRequestToAog', { request }],
      ['EmailDownloadLink', { request }],
      ['Delivered', { request }],
    ],
  });
  const deliveryDeps = { ...h.deps, archive: new FakeArchive(), retentionDays: 28, newToken: () => TOKEN };
  await emailDownloadLink(deliveryDeps, request);
  return manifest;
}

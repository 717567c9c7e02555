/**
 * The staging steps of one MOUS request (the second half of the seed's stagecalms and AOG's last email):
 * look for the MSs in recent deliveries, move the tarballs into the data bucket (copied from a recent delivery,
 * or streamed from the cluster), publish the delivery, clean up the cluster, and send the user the link.
 * Every step is idempotent: a retry or re-drive neither uploads a finished tarball again nor sends twice.
 */
import type { Cluster, SubmittedJob } from '../cluster/Cluster';
import {
  type DeliveryManifest,
  deliveryReadme,
  downloadEmail,
  downloadLink,
  loggedDownloadLink,
  executionBlockOf,
  expectedMeasurementSets,
  expiryDate,
  fieldSelectionKey,
  lifetimeOf,
  reuseMessages,
  stagingCompletedText,
  tokenFingerprint,
  tarballKey,
  tarballName,
} from '../domain/delivery';
import { followUpMessageId } from '../domain/messages';
import type { MousRequest } from '../domain/request';
import { deliveredRecord } from '../domain/statistics';
import { ArchiveError, RequestCancelledError } from '../errors';
import { sendOnce } from '../mail/sendOnce';
import { DOWNLOAD_EMAIL_KIND } from '../mail/SentMailLedger';
import type { AcquireOutcome } from '../slots/StagingQueue';
import type { DeliveryStore } from '../storage/DeliveryStore';
import { abortUnfinishedUploads, type StagingState } from '../staging/stagingState';
import { type TarballTransfer, transferTarballs } from '../staging/transfer';
import { removeTrigger, type StepDeps } from './steps';

export interface DeliveryDeps extends StepDeps {
  readonly store: DeliveryStore;
  readonly retentionDays: number;
  /** The public base URL of the API; links are `<base>/downloads/<token>`. */
  readonly downloadBaseUrl: string;
  readonly noReply: string;
  /** At least 128 random bits, URL-safe. */
  readonly newToken: () => string;
}

export interface StagingDeps extends DeliveryDeps {
  readonly transfer: {
    readonly partBytes: number;
    readonly copyLimitBytes: number;
    readonly partsInFlight: number;
    readonly stallSeconds: number;
    /** How long one step streams before it hands over to the next. */
    readonly stepSeconds: number;
  };
}

/**
 * What publishing leaves in the execution's state: no token or link, since the console and the history show
 * the state; the email step reads the token from the manifest.
 */
export interface PublishedDelivery {
  readonly tokenFingerprint: string;
  readonly stagedAt: string;
  readonly expiresAt: string;
}

/**
 * stagecalms's search for pre-existing MSs: every MS this request needs must be in a delivery published less
 * than the retention ago, with the same field selection; the first one missing ends the search, and then all
 * are regenerated. When all are found, the staging plan copies them and the cluster is not used.
 */
export async function lookForStagedMeasurementSets(deps: DeliveryDeps, request: MousRequest): Promise<StagingState> {
  const { log } = deps;
  const mous = await deps.archive.findMous(request.mous);
  if (!mous) throw new ArchiveError(`${request.mous} is no longer in the archive`);
  const needed = expectedMeasurementSets(mous, request.calibratorFields);
  const selection = fieldSelectionKey(request.calibratorFields);
  const stagedAfter = new Date(deps.now().getTime() - deps.retentionDays * 86_400_000);
  log.info(reuseMessages.checking, { executionBlocks: needed.map(executionBlockOf).join(',') });
  const tarballs: TarballTransfer[] = [];
  for (const measurementSet of needed) {
    const executionBlock = executionBlockOf(measurementSet);
    const staged = await deps.store.findStaged(executionBlock, selection, stagedAfter);
    if (!staged) {
      log.info(reuseMessages.notFound(executionBlock));
      log.info(reuseMessages.regenerate);
      return { reused: false, tarballs: [], complete: false };
    }
    log.info(reuseMessages.found(staged.key), { stagedAt: staged.stagedAt });
    tarballs.push({
      measurementSet,
      key: tarballKey(request.requestId, measurementSet),
      source: { kind: 'copy', key: staged.key, bytes: staged.bytes, sha256: staged.sha256 },
    });
  }
  if (tarballs.length === 0) {
    log.info(reuseMessages.regenerate);
    return { reused: false, tarballs: [], complete: false };
  }
  // Copies need no cluster, so no slot: the request's place in the queue goes to the next one.
  await deps.queue.leave(request);
  return { reused: true, tarballs, complete: false };
}

/**
 * One step of staging. The first step after calibration plans one tarball per produced MS; every step then
 * transfers for at most the configured budget.
 */
export async function stageMeasurementSets(
  deps: StagingDeps,
  cluster: Cluster | undefined,
  request: MousRequest,
  staging: StagingState,
  calibration?: { readonly job: SubmittedJob; readonly measurementSets: readonly string[] },
): Promise<StagingState> {
  const { log } = deps;
  // Staging means the job has run, so the next request may be let in; a re-driven staging never submitted one.
  if (!staging.reused) await deps.queue.renew(request.requestId, true);
  const planned: StagingState =
    staging.tarballs.length > 0 || !calibration
      ? staging
      : {
          reused: false,
          complete: false,
          tarballs: calibration.measurementSets.map((measurementSet) => ({
            measurementSet,
            key: tarballKey(request.requestId, measurementSet),
            source: { kind: 'cluster' },
          })),
        };
  if (planned.tarballs.length === 0) throw new Error(`nothing to stage for ${request.requestId}: no MS was produced or found`);
  if (planned.tarballs.every((tarball) => !tarball.uploadId && !tarball.result)) {
    log.info(planned.reused ? 'Copying the pre-existing MSs ...' : 'Copying over the generated MSs ...');
  }
  const clock = () => deps.now().getTime();
  const isCancelled = () => deps.cancelMarks.isMarked(request.requestId);
  const transferDeps = { store: deps.store, ...deps.transfer, clock, isCancelled, log };
  const next = await transferTarballs(transferDeps, cluster, calibration?.job, planned, clock() + deps.transfer.stepSeconds * 1000);
  // Cancelled while this step ran, after its last part: an upload it opened is in no history the cancel read.
  if (await isCancelled()) {
    await abortUnfinishedUploads(deps, { ...next, reused: planned.reused });
    throw new RequestCancelledError(`Request ${request.requestId} was cancelled while it was staged; its unfinished uploads were aborted.`);
  }
  const staged = next.tarballs.filter((tarball) => tarball.result).length;
  log.info(next.complete ? 'all tarballs staged' : 'staging continues in the next step', { staged, of: next.tarballs.length });
  return { ...next, reused: planned.reused };
}

/**
 * Publishes the delivery: README, re-use index, token and manifest. A repeated call (a retry after a lost
 * answer) finds the manifest and returns the same token and dates.
 */
export async function publishDelivery(deps: DeliveryDeps, request: MousRequest, staging: StagingState): Promise<PublishedDelivery> {
  const { log } = deps;
  const existing = await deps.store.readManifest(request.requestId);
  const manifest = existing ?? newManifest(deps, request, staging);
  if (!existing) await deps.store.publish(manifest, deliveryReadme(manifest), fieldSelectionKey(request.calibratorFields));
  const loggedLink = loggedDownloadLink(deps.downloadBaseUrl, manifest.token);
  log.info(stagingCompletedText(request, loggedLink, new Date(manifest.stagedAt), manifest.retentionDays), { reused: staging.reused });
  return { tokenFingerprint: tokenFingerprint(manifest.token), stagedAt: manifest.stagedAt, expiresAt: manifest.expiresAt };
}

function newManifest(deps: DeliveryDeps, request: MousRequest, staging: StagingState): DeliveryManifest {
  const stagedAt = deps.now();
  return {
    requestId: request.requestId,
    mous: request.mous,
    projectCode: request.projectCode,
    helpdeskTicket: request.helpdeskTicket,
    calibratorFields: request.calibratorFields,
    stagedAt: stagedAt.toISOString(),
    expiresAt: expiryDate(stagedAt, deps.retentionDays).toISOString(),
    retentionDays: deps.retentionDays,
    token: deps.newToken(),
    tarballs: staging.tarballs.map((tarball) => {
      if (!tarball.result) throw new Error(`${tarball.key} is not staged yet; publishing must wait for it`);
      return {
        name: tarballName(tarball.measurementSet),
        bytes: tarball.result.bytes,
        sha256: tarball.result.sha256,
        source: tarball.source.kind === 'copy' ? tarball.source.key : 'cluster',
      };
    }),
  };
}

/** Asks once for one of the staging slots (the seed's "up to two stagecalms at the same time"). */
export function acquireStagingSlot(deps: StepDeps, request: MousRequest): Promise<AcquireOutcome> {
  return deps.queue.acquire(request);
}

/** One waiting step for a staging slot: it takes one as soon as the queue allows, else tells the place it kept. */
export function waitForStagingSlot(deps: StepDeps, request: MousRequest): Promise<AcquireOutcome> {
  return deps.queue.waitForSlot(request);
}

/** Staging has ended: the slot goes to the next request in the queue. */
export async function releaseStagingSlot(deps: StepDeps, request: MousRequest): Promise<{ released: true }> {
  await deps.queue.release(request);
  return { released: true };
}

/** stagecalms's "Deleting temporary work directory ...": the MSs are in the bucket now. */
export async function removeWorkDirectory(deps: StepDeps, cluster: Cluster, job: SubmittedJob): Promise<{ removed: string }> {
  deps.log.info('Deleting temporary work directory ...', { node: job.node, workDir: job.workDir });
  await cluster.removeWorkDir(job);
  return { removed: job.workDir };
}

/**
 * AOG's email to the user with the link, built from the published manifest (the execution's state carries no
 * token); this concludes the request, so its trigger goes.
 */
export async function emailDownloadLink(deps: DeliveryDeps, request: MousRequest): Promise<{ sentTo: string }> {
  const { log } = deps;
  const manifest = await deps.store.readManifest(request.requestId);
  if (!manifest) throw new Error(`the delivery of ${request.requestId} has no manifest, although it was published`);
  const messageId = followUpMessageId(request, DOWNLOAD_EMAIL_KIND);
  const link = downloadLink(deps.downloadBaseUrl, manifest.token);
  const message = downloadEmail(request, link, lifetimeOf(manifest, deps.now()), { ...deps.addresses, noReply: deps.noReply }, messageId);
  await sendOnce({ ...deps, log }, request.requestId, DOWNLOAD_EMAIL_KIND, message);
  await deps.statistics.record(deliveredRecord(request, manifest, deps.now()));
  await removeTrigger(deps, request);
  return { sentTo: request.userEmail };
}

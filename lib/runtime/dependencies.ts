/**
 * Wires the real adapters from configuration, once per Lambda container. Handlers in functions/ call this
 * at module scope, so a missing variable fails the cold start with its name.
 */
import { randomBytes } from 'node:crypto';
import { openArchive } from '../archive/open';
import { createS3Client, createSfnClient, readSecretText } from '../aws/clients';
import { SshCluster } from '../cluster/SshCluster';
import { clusterConfig, config, type ServiceConfig } from '../config';
import { deliveryPrefix } from '../domain/delivery';
import { REQUEST_ID_SUFFIX_LENGTH } from '../domain/identifiers';
import type { IntakeDeps } from '../intake/submitRequest';
import { logger } from '../log';
import { parseSmtpCredentials, SmtpMailer } from '../mail/SmtpMailer';
import type { CalibrationDeps } from '../processing/calibration';
import type { DeliveryDeps, StagingDeps } from '../processing/staging';
import type { StepDeps } from '../processing/steps';
import type { DownloadDeps } from '../downloads/downloads';
import type { CancelDeps } from '../operations/cancel';
import { CHECK_TIMEOUT_MS, type ClusterAccess, type DoctorDeps } from '../operations/doctor';
import type { ResendDeps } from '../operations/deliveries';
import type { RedriveDeps } from '../operations/redrive';
import { S3DeliveryStore } from '../storage/S3DeliveryStore';
import { S3BucketLifecycle } from '../storage/S3BucketLifecycle';
import { S3CancelMarks } from '../storage/S3CancelMarks';
import { dataBucketLifecycleRules } from '../storage/lifecycle';
import { S3JobLogStore } from '../storage/S3JobLogStore';
import { S3SentMailLedger } from '../storage/S3SentMailLedger';
import { S3SlotStore } from '../storage/S3SlotStore';
import { S3StatisticsStore } from '../storage/S3StatisticsStore';
import { S3TriggerStore } from '../storage/S3TriggerStore';
import { StagingQueue } from '../slots/StagingQueue';
import { SfnWorkflow } from '../workflow/SfnWorkflow';

/** The relay's login, if it needs one, is read from Secrets Manager before the first message. */
function smtpMailer(settings: ServiceConfig): SmtpMailer {
  const { credentialsSecret, ...smtp } = settings.smtp;
  const credentials = credentialsSecret
    ? async () => parseSmtpCredentials(await readSecretText(settings, credentialsSecret), credentialsSecret)
    : undefined;
  return new SmtpMailer({ ...smtp, from: settings.mail.from, ...(credentials ? { credentials } : {}) });
}

function shared() {
  const settings = config();
  const s3 = createS3Client(settings);
  const now = () => new Date();
  const workflow = new SfnWorkflow(createSfnClient(settings), settings.stateMachineArn);
  return {
    settings,
    s3,
    workflow,
    archive: openArchive(settings.archive, settings),
    triggers: new S3TriggerStore(s3, settings.dataBucket, logger),
    queue: new StagingQueue(new S3SlotStore(s3, settings.dataBucket), settings.slots, now, logger, workflow),
    addresses: { aog: settings.mail.aog, maintainer: settings.mail.maintainer },
    now,
    log: logger,
  };
}

export function stagingQueue(): StagingQueue {
  return shared().queue;
}

export function intakeDependencies(): IntakeDeps {
  const { settings, s3: _s3, ...common } = shared();
  return {
    ...common,
    mailDomain: settings.mail.from.split('@')[1]!,
    // 32 bits: forced requests for one ticket and MOUS in the same second must not collide in their execution names.
    randomSuffix: () => randomBytes(REQUEST_ID_SUFFIX_LENGTH / 2).toString('hex'),
  };
}

function steps() {
  const { settings, s3, workflow: _workflow, ...common } = shared();
  const deps: StepDeps = {
    ...common,
    mailer: smtpMailer(settings),
    ledger: new S3SentMailLedger(s3, settings.dataBucket),
    cancelMarks: new S3CancelMarks(s3, settings.dataBucket),
    statistics: new S3StatisticsStore(s3, settings.dataBucket),
  };
  return { settings, s3, deps };
}

export function stepDependencies(): StepDeps {
  return steps().deps;
}

/** The steps' dependencies plus the deliveries in the data bucket. */
export function deliveryDependencies(): DeliveryDeps {
  const { settings, s3, deps } = steps();
  return {
    ...deps,
    store: new S3DeliveryStore(s3, settings.dataBucket),
    retentionDays: settings.retentionDays,
    downloadBaseUrl: settings.downloads.baseUrl,
    noReply: settings.mail.noReply,
    // 256 bits: the link is the only credential a user needs for the data.
    newToken: () => randomBytes(32).toString('hex'),
  };
}

export function downloadDependencies(): DownloadDeps {
  const settings = config();
  return {
    store: new S3DeliveryStore(createS3Client(settings), settings.dataBucket),
    log: logger,
    now: () => new Date(),
    linkSeconds: settings.downloads.linkSeconds,
    baseUrl: settings.downloads.baseUrl,
  };
}

/** What the Lambdas that talk to the cluster need: calibration, and staging from the cluster. */
export type ClusterStepDeps = CalibrationDeps & StagingDeps;

/** The cluster adapter, its nodes and the state machine's polling, with the key read (on AWS from Secrets Manager). */
async function sshCluster(settings: ServiceConfig) {
  const { pollSeconds, maxRuntimeSeconds, privateKey, ...cluster } = clusterConfig();
  const key = 'key' in privateKey ? privateKey.key : await readSecretText(settings, privateKey.secretId);
  return { nodes: cluster.nodes, cluster: new SshCluster({ ...cluster, privateKey: key }, logger), pollSeconds, maxRuntimeSeconds };
}

/**
 * The steps' dependencies plus the cluster and the deliveries. Asynchronous because on AWS the cluster key is read from Secrets
 * Manager; a failure is not kept, so the next invocation tries again.
 */
export function clusterStepDependencies(): () => Promise<ClusterStepDeps> {
  let ready: Promise<ClusterStepDeps> | undefined;
  const build = async (): Promise<ClusterStepDeps> => {
    const settings = config();
    const { cluster, pollSeconds, maxRuntimeSeconds } = await sshCluster(settings);
    return {
      ...deliveryDependencies(),
      transfer: settings.staging,
      cluster,
      timing: { pollSeconds, maxRuntimeSeconds, stepSeconds: settings.slots.stepSeconds },
      deliveryLocation: (request) => `s3://${settings.dataBucket}/${deliveryPrefix(request.requestId)}`,
      tarPartBytes: settings.staging.partBytes,
      jobLogs: new S3JobLogStore(createS3Client(settings), settings.dataBucket),
    };
  };
  return () => {
    ready ??= build().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
}

/**
 * What the operators' routes need (status, triggers, keep, resend): the executions of the state machine, and
 * the deliveries and mail of the steps.
 */
export function operationsDependencies(): ResendDeps & RedriveDeps & Omit<CancelDeps, 'cluster'> {
  const settings = config();
  const workflow = new SfnWorkflow(createSfnClient(settings), settings.stateMachineArn);
  return { ...deliveryDependencies(), executions: workflow, workflow };
}

/** Cancelling also stops the calibration job: the cluster, built lazily as for the cluster steps. */
export function cancelDependencies(): () => Promise<CancelDeps> {
  const cluster = clusterStepDependencies();
  const operations = operationsDependencies();
  return async () => ({ ...operations, cluster: (await cluster()).cluster });
}

/**
 * The smoke check's: every outside system, through the adapters the service uses. The cluster's settings and key,
 * and the SMTP login, are read afresh at each check, so that a fixed secret or setting shows at once.
 */
export function doctorDependencies(): DoctorDeps {
  const { settings, s3, workflow, archive, log } = shared();
  return {
    stateMachineArn: settings.stateMachineArn,
    stateMachine: workflow,
    dataBucket: settings.dataBucket,
    bucket: new S3BucketLifecycle(s3, settings.dataBucket),
    expectedLifecycleRules: dataBucketLifecycleRules(settings.retentionDays),
    archive,
    smtp: settings.smtp,
    mailRelay: { verify: () => smtpMailer(settings).verify() },
    cluster: async (): Promise<ClusterAccess> => {
      const { nodes, cluster } = await sshCluster(settings);
      return { nodes, login: cluster };
    },
    timeoutMs: CHECK_TIMEOUT_MS,
    log,
  };
}

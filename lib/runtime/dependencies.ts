/**
 * Wires the real adapters from configuration, once per Lambda container. Handlers in functions/ call this
 * at module scope, so a missing variable fails the cold start with its name.
 */
import { randomBytes } from 'node:crypto';
import { SqliteArchive } from '../archive/SqliteArchive';
import { createS3Client, createSfnClient, readSecretText } from '../aws/clients';
import { SshCluster } from '../cluster/SshCluster';
import { clusterConfig, config } from '../config';
import type { IntakeDeps } from '../intake/submitRequest';
import { logger } from '../log';
import { SmtpMailer } from '../mail/SmtpMailer';
import type { CalibrationDeps } from '../processing/calibration';
import type { StepDeps } from '../processing/steps';
import { S3SentMailLedger } from '../storage/S3SentMailLedger';
import { S3TriggerStore } from '../storage/S3TriggerStore';
import { SfnWorkflow } from '../workflow/SfnWorkflow';

function shared() {
  const settings = config();
  const s3 = createS3Client(settings);
  return {
    settings,
    s3,
    archive: new SqliteArchive(settings.archiveDb),
    triggers: new S3TriggerStore(s3, settings.dataBucket, logger),
    addresses: { aog: settings.mail.aog, maintainer: settings.mail.maintainer },
    now: () => new Date(),
    log: logger,
  };
}

export function intakeDependencies(): IntakeDeps {
  const { settings, s3: _s3, ...common } = shared();
  return {
    ...common,
    workflow: new SfnWorkflow(createSfnClient(settings), settings.stateMachineArn),
    mailDomain: settings.mail.from.split('@')[1]!,
    // 32 bits: forced requests for one ticket and MOUS in the same second must not collide in their execution names.
    randomSuffix: () => randomBytes(4).toString('hex'),
  };
}

export function stepDependencies(): StepDeps {
  const { settings, s3, ...common } = shared();
  return {
    ...common,
    mailer: new SmtpMailer({ ...settings.smtp, from: settings.mail.from }),
    ledger: new S3SentMailLedger(s3, settings.dataBucket),
  };
}

/**
 * The steps' dependencies plus the cluster. Asynchronous because on AWS the cluster key is read from Secrets
 * Manager; a failure is not kept, so the next invocation tries again.
 */
export function calibrationDependencies(): () => Promise<CalibrationDeps> {
  let ready: Promise<CalibrationDeps> | undefined;
  const build = async (): Promise<CalibrationDeps> => {
    const settings = config();
    const { pollSeconds, maxRuntimeSeconds, privateKey, ...cluster } = clusterConfig();
    const key = 'key' in privateKey ? privateKey.key : await readSecretText(settings, privateKey.secretId);
    return {
      ...stepDependencies(),
      cluster: new SshCluster({ ...cluster, privateKey: key }, logger),
      timing: { pollSeconds, maxRuntimeSeconds },
      deliveryLocation: (request) => `s3://${settings.dataBucket}/deliveries/${request.requestId}/`,
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

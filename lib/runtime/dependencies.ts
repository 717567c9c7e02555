/**
 * Wires the real adapters from configuration, once per Lambda container. Handlers in functions/ call this
 * at module scope, so a missing variable fails the cold start with its name.
 */
import { randomBytes } from 'node:crypto';
import { SqliteArchive } from '../archive/SqliteArchive';
import { createS3Client, createSfnClient } from '../aws/clients';
import { config } from '../config';
import type { IntakeDeps } from '../intake/submitRequest';
import { logger } from '../log';
import { SmtpMailer } from '../mail/SmtpMailer';
import type { StepDeps } from '../processing/steps';
import { S3SentMailLedger } from '../storage/S3SentMailLedger';
import { S3TriggerStore } from '../storage/S3TriggerStore';
import { SfnWorkflow } from '../workflow/SfnWorkflow';

function shared() {
  const settings = config();
  const s3 = createS3Client(settings);
  return {
    settings,
    archive: new SqliteArchive(settings.archiveDb),
    triggers: new S3TriggerStore(s3, settings.dataBucket, logger),
    addresses: { aog: settings.mail.aog, maintainer: settings.mail.maintainer },
    now: () => new Date(),
    log: logger,
  };
}

export function intakeDependencies(): IntakeDeps {
  const { settings, ...common } = shared();
  return {
    ...common,
    workflow: new SfnWorkflow(createSfnClient(settings), settings.stateMachineArn),
    mailDomain: settings.mail.from.split('@')[1]!,
    randomSuffix: () => randomBytes(2).toString('hex'),
  };
}

export function stepDependencies(): StepDeps {
  const { settings, ...common } = shared();
  return {
    ...common,
    mailer: new SmtpMailer({ ...settings.smtp, from: settings.mail.from }),
    ledger: new S3SentMailLedger(createS3Client(settings), settings.dataBucket),
  };
}

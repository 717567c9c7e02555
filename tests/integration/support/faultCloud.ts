/**
 * A local cloud of its own for the tests that stop, kill or break it (restarts, fault injection): the test
 * cloud's settings on other ports and another state directory, so the shared cloud of the other files is
 * never touched. `start()` points this process's configuration (and so ./clients) at it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type SpawnedCloud, spawnLocalCloud } from '../../../localstack/spawnCloud';
import { mailsOf, s3, service, triggerExists } from './clients';
import type { AcceptedRequest } from './requests';
import { TEST_CLOUD_ENV } from './testCloud';

export const FAULT_STATE_DIR = path.resolve(__dirname, '../../../.calms-test-faults');
/** The emulated cluster's directory: a file down/node<i> takes node i off the network, drop/node<i> drops its connections. */
export const FAULT_CLUSTER_DIR = path.join(FAULT_STATE_DIR, 'cluster');
const SSH_PORTS = [25222, 25223, 25224];

export const FAULT_CLOUD_ENV: Record<string, string> = {
  ...TEST_CLOUD_ENV,
  CALMS_STATE_DIR: FAULT_STATE_DIR,
  CALMS_ARCHIVE_URL: path.join(FAULT_STATE_DIR, 'archive.sqlite'),
  CALMS_API_PORT: '25000',
  CALMS_LAMBDA_PORT: '25002',
  CALMS_EDGE_PORT: '25566',
  CALMS_STEPFUNCTIONS_PORT: '25567',
  CALMS_S3_PORT: '25568',
  CALMS_SMTP_PORT: '25025',
  CALMS_MAIL_WEB_PORT: '25080',
  CALMS_CONSOLE_PORT: '25081',
  CALMS_SSH_PORT: String(SSH_PORTS[0]),
  CALMS_AWS_ENDPOINT: 'http://127.0.0.1:25566',
  CALMS_API_URL: 'http://127.0.0.1:25000/local',
  CALMS_DOWNLOAD_URL: 'http://127.0.0.1:25000/local',
  CALMS_CLUSTER_NODES: SSH_PORTS.map((port) => `127.0.0.1:${port}`).join(','),
  // Long enough for a restart of the cloud under load to happen while the jobs run; a lease that outlasts one.
  CALMS_CASA_EMULATOR_SECONDS: '8',
  CALMS_STAGING_LEASE_SECONDS: '120',
  // Jobs of several seconds on a loaded machine must not reach the test cloud's 12 s limit.
  CALMS_CLUSTER_MAX_RUNTIME_SECONDS: '120',
};

export class FaultCloud {
  private cloud: SpawnedCloud | undefined;
  /** How many times the cloud has started. */
  starts = 0;

  constructor(private readonly overrides: Record<string, string> = {}) {}

  get outputFile(): string {
    return path.join(FAULT_STATE_DIR, 'local-cloud.out');
  }

  async start(keepState = false): Promise<void> {
    this.cloud = await spawnLocalCloud({ ...FAULT_CLOUD_ENV, ...this.overrides }, { keepState });
    this.starts += 1;
    Object.assign(process.env, this.cloud.env);
  }

  /** Stops it as Ctrl-C does, or kills it as a crash, and starts it again on the state it left. */
  async restart(how: 'stop' | 'kill'): Promise<void> {
    if (how === 'stop') await this.cloud?.stop({ keepJobs: true });
    else await this.cloud?.kill();
    await this.start(true);
  }

  async stop(): Promise<void> {
    await this.cloud?.stop();
    this.cloud = undefined;
  }
}

/**
 * The emails a request's ledger records (kind → its record's state and Message-ID, as S3SentMailLedger writes
 * it) and the Message-IDs MailDev caught for the request.
 */
export async function emailsOf(requestId: string): Promise<{ ledger: Record<string, { state: string; messageId: string }>; caught: string[] }> {
  const bucket = service().dataBucket;
  const prefix = `requests/${requestId}/sent/`;
  const listed = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const ledger: Record<string, { state: string; messageId: string }> = {};
  for (const object of listed.Contents ?? []) {
    const body = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
    ledger[object.Key!.slice(prefix.length)] = JSON.parse(await body.Body!.transformToString()) as { state: string; messageId: string };
  }
  const caught = (await mailsOf(requestId)).map((mail) => mail.headers['message-id']!).sort();
  return { ledger, caught };
}

/** Exactly one email of each kind: every kind the ledger records as sent was caught once, and nothing else was. */
export async function expectOneEmailOfEachKind(requestId: string, kinds: readonly string[]): Promise<void> {
  const { ledger, caught } = await emailsOf(requestId);
  expect(Object.keys(ledger).sort()).toEqual([...kinds].sort());
  expect(Object.values(ledger).map((record) => record.state)).toEqual(kinds.map(() => 'sent'));
  expect(caught).toEqual(
    Object.values(ledger)
      .map((record) => record.messageId)
      .sort(),
  );
}

/** What the requests left in the data bucket and on the S3 server that they should not have. */
export async function leftBehind(
  requests: readonly AcceptedRequest[],
): Promise<{ slots: string[]; queue: string[]; uploads: string[]; triggers: string[] }> {
  const bucket = service().dataBucket;
  const ids = new Set(requests.map((request) => request.requestId));
  let holders: { requestId: string }[] = [];
  try {
    const object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'slots/holders.json' }));
    holders = JSON.parse(await object.Body!.transformToString()) as { requestId: string }[];
  } catch {
    // no holders file: nobody holds a slot
  }
  const queued = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'slots/queue/' }));
  const uploadsDir = path.join(FAULT_STATE_DIR, 's3', bucket, '._S3rver_uploads');
  const triggers = [];
  for (const request of requests) if (await triggerExists(request.triggerName)) triggers.push(request.triggerName);
  return {
    slots: holders.map((holder) => holder.requestId).filter((id) => ids.has(id)),
    queue: (queued.Contents ?? []).map((object) => object.Key!).filter((key) => [...ids].some((id) => key.includes(id))),
    uploads: fs.existsSync(uploadsDir) ? fs.readdirSync(uploadsDir) : [],
    triggers,
  };
}

/** Stops (SIGSTOP) or resumes (SIGCONT) this cloud's MailDev: its SMTP port accepts connections but never greets. */
export function signalMailDev(signal: 'SIGSTOP' | 'SIGCONT'): number {
  const pids = fs.readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const commandLine = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      return commandLine.includes('maildev') && commandLine.includes(FAULT_STATE_DIR);
    } catch {
      return false;
    }
  });
  for (const pid of pids) process.kill(Number(pid), signal);
  return pids.length;
}

/**
 * The server side of `calms doctor` (`GET /doctor`): from where the functions run, whether the state machine
 * exists, the data bucket carries its lifecycle rules, the archive answers, the SMTP relay accepts a session and
 * every cluster node lets the cluster user in under its pinned host key. Each check has a time limit, so a dead
 * host is a failed line rather than a hung call; they run side by side.
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import type { Archive } from '../archive/Archive';
import type { ClusterLogin } from '../cluster/Cluster';
import { ClusterAuthenticationError, HostKeyMismatchError } from '../cluster/errors';
import { parseNode } from '../cluster/nodes';
import type { SmtpConfig, VariableName } from '../config';
import { type CheckResult, type DoctorReport, failed, passed } from '../domain/doctor';
import { boundedTimeoutMs } from '../invocation';
import type { Logger } from '../log';
import type { MailRelay } from '../mail/Mailer';
import { type BucketLifecycle, lifecycleDifferences } from '../storage/lifecycle';
import type { StateMachineLookup } from '../workflow/Workflow';
import { ok, type OperationResult } from './results';

/** Each check's limit: above the adapters' own connect timeouts (10 s), below API Gateway's 29 s. */
export const CHECK_TIMEOUT_MS = 15_000;

/** A MOUS no archive holds (no archive is numbered A000): looking it up tries the database and changes nothing. */
export const ABSENT_MOUS = 'uid___A000_X0_X0';

/** The settings that name the archive database and its password, for the fix hint. */
const ARCHIVE_SETTING: VariableName = 'CALMS_ARCHIVE_URL';
const ARCHIVE_PASSWORD_SETTING: VariableName = 'CALMS_ARCHIVE_PASSWORD_SECRET';

/** The cluster as the checks need it: its nodes, and logging in to one. */
export interface ClusterAccess {
  readonly nodes: readonly string[];
  readonly login: ClusterLogin;
}

export interface DoctorDeps {
  readonly stateMachineArn: string;
  readonly stateMachine: StateMachineLookup;
  readonly dataBucket: string;
  readonly bucket: BucketLifecycle;
  /** The rules serverless.yml and the local cloud give the bucket (lib/storage/lifecycle.ts). */
  readonly expectedLifecycleRules: readonly LifecycleRule[];
  readonly archive: Archive;
  readonly smtp: SmtpConfig;
  readonly mailRelay: MailRelay;
  /** Read when the checks run (the cluster key may come from Secrets Manager); a failure is the cluster's check. */
  readonly cluster: () => Promise<ClusterAccess>;
  readonly timeoutMs: number;
  readonly log: Logger;
}

/** One check: `run` answers what it found when all is well and throws otherwise; `fix` reads the failure. */
export interface Check {
  readonly name: string;
  run(): Promise<string>;
  fix(error: unknown): string;
}

/** `work`'s answer, or a rejection saying it gave none within `timeoutMs` (less when the invocation has less left). */
function withinLimit<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  const limitMs = boundedTimeoutMs(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(limitMs / 100) / 10} s`)), limitMs);
  });
  return Promise.race([Promise.resolve().then(work), timeout]).finally(() => clearTimeout(timer));
}

export async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  try {
    return passed(check.name, await withinLimit(() => check.run(), timeoutMs));
  } catch (error) {
    return failed(check.name, error instanceof Error ? error.message : String(error), check.fix(error));
  }
}

const stateMachineCheck = (deps: DoctorDeps): Check => ({
  name: 'state machine',
  async run() {
    const machine = await deps.stateMachine.stateMachine();
    if (!machine) throw new Error(`there is no state machine ${deps.stateMachineArn}`);
    if (machine.status !== 'ACTIVE') throw new Error(`${machine.name} is ${machine.status}`);
    return `${machine.name} exists (${machine.status})`;
  },
  fix: () =>
    'Deploy the stack (npx serverless deploy --stage <stage>), or set CALMS_STATE_MACHINE_ARN to its ARN and deploy again; functions in a VPC reach Step Functions through a VPC endpoint (states) or NAT.',
});

const lifecycleCheck = (deps: DoctorDeps): Check => ({
  name: `data bucket ${deps.dataBucket}`,
  async run() {
    const differences = lifecycleDifferences(deps.expectedLifecycleRules, await deps.bucket.rules());
    if (differences.length > 0) throw new Error(`its lifecycle rules differ: ${differences.join('; ')}`);
    return `carries the lifecycle rules ${deps.expectedLifecycleRules.map((rule) => rule.ID).join(' and ')}`;
  },
  fix: () =>
    'Deploy the stack again: its DataBucket declares both rules (serverless.yml), and a deployment puts back rules changed by hand (the local cloud applies them at start).',
});

const archiveCheck = (deps: DoctorDeps): Check => ({
  name: 'archive',
  async run() {
    await deps.archive.findMous(ABSENT_MOUS);
    return 'answers a lookup';
  },
  fix: () =>
    `Check ${ARCHIVE_SETTING} (and ${ARCHIVE_PASSWORD_SETTING} for PostgreSQL) and that the functions reach the archive database (VPC subnets, security group).`,
});

const smtpCheck = (deps: DoctorDeps): Check => ({
  name: `SMTP relay ${deps.smtp.host}:${deps.smtp.port}`,
  async run() {
    await deps.mailRelay.verify();
    return `accepts a session${deps.smtp.requireTls ? ' over STARTTLS' : ' (STARTTLS not required)'}${deps.smtp.credentialsSecret ? ' and the login' : ''}`;
  },
  fix: () =>
    'Check that the relay runs and the functions reach it (CALMS_SMTP_HOST, CALMS_SMTP_PORT, the security group); with CALMS_SMTP_REQUIRE_TLS=true it must offer STARTTLS with a trusted certificate; a refused login: the secret CALMS_SMTP_CREDENTIALS_SECRET names.',
});

const nodeCheck = (login: ClusterLogin, node: string): Check => ({
  name: `SSH ${node}`,
  async run() {
    await login.logIn(node);
    return 'lets the cluster user in, with the pinned host key';
  },
  fix: (error) => {
    const { host, port } = parseNode(node);
    if (error instanceof HostKeyMismatchError) {
      return `Pin the node's host key in CALMS_CLUSTER_KNOWN_HOSTS (ssh-keyscan -p ${port} ${host}, compared with the key on the node itself).`;
    }
    if (error instanceof ClusterAuthenticationError) {
      return "Add the cluster key's public half to ~/.ssh/authorized_keys of CALMS_CLUSTER_USER on the node (the key: the secret CALMS_CLUSTER_PRIVATE_KEY_SECRET names).";
    }
    return `Start the node or its sshd, or open the way to ${node} (CALMS_CLUSTER_NODES, the security group's outbound rules).`;
  },
});

/** The cluster's settings or key could not be read: one failed line in place of the nodes'. */
const clusterSettingsCheck = (reason: unknown): Check => ({
  name: 'cluster',
  run: () => Promise.reject(reason),
  fix: () => 'Fix the cluster settings the message names (CALMS_CLUSTER_*), or create the secret CALMS_CLUSTER_PRIVATE_KEY_SECRET names.',
});

/** The checks, in the order they are printed: the state machine, the bucket, the archive, mail, then each node. */
export async function doctorChecks(deps: DoctorDeps): Promise<Check[]> {
  const own = [stateMachineCheck(deps), lifecycleCheck(deps), archiveCheck(deps), smtpCheck(deps)];
  try {
    const { nodes, login } = await withinLimit(deps.cluster, deps.timeoutMs);
    return [...own, ...nodes.map((node) => nodeCheck(login, node))];
  } catch (error) {
    return [...own, clusterSettingsCheck(error)];
  }
}

export async function runDoctor(deps: DoctorDeps): Promise<OperationResult<DoctorReport>> {
  const checks = await Promise.all((await doctorChecks(deps)).map((check) => runCheck(check, deps.timeoutMs)));
  for (const check of checks) {
    if (!check.ok) deps.log.warn('doctor check failed', { check: check.name, detail: check.detail });
  }
  return ok({ checks });
}

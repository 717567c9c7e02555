/**
 * The one place CalMS reads its configuration.
 *
 * Every variable is declared once in {@link VARIABLES}: its scope says who reads it (the deployed service,
 * serverless.yml when packaging, or only the embedded local cloud and the CLI), `default` applies everywhere,
 * and `local` is the value the embedded local cloud uses when the variable is not set. A service variable with
 * neither is required: the Lambda fails at cold start naming it.
 */

import { type ArchiveLocation, ArchiveUrlError, parseArchiveUrl } from './archive/location';
import { CasaBuildTableError, parseCasaBuilds, type CasaBuildTable } from './cluster/casaBuilds';
import { SubmitMode } from './cluster/Cluster';
import { KnownHosts, KnownHostsError } from './cluster/knownHosts';
import { NodeAddressError, parseNodeList } from './cluster/nodes';
import { SHELL_VALUE_PATTERNS } from './cluster/shell';

/** service: the deployed Lambdas read it; deploy: only serverless.yml, when packaging; local: the local cloud and the CLI. */
export type Scope = 'service' | 'deploy' | 'local';

export interface Variable {
  readonly scope: Scope;
  readonly description: string;
  /** Used wherever the variable is unset or empty. */
  readonly default?: string;
  /** Used by the embedded local cloud (`npm start`, the test setup) when the variable is unset. */
  readonly local?: string;
}

export const VARIABLES = {
  CALMS_STAGE: { scope: 'service', default: 'local', description: 'Deployment stage; part of resource and execution names.' },
  CALMS_LOG_LEVEL: { scope: 'service', default: 'info', description: 'Lowest level of the log lines written: debug, info, warn or error.' },
  CALMS_DATA_BUCKET: { scope: 'service', local: 'calms-data', description: 'S3 bucket holding triggers, requests and deliveries.' },
  CALMS_STATE_MACHINE_ARN: {
    scope: 'service',
    local: 'arn:aws:states:us-east-1:000000000000:stateMachine:calms-local',
    description: 'ARN of the CalMS state machine that intake starts one execution of per MOUS.',
  },
  CALMS_AWS_ENDPOINT: {
    scope: 'service',
    local: 'http://127.0.0.1:4566',
    description: 'AWS API endpoint for S3 and Step Functions (LocalStack or the embedded cloud); empty on AWS.',
  },
  CALMS_SMTP_HOST: { scope: 'service', local: '127.0.0.1', description: 'SMTP relay that CalMS sends mail through.' },
  CALMS_SMTP_PORT: { scope: 'service', default: '25', local: '1025', description: 'SMTP relay port.' },
  CALMS_SMTP_REQUIRE_TLS: {
    scope: 'service',
    default: 'true',
    local: 'false',
    description: 'true: mail goes out only after STARTTLS, never in clear text; false only for a relay that cannot (MailDev locally).',
  },
  CALMS_SMTP_CREDENTIALS_SECRET: {
    scope: 'service',
    default: '',
    description:
      'Secrets Manager name or ARN of the SMTP login, JSON {"username": …, "password": …} (SES SMTP credentials, say), read at cold start; empty for a relay that takes mail without login.',
  },
  CALMS_MAIL_FROM: { scope: 'service', local: 'calms@alma.local', description: 'Sender address of every CalMS email.' },
  CALMS_AOG_EMAIL: { scope: 'service', local: 'aog@alma.local', description: 'AOG operators: receive requests, replies and user notifications.' },
  CALMS_MAINTAINER_EMAIL: {
    scope: 'service',
    local: 'calms-maintainer@alma.local',
    description: 'Maintainer of the calibration software: copied on requests, told of failures.',
  },
  CALMS_NOREPLY_EMAIL: {
    scope: 'service',
    local: 'no_reply_eu_data_delivery@alma.local',
    description: 'Reply-To address of the email that tells the user the data is ready.',
  },
  CALMS_ARCHIVE_URL: {
    scope: 'service',
    local: '.calms/archive.sqlite',
    description:
      'Where the archive (MOUS, projects, users, delegations) is: postgres://user@host:port/database[?sslmode=verify-full[&sslrootcert=<CA file>]] for PostgreSQL, or a SQLite file path (or sqlite:<path>), which the local cloud loads from the snapshot at start. Fill either with npm run archive:load.',
  },
  CALMS_ARCHIVE_PASSWORD_SECRET: {
    scope: 'service',
    default: '',
    description:
      'Secrets Manager name or ARN of the PostgreSQL password of CALMS_ARCHIVE_URL\'s user, JSON {"password": …} (the form of an RDS-managed secret), read at the first lookup; empty when the URL carries the password (local only) or the archive is SQLite.',
  },
  CALMS_VPC_SUBNET_IDS: {
    scope: 'deploy',
    default: '',
    description:
      'Subnets, comma-separated, of the VPC the functions that reach the cluster and the archive database run in (with CALMS_VPC_SECURITY_GROUP_IDS); empty: no VPC.',
  },
  CALMS_VPC_SECURITY_GROUP_IDS: {
    scope: 'deploy',
    default: '',
    description: 'Security groups, comma-separated, of those functions in that VPC; set together with CALMS_VPC_SUBNET_IDS.',
  },
  CALMS_RETENTION_DAYS: { scope: 'service', default: '28', description: 'Days a delivery stays downloadable before it is deleted.' },
  CALMS_DOWNLOAD_URL: {
    scope: 'service',
    local: 'http://127.0.0.1:3000/local',
    description: "Public base URL of the CalMS API; the user's email links to <this>/downloads/<token>.",
  },
  CALMS_DOWNLOAD_LINK_SECONDS: {
    scope: 'service',
    default: '3600',
    description: 'Lifetime of the presigned S3 URL a download link redirects to; each visit signs a new one.',
  },
  CALMS_STAGING_PART_MIB: {
    scope: 'service',
    default: '64',
    local: '8',
    description: "Size in MiB of each part of a tarball's multipart upload (at least 5; 10000 parts at most, so 64 MiB allows 625 GiB per MS).",
  },
  CALMS_STAGING_STEP_SECONDS: {
    scope: 'service',
    default: '600',
    description:
      'How long one staging invocation streams before it hands over to the next (which resumes from the last complete part); keep it well below the function timeout.',
  },
  CALMS_STAGING_PARTS_IN_FLIGHT: {
    scope: 'service',
    default: '4',
    description:
      'Parts of a tarball streamed from the cluster that upload to S3 at once while the next one fills; the staging function holds (this + 1) × CALMS_STAGING_PART_MIB of parts in memory.',
  },
  CALMS_STAGING_STALL_SECONDS: {
    scope: 'service',
    default: '120',
    description:
      'A tar stream from the cluster that sends no byte for this long is taken as stalled: the staging step fails as for a dropped connection, and its retry resumes after the last complete part.',
  },
  CALMS_STAGING_SLOTS: {
    scope: 'service',
    default: '2',
    description: 'How many requests may calibrate and stage on the cluster at once (the seed allows two stagecalms); the rest wait in arrival order.',
  },
  CALMS_STAGING_LEASE_SECONDS: {
    scope: 'service',
    default: '1800',
    local: '60',
    description:
      'A slot is held on a lease the holder renews at every step it takes (waiting for its job, checking it, staging); a holder silent this long (crashed) loses it, and one whose execution has ended loses it as soon as a waiting request looks. Keep it well above CALMS_WAIT_STEP_SECONDS.',
  },
  CALMS_STAGING_SLOT_WAIT_SECONDS: {
    scope: 'service',
    default: '5',
    local: '1',
    description:
      'How often a request waiting for a slot looks at the slots (one small read), within its waiting step: a freed slot is taken within this.',
  },
  CALMS_WAIT_STEP_SECONDS: {
    scope: 'service',
    default: '840',
    local: '20',
    description:
      'How long one waiting step (WaitForStagingSlot, WaitForCalibrationJob) waits inside its invocation before it hands over to the next; less when its function has less time left. Each step writes 7 history events: 840 s keeps 72 h of waiting for a slot and a 48 h job under 5,000.',
  },
  CALMS_STAGING_QUEUE_GRACE_SECONDS: {
    scope: 'service',
    default: '600',
    description:
      'A request joins the queue when it arrives and keeps its place while it is checked (entitlement, re-use); a place not claimed or renewed for this long is given up.',
  },
  CALMS_STAGING_COPY_LIMIT_MIB: {
    scope: 'service',
    default: '5120',
    description: 'A re-used tarball up to this size is copied with one CopyObject, a larger one part by part (UploadPartCopy).',
  },

  CALMS_CLUSTER_NODES: {
    scope: 'service',
    local: '127.0.0.1:2222,127.0.0.1:2223,127.0.0.1:2224',
    description: 'Cluster nodes CalMS may run calibrations on, as host:port, comma-separated.',
  },
  CALMS_CLUSTER_USER: { scope: 'service', local: 'arcproc', description: 'User CalMS logs in as on the cluster nodes.' },
  CALMS_CLUSTER_PRIVATE_KEY: {
    scope: 'service',
    default: '',
    description:
      'Unencrypted private key (OpenSSH or PEM text) of the cluster user; the local cloud generates one. On AWS leave it empty and set CALMS_CLUSTER_PRIVATE_KEY_SECRET, so the key stays out of the template.',
  },
  CALMS_CLUSTER_PRIVATE_KEY_SECRET: {
    scope: 'service',
    default: '',
    description: "Secrets Manager name or ARN of the cluster user's private key, read at cold start when CALMS_CLUSTER_PRIVATE_KEY is empty.",
  },
  CALMS_CLUSTER_KNOWN_HOSTS: {
    scope: 'service',
    description:
      'Pinned host keys of the nodes in known_hosts format ([host]:port for ports other than 22, hashed names allowed); any other host key is refused.',
  },
  CALMS_CLUSTER_WORK_ROOT: {
    scope: 'service',
    description: "Absolute directory on the cluster's shared filesystem under which each request gets its work directory.",
  },
  CALMS_CLUSTER_SUBMIT_MODE: {
    scope: 'service',
    default: 'detached',
    description: 'How a job is started on a node: detached (a background process) or sbatch (Slurm).',
  },
  CALMS_CLUSTER_CASA_BUILDS: {
    scope: 'service',
    default:
      '1-2=casa-4.2.2:rhel5,3=casa-4.5.3,4=casa-4.7.2,5=casa-5.1.1,6=casa-5.4.0,7=casa-5.6.1,8=casa-6.1.1,9=casa-6.4.1,10=casa-6.5.4,11-=casa-6.6.1',
    description:
      'CASA build per ALMA cycle (derived from the project code\'s year): cycles=build entries, comma-separated, cycles as N, N-M or N-; ":rhel5" marks an old build that runs on the RHEL5 machine.',
  },
  CALMS_CLUSTER_CASA_ROOT: {
    scope: 'service',
    default: '',
    description: "Directory on the nodes holding one <build>/bin/casa per CASA build; empty to run the casa on the node's PATH.",
  },
  CALMS_CLUSTER_RESTORE_SCRIPT: {
    scope: 'service',
    local: 'calms_restore.py',
    description:
      'CASA script on the nodes that restores a MOUS, run as: casa --nogui --nologger --pipeline -c <script> <MOUS> <output dir> [<fields>]. The local stand-in casa ignores it.',
  },
  CALMS_CLUSTER_CONNECT_TIMEOUT_SECONDS: {
    scope: 'service',
    default: '10',
    description: 'How long a node may take to accept an SSH connection (handshake included); a slower node is skipped.',
  },
  CALMS_CLUSTER_COMMAND_TIMEOUT_SECONDS: {
    scope: 'service',
    default: '120',
    description: 'How long one short cluster command (submit, status, log, cleanup) may take before the node counts as unreachable.',
  },
  CALMS_CLUSTER_POLL_SECONDS: {
    scope: 'service',
    default: '5',
    local: '2',
    description:
      "Seconds between two looks at a running calibration job, made on its node while WaitForCalibrationJob waits there for it to end: staging starts within this of the job's end.",
  },
  CALMS_CLUSTER_MAX_RUNTIME_SECONDS: {
    scope: 'service',
    default: '172800',
    local: '900',
    description: 'A calibration job still running after this long is declared failed.',
  },
  CALMS_SSH_PORT: { scope: 'local', default: '2222', description: 'First port of the emulated cluster; node i listens on this port + i.' },
  CALMS_SSH_NODE_COUNT: { scope: 'local', default: '3', description: 'Number of nodes the emulated cluster presents.' },
  CALMS_SSH_LOADS: {
    scope: 'local',
    default: '1.5,0.2,0.8',
    description: 'Load average each emulated node reports, comma-separated in node order; missing ones report 0.',
  },
  CALMS_CASA_EMULATOR_SECONDS: { scope: 'local', default: '5', description: 'How long the stand-in casa works before writing its MSs.' },
  CALMS_CASA_EMULATOR_BYTES: { scope: 'local', default: '1048576', description: 'Size in bytes of each MS the stand-in casa writes.' },
  CALMS_CASA_EMULATOR_CALIBRATOR_BYTES: {
    scope: 'local',
    default: '131072',
    description: 'Size in bytes of each MS the stand-in casa writes when only calibrator fields are kept.',
  },
  CALMS_CASA_EMULATOR_FAIL_MOUS: {
    scope: 'local',
    default: '',
    description: 'MOUS (comma-separated, either uid form) for which the stand-in casa fails; empty for none.',
  },
  CALMS_CASA_EMULATOR_FAIL_EXIT_CODE: { scope: 'local', default: '1', description: 'Exit status of an injected stand-in casa failure.' },
  CALMS_CASA_EMULATOR_HANG_MOUS: {
    scope: 'local',
    default: '',
    description: 'MOUS, comma-separated, for which the stand-in casa never finishes (to try the maximum runtime).',
  },

  CALMS_API_KEY: {
    scope: 'local',
    local: 'calms-local-key-0123456789abcdef',
    description: 'API key of the local API; the CLI sends it as x-api-key.',
  },
  CALMS_API_URL: { scope: 'local', default: 'http://127.0.0.1:3000/local', description: 'Base URL of the CalMS API, for the CLI.' },
  CALMS_ARC_CONTACT: {
    scope: 'local',
    default: '',
    description:
      'Your address as EU ARC contact, the default of calms request --arc-contact (also read from the CLI config file, ~/.config/calms/config).',
  },
  CALMS_API_PORT: { scope: 'local', default: '3000', description: 'Local API Gateway port (serverless-offline).' },
  CALMS_LAMBDA_PORT: { scope: 'local', default: '3002', description: 'Local Lambda invoke port (serverless-offline).' },
  CALMS_EDGE_PORT: { scope: 'local', default: '4566', description: 'Local AWS edge port: S3 and Step Functions, as LocalStack.' },
  CALMS_STEPFUNCTIONS_PORT: { scope: 'local', default: '4567', description: 'Port of the local Step Functions server behind the edge.' },
  CALMS_S3_PORT: { scope: 'local', default: '4568', description: 'Port of the local S3 server (s3rver) behind the edge.' },
  CALMS_MAIL_WEB_PORT: { scope: 'local', default: '1080', description: 'MailDev web UI and REST API port.' },
  CALMS_CONSOLE_PORT: {
    scope: 'local',
    default: '8080',
    description: 'Port of the console: a web page listing the executions, each with its graph, input and event history.',
  },
  CALMS_STEPFUNCTIONS_RETRY_SECONDS: {
    scope: 'local',
    default: '',
    description:
      "If set, every Retry in the local Step Functions server waits this many seconds (fractions allowed) instead of the definition's intervals; tests use it to exhaust retries meant to span half an hour.",
  },
  CALMS_LOCAL_LIFECYCLE_DAY_SECONDS: {
    scope: 'local',
    default: '86400',
    description: 'Length in seconds of one "day" of the local S3\'s lifecycle rules (shorter to watch deliveries expire).',
  },
  CALMS_BENCH_TRANSFER_GIB: {
    scope: 'local',
    default: '2',
    description:
      'Size in GiB (fractions allowed) of the MS `npm run bench -- transfer` compares; its peak-RSS runs use half and twice that, its simulated network a quarter (at least 8 parts).',
  },
  CALMS_BENCH_TRANSFER_ROUNDS: {
    scope: 'local',
    default: '5',
    description: 'Interleaved rounds of streamed, two-step and ceiling transfers `npm run bench -- transfer` runs; it reports their medians.',
  },
  CALMS_STATE_DIR: { scope: 'local', default: '.calms', description: 'Where the local cloud keeps S3 objects, executions and the archive.' },
  CALMS_ARCHIVE_SNAPSHOT: {
    scope: 'local',
    default: 'localstack/archive/snapshot.json',
    description: 'JSON snapshot the local archive database is loaded from at start.',
  },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** Raised at cold start when configuration is missing or malformed; names the variable. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: VariableName): string {
  const value = env[name]?.trim();
  if (value) return value;
  const fallback = (VARIABLES[name] as Variable).default;
  if (fallback !== undefined) return fallback;
  throw new ConfigurationError(`${name} is not set (${VARIABLES[name].description})`);
}

function readInteger(env: Env, name: VariableName, min: number): number {
  const text = read(env, name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`${name} must be a whole number of at least ${min}, got "${text}"`);
  }
  return value;
}

function readBoolean(env: Env, name: VariableName): boolean {
  const text = read(env, name).toLowerCase();
  if (text !== 'true' && text !== 'false') throw new ConfigurationError(`${name} must be true or false, got "${text}"`);
  return text === 'true';
}

/** The readers of this module, for the local cloud's own settings (localstack/config.ts). */
export { read as readVariable, readInteger as readIntegerVariable };

function readOptional(env: Env, name: VariableName): string | undefined {
  return env[name]?.trim() || undefined;
}

export interface ServiceConfig {
  readonly stage: string;
  readonly dataBucket: string;
  readonly stateMachineArn: string;
  /** Set for LocalStack, the embedded cloud and Ceph; undefined on AWS. */
  readonly awsEndpoint?: string;
  readonly smtp: SmtpConfig;
  readonly mail: {
    readonly from: string;
    readonly aog: string;
    readonly maintainer: string;
    readonly noReply: string;
  };
  readonly archive: ArchiveSettings;
  readonly retentionDays: number;
  readonly downloads: {
    readonly baseUrl: string;
    readonly linkSeconds: number;
  };
  readonly staging: {
    readonly partBytes: number;
    readonly partsInFlight: number;
    readonly stallSeconds: number;
    readonly stepSeconds: number;
    readonly copyLimitBytes: number;
  };
  readonly slots: SlotSettings;
}

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly requireTls: boolean;
  /** Where the login is kept; undefined: the relay takes mail without one. */
  readonly credentialsSecret?: string;
}

export interface ArchiveSettings {
  readonly location: ArchiveLocation;
  /** Where the PostgreSQL password is kept; undefined: in the URL, or none needed. */
  readonly passwordSecret?: string;
}

export interface SlotSettings {
  readonly count: number;
  readonly leaseSeconds: number;
  /** Between two looks at the slots while waiting. */
  readonly waitSeconds: number;
  readonly queueGraceSeconds: number;
  /** One waiting step, for a slot or for a job's end (CALMS_WAIT_STEP_SECONDS). */
  readonly stepSeconds: number;
}

const MIB = 1024 * 1024;

/** Where the archive is, read apart so that `npm run archive:load` needs nothing else. */
export function archiveConfig(env: Env = process.env): ArchiveSettings {
  let location: ArchiveLocation;
  try {
    location = parseArchiveUrl(read(env, 'CALMS_ARCHIVE_URL'));
  } catch (error) {
    if (error instanceof ArchiveUrlError) throw new ConfigurationError(`CALMS_ARCHIVE_URL ${error.message}`);
    throw error;
  }
  const passwordSecret = readOptional(env, 'CALMS_ARCHIVE_PASSWORD_SECRET');
  if (passwordSecret && location.dialect !== 'postgres') {
    throw new ConfigurationError('CALMS_ARCHIVE_PASSWORD_SECRET is set, but CALMS_ARCHIVE_URL names a SQLite file, which has no password');
  }
  // Two passwords would leave it unclear which one the archive takes.
  if (passwordSecret && location.dialect === 'postgres' && location.password !== undefined) {
    throw new ConfigurationError('CALMS_ARCHIVE_URL has a password and CALMS_ARCHIVE_PASSWORD_SECRET is set: keep the password in the secret only');
  }
  return { location, ...(passwordSecret ? { passwordSecret } : {}) };
}

export function serviceConfig(env: Env = process.env): ServiceConfig {
  return {
    stage: read(env, 'CALMS_STAGE'),
    dataBucket: read(env, 'CALMS_DATA_BUCKET'),
    stateMachineArn: read(env, 'CALMS_STATE_MACHINE_ARN'),
    awsEndpoint: readOptional(env, 'CALMS_AWS_ENDPOINT'),
    smtp: {
      host: read(env, 'CALMS_SMTP_HOST'),
      port: readInteger(env, 'CALMS_SMTP_PORT', 1),
      requireTls: readBoolean(env, 'CALMS_SMTP_REQUIRE_TLS'),
      credentialsSecret: readOptional(env, 'CALMS_SMTP_CREDENTIALS_SECRET'),
    },
    mail: {
      from: read(env, 'CALMS_MAIL_FROM'),
      aog: read(env, 'CALMS_AOG_EMAIL'),
      maintainer: read(env, 'CALMS_MAINTAINER_EMAIL'),
      noReply: read(env, 'CALMS_NOREPLY_EMAIL'),
    },
    archive: archiveConfig(env),
    retentionDays: readInteger(env, 'CALMS_RETENTION_DAYS', 1),
    downloads: {
      baseUrl: read(env, 'CALMS_DOWNLOAD_URL').replace(/\/+$/, ''),
      linkSeconds: readInteger(env, 'CALMS_DOWNLOAD_LINK_SECONDS', 1),
    },
    staging: {
      partBytes: MIB * readInteger(env, 'CALMS_STAGING_PART_MIB', 5),
      partsInFlight: readInteger(env, 'CALMS_STAGING_PARTS_IN_FLIGHT', 1),
      stallSeconds: readInteger(env, 'CALMS_STAGING_STALL_SECONDS', 1),
      stepSeconds: readInteger(env, 'CALMS_STAGING_STEP_SECONDS', 0),
      copyLimitBytes: MIB * readInteger(env, 'CALMS_STAGING_COPY_LIMIT_MIB', 5),
    },
    slots: slotSettings(env),
  };
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The lowest level the logger writes; read on its own because the logger exists before the rest is read. */
export function logLevel(env: Env = process.env): LogLevel {
  const text = read(env, 'CALMS_LOG_LEVEL').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new ConfigurationError(`CALMS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${text}"`);
  }
  return text as LogLevel;
}

function slotSettings(env: Env): SlotSettings {
  const settings = {
    count: readInteger(env, 'CALMS_STAGING_SLOTS', 1),
    leaseSeconds: readInteger(env, 'CALMS_STAGING_LEASE_SECONDS', 1),
    waitSeconds: readInteger(env, 'CALMS_STAGING_SLOT_WAIT_SECONDS', 1),
    queueGraceSeconds: readInteger(env, 'CALMS_STAGING_QUEUE_GRACE_SECONDS', 1),
    stepSeconds: readInteger(env, 'CALMS_WAIT_STEP_SECONDS', 1),
  };
  // A holder renews its lease once per waiting step: a longer step would lose the slot to the next request.
  if (settings.stepSeconds >= settings.leaseSeconds) {
    throw new ConfigurationError(
      `CALMS_WAIT_STEP_SECONDS (${settings.stepSeconds}) must be shorter than CALMS_STAGING_LEASE_SECONDS (${settings.leaseSeconds}): a slot's holder renews its lease once per waiting step`,
    );
  }
  return settings;
}

let cached: ServiceConfig | undefined;

/** The service configuration of this process, read once (handlers call it at module scope). */
export function config(): ServiceConfig {
  cached ??= serviceConfig();
  return cached;
}

/** LocalStack's customary credentials: the local cloud accepts any, but the SDK wants some, and a region. */
const LOCAL_AWS_SETTINGS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

/**
 * The environment the embedded local cloud runs with: the caller's variables, and the `local` value of
 * every variable the caller left unset.
 */
export function localEnvironment(env: Env = process.env): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  for (const [name, variable] of Object.entries(VARIABLES) as [VariableName, Variable][]) {
    if (!env[name]?.trim() && variable.local !== undefined) result[name] = variable.local;
  }
  for (const [name, value] of Object.entries(LOCAL_AWS_SETTINGS)) result[name] ??= value;
  return result;
}

export interface CliConfig {
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Undefined when not set: `calms request` then needs --arc-contact. */
  readonly arcContact?: string;
}

export function cliConfig(env: Env = process.env): CliConfig {
  const local = localEnvironment(env);
  const arcContact = read(local, 'CALMS_ARC_CONTACT');
  return { apiUrl: read(local, 'CALMS_API_URL').replace(/\/+$/, ''), apiKey: read(local, 'CALMS_API_KEY'), ...(arcContact ? { arcContact } : {}) };
}

/** What the cluster-facing functions need: the SSH adapter's settings and the state machine's polling. */
export interface ClusterConfig {
  /** Canonical `host:port` names. */
  readonly nodes: readonly string[];
  readonly user: string;
  readonly privateKey: PrivateKeySource;
  readonly knownHosts: KnownHosts;
  readonly workRoot: string;
  readonly submitMode: SubmitMode;
  readonly casaBuilds: CasaBuildTable;
  /** Undefined: the `casa` on the node's PATH. */
  readonly casaRoot?: string;
  readonly restoreScript: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly pollSeconds: number;
  readonly maxRuntimeSeconds: number;
}

/** The key itself (local, tests), or where in Secrets Manager to read it (AWS). */
export type PrivateKeySource = { readonly key: string } | { readonly secretId: string };

function privateKeySource(env: Env): PrivateKeySource {
  const key = read(env, 'CALMS_CLUSTER_PRIVATE_KEY');
  if (key) return { key };
  const secretId = read(env, 'CALMS_CLUSTER_PRIVATE_KEY_SECRET');
  if (secretId) return { secretId };
  throw new ConfigurationError("CALMS_CLUSTER_PRIVATE_KEY or CALMS_CLUSTER_PRIVATE_KEY_SECRET must be set: the cluster user's key, or its secret");
}

/**
 * The cluster settings, read apart from {@link serviceConfig} because only the cluster-facing Lambdas need
 * them (and only they get the key). Parses the node list, host keys and CASA table, so a mistake fails at
 * cold start naming the variable.
 */
export function clusterConfig(env: Env = process.env): ClusterConfig {
  const parsed = <T>(name: VariableName, parse: (text: string) => T): T => {
    try {
      return parse(read(env, name));
    } catch (error) {
      if (error instanceof CasaBuildTableError || error instanceof KnownHostsError || error instanceof NodeAddressError) {
        throw new ConfigurationError(`${name}: ${error.message}`);
      }
      throw error;
    }
  };
  const matching = (name: VariableName, pattern: RegExp, expected: string): string => {
    const value = read(env, name);
    if (!pattern.test(value)) throw new ConfigurationError(`${name} must be ${expected}, got "${value}"`);
    return value;
  };
  const submitModes = Object.values(SubmitMode) as string[];
  const casaRoot = read(env, 'CALMS_CLUSTER_CASA_ROOT');
  return {
    nodes: parsed('CALMS_CLUSTER_NODES', parseNodeList),
    user: matching('CALMS_CLUSTER_USER', /^[a-z_][a-z0-9_.-]{0,31}$/i, 'a user name'),
    privateKey: privateKeySource(env),
    knownHosts: parsed('CALMS_CLUSTER_KNOWN_HOSTS', (text) => KnownHosts.parse(text)),
    workRoot: matching('CALMS_CLUSTER_WORK_ROOT', SHELL_VALUE_PATTERNS.absolutePath, 'an absolute path without . or .. segments'),
    submitMode: matching('CALMS_CLUSTER_SUBMIT_MODE', new RegExp(`^(?:${submitModes.join('|')})$`), submitModes.join(' or ')) as SubmitMode,
    casaBuilds: parsed('CALMS_CLUSTER_CASA_BUILDS', parseCasaBuilds),
    casaRoot: casaRoot === '' ? undefined : matching('CALMS_CLUSTER_CASA_ROOT', SHELL_VALUE_PATTERNS.absolutePath, 'empty or an absolute path'),
    restoreScript: matching('CALMS_CLUSTER_RESTORE_SCRIPT', SHELL_VALUE_PATTERNS.command, 'an absolute path or a file name'),
    connectTimeoutMs: 1000 * readInteger(env, 'CALMS_CLUSTER_CONNECT_TIMEOUT_SECONDS', 1),
    commandTimeoutMs: 1000 * readInteger(env, 'CALMS_CLUSTER_COMMAND_TIMEOUT_SECONDS', 1),
    pollSeconds: readInteger(env, 'CALMS_CLUSTER_POLL_SECONDS', 1),
    maxRuntimeSeconds: readInteger(env, 'CALMS_CLUSTER_MAX_RUNTIME_SECONDS', 1),
  };
}

/**
 * The one place CalMS reads its configuration.
 *
 * Every variable is declared once in {@link VARIABLES}: its scope says who reads it (the deployed service,
 * or only the embedded local cloud and the CLI), `default` applies everywhere, and `local` is the value the
 * embedded local cloud uses when the variable is not set. A service variable with neither is required: the
 * Lambda fails at cold start naming it.
 */

export type Scope = 'service' | 'local';

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
  CALMS_ARCHIVE_DB: {
    scope: 'service',
    local: '.calms/archive.sqlite',
    description: 'SQLite file of the archive (MOUS, projects, users, delegations); the local cloud loads it from the snapshot.',
  },
  CALMS_RETENTION_DAYS: { scope: 'service', default: '28', description: 'Days a delivery stays downloadable before it is deleted.' },

  CALMS_API_KEY: {
    scope: 'local',
    local: 'calms-local-key-0123456789abcdef',
    description: 'API key of the local API; the CLI sends it as x-api-key.',
  },
  CALMS_API_URL: { scope: 'local', default: 'http://127.0.0.1:3000/local', description: 'Base URL of the CalMS API, for the CLI.' },
  CALMS_API_PORT: { scope: 'local', default: '3000', description: 'Local API Gateway port (serverless-offline).' },
  CALMS_LAMBDA_PORT: { scope: 'local', default: '3002', description: 'Local Lambda invoke port (serverless-offline).' },
  CALMS_EDGE_PORT: { scope: 'local', default: '4566', description: 'Local AWS edge port: S3 and Step Functions, as LocalStack.' },
  CALMS_STEPFUNCTIONS_PORT: { scope: 'local', default: '4567', description: 'Port of the local Step Functions server behind the edge.' },
  CALMS_S3_PORT: { scope: 'local', default: '4568', description: 'Port of the local S3 server (s3rver) behind the edge.' },
  CALMS_MAIL_WEB_PORT: { scope: 'local', default: '1080', description: 'MailDev web UI and REST API port.' },
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

type Env = Readonly<Record<string, string | undefined>>;

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

function readOptional(env: Env, name: VariableName): string | undefined {
  return env[name]?.trim() || undefined;
}

export interface ServiceConfig {
  readonly stage: string;
  readonly dataBucket: string;
  readonly stateMachineArn: string;
  /** Set for LocalStack, the embedded cloud and Ceph; undefined on AWS. */
  readonly awsEndpoint?: string;
  readonly smtp: { readonly host: string; readonly port: number };
  readonly mail: {
    readonly from: string;
    readonly aog: string;
    readonly maintainer: string;
    readonly noReply: string;
  };
  readonly archiveDb: string;
  readonly retentionDays: number;
}

export function serviceConfig(env: Env = process.env): ServiceConfig {
  return {
    stage: read(env, 'CALMS_STAGE'),
    dataBucket: read(env, 'CALMS_DATA_BUCKET'),
    stateMachineArn: read(env, 'CALMS_STATE_MACHINE_ARN'),
    awsEndpoint: readOptional(env, 'CALMS_AWS_ENDPOINT'),
    smtp: { host: read(env, 'CALMS_SMTP_HOST'), port: readInteger(env, 'CALMS_SMTP_PORT', 1) },
    mail: {
      from: read(env, 'CALMS_MAIL_FROM'),
      aog: read(env, 'CALMS_AOG_EMAIL'),
      maintainer: read(env, 'CALMS_MAINTAINER_EMAIL'),
      noReply: read(env, 'CALMS_NOREPLY_EMAIL'),
    },
    archiveDb: read(env, 'CALMS_ARCHIVE_DB'),
    retentionDays: readInteger(env, 'CALMS_RETENTION_DAYS', 1),
  };
}

let cached: ServiceConfig | undefined;

/** The service configuration of this process, read once (handlers call it at module scope). */
export function config(): ServiceConfig {
  cached ??= serviceConfig();
  return cached;
}

export interface LocalCloudConfig {
  readonly apiKey: string;
  readonly ports: {
    readonly api: number;
    readonly lambda: number;
    readonly edge: number;
    readonly stepFunctions: number;
    readonly s3: number;
    readonly smtp: number;
    readonly mailWeb: number;
  };
  readonly stateDir: string;
  readonly archiveSnapshot: string;
}

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
  return result;
}

export function localCloudConfig(env: Env = localEnvironment()): LocalCloudConfig {
  return {
    apiKey: read(env, 'CALMS_API_KEY'),
    ports: {
      api: readInteger(env, 'CALMS_API_PORT', 1),
      lambda: readInteger(env, 'CALMS_LAMBDA_PORT', 1),
      edge: readInteger(env, 'CALMS_EDGE_PORT', 1),
      stepFunctions: readInteger(env, 'CALMS_STEPFUNCTIONS_PORT', 1),
      s3: readInteger(env, 'CALMS_S3_PORT', 1),
      smtp: readInteger(env, 'CALMS_SMTP_PORT', 1),
      mailWeb: readInteger(env, 'CALMS_MAIL_WEB_PORT', 1),
    },
    stateDir: read(env, 'CALMS_STATE_DIR'),
    archiveSnapshot: read(env, 'CALMS_ARCHIVE_SNAPSHOT'),
  };
}

export interface CliConfig {
  readonly apiUrl: string;
  readonly apiKey: string;
}

export function cliConfig(env: Env = process.env): CliConfig {
  const local = localEnvironment(env);
  return { apiUrl: read(local, 'CALMS_API_URL').replace(/\/+$/, ''), apiKey: read(local, 'CALMS_API_KEY') };
}

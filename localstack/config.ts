/**
 * The embedded local cloud's own settings: its ports, state directory and archive snapshot. They are declared
 * with every other variable in lib/config.ts (so .env.example and the README list them), but only the local
 * cloud, its tests and the benchmarks read them.
 */
import { ConfigurationError, type Env, localEnvironment, readIntegerVariable as readInteger, readVariable as read } from '../lib/config';

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
    readonly console: number;
  };
  readonly stateDir: string;
  readonly archiveSnapshot: string;
  /** Undefined: the definition's retry intervals. */
  readonly retryIntervalMs?: number;
  /** One "day" of the local S3's lifecycle rules. */
  readonly lifecycleDaySeconds: number;
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
      console: readInteger(env, 'CALMS_CONSOLE_PORT', 1),
    },
    stateDir: read(env, 'CALMS_STATE_DIR'),
    archiveSnapshot: read(env, 'CALMS_ARCHIVE_SNAPSHOT'),
    retryIntervalMs: retryIntervalMs(env),
    lifecycleDaySeconds: readInteger(env, 'CALMS_LOCAL_LIFECYCLE_DAY_SECONDS', 1),
  };
}

function retryIntervalMs(env: Env): number | undefined {
  const text = read(env, 'CALMS_STEPFUNCTIONS_RETRY_SECONDS');
  if (text === '') return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ConfigurationError(`CALMS_STEPFUNCTIONS_RETRY_SECONDS must be a number of seconds of at least 0, got "${text}"`);
  }
  return seconds * 1000;
}

/**
 * One structured logger for every function: one JSON line per event, with the keys that let one grep
 * follow a request (request id, ticket, MOUS) through intake, the state machine and every adapter.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type LogLevel as Level, logLevel } from './config';

export type LogKeys = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, extra?: LogKeys): void;
  info(message: string, extra?: LogKeys): void;
  warn(message: string, extra?: LogKeys): void;
  error(message: string, extra?: LogKeys): void;
  /** A logger whose every line also carries `keys`. */
  with(keys: LogKeys): Logger;
}

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The keys of the invocation in progress, for every line written meanwhile, the adapters' too (they are built
 * once per container and know no request). Per async context, not global: serverless-offline serves several
 * invocations in one process at once, and each line must carry its own request's keys.
 */
const invocationKeys = new AsyncLocalStorage<LogKeys>();

/** Runs `work` with `keys` on every log line written during it, by any logger. */
export function withLogKeys<T>(keys: LogKeys, work: () => T): T {
  return invocationKeys.run({ ...invocationKeys.getStore(), ...keys }, work);
}

function describeError(error: unknown): LogKeys {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorMessage: String(error) };
}

export function createLogger(
  keys: LogKeys = {},
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  minimum: Level = logLevel(),
): Logger {
  /** An `error` key is expanded into its name and message; stacks and causes stay out of the logs. */
  const emit = (level: Level, message: string, extra: LogKeys = {}) => {
    if (LEVELS[level] < LEVELS[minimum]) return;
    const { error, ...rest } = extra;
    const fields = error === undefined ? rest : { ...rest, ...describeError(error) };
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...keys, ...invocationKeys.getStore(), ...fields }));
  };
  return {
    debug: (message, extra) => emit('debug', message, extra),
    info: (message, extra) => emit('info', message, extra),
    warn: (message, extra) => emit('warn', message, extra),
    error: (message, extra) => emit('error', message, extra),
    with: (more) => createLogger({ ...keys, ...more }, write, minimum),
  };
}

export const logger = createLogger({ service: 'calms' });

import type { Logger, LogKeys } from '../../../lib/log';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  /** The keys of the logger (`with`) and of the call, merged. */
  readonly keys: LogKeys;
}

/** A `Logger` that keeps its lines in memory instead of printing them. */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly keys: LogKeys = {},
  ) {}

  debug(message: string, extra?: LogKeys): void {
    this.push('debug', message, extra);
  }

  info(message: string, extra?: LogKeys): void {
    this.push('info', message, extra);
  }

  warn(message: string, extra?: LogKeys): void {
    this.push('warn', message, extra);
  }

  error(message: string, extra?: LogKeys): void {
    this.push('error', message, extra);
  }

  /** Shares the line list with its parent, so a test sees the lines of every derived logger. */
  with(keys: LogKeys): Logger {
    return new RecordingLogger(this.lines, { ...this.keys, ...keys });
  }

  messages(level?: LogLine['level']): string[] {
    return this.lines.filter((line) => level === undefined || line.level === level).map((line) => line.message);
  }

  private push(level: LogLine['level'], message: string, extra: LogKeys = {}): void {
    this.lines.push({ level, message, keys: { ...this.keys, ...extra } });
  }
}

/**
 * Keeps state machines, executions and their histories as JSON files, so they outlive the server:
 *
 *   <root>/state-machines/<state machine>.json
 *   <root>/executions/<state machine>/<execution>.json
 *   <root>/histories/<state machine>/<execution>.json
 *   <root>/definitions/<SHA-256 of the text>.json   (the definition each execution runs, to resume it)
 *
 * Every file is replaced whole through a temporary file and a rename, so a crash leaves the old or the new
 * version, never half of one.
 */

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HistoryEvent } from './history';

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Dates are epoch seconds, as the API sends them. */
export interface StateMachineRecord {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly type: string;
  readonly creationDate: number;
  readonly updateDate?: number;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: number;
  readonly stopDate?: number;
  /** The definition it runs (see FileStore.saveDefinition), as a state machine updated since may differ. */
  readonly definitionSha256?: string;
}

const JSON_FILE = /^[^.].*\.json$/;

/**
 * Writes whole files atomically, one at a time per path. While one write of a path is under way, later
 * writes of it collapse into one that renders the newest content: a busy history is serialised once per
 * disk write, not once per event.
 */
class AtomicFiles {
  /** Content waiting for the disk per path; null removes the file. */
  private readonly waiting = new Map<string, (() => string) | null>();
  private readonly lastWrite = new Map<string, Promise<void>>();
  private temporaryCount = 0;

  write(path: string, render: (() => string) | null): Promise<void> {
    const alreadyQueued = this.waiting.has(path);
    this.waiting.set(path, render);
    if (alreadyQueued) return this.lastWrite.get(path) as Promise<void>;
    const previous = this.lastWrite.get(path) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => {
        const content = this.waiting.get(path);
        this.waiting.delete(path);
        return content === null || content === undefined ? rm(path, { force: true }) : this.replace(path, content());
      });
    this.lastWrite.set(path, next);
    const forget = () => {
      if (this.lastWrite.get(path) === next) this.lastWrite.delete(path);
    };
    next.then(forget, forget);
    return next;
  }

  /** The file as last written, waiting for a write of it under way. */
  async read(path: string): Promise<string> {
    await this.lastWrite.get(path)?.catch(() => undefined);
    return readFile(path, 'utf8');
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.lastWrite.values()]);
  }

  private async replace(path: string, content: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    this.temporaryCount += 1;
    const temporary = join(dirname(path), `.${process.pid}-${this.temporaryCount}.tmp`);
    await writeFile(temporary, content);
    await rename(temporary, path);
  }
}

export class FileStore {
  private readonly files = new AtomicFiles();
  /** Definitions written by this store: the same text is written once per server, not once per execution. */
  private readonly savedDefinitions = new Set<string>();

  constructor(private readonly root: string) {}

  async loadStateMachines(): Promise<StateMachineRecord[]> {
    return this.readAll<StateMachineRecord>(join(this.root, 'state-machines'));
  }

  async loadExecutions(): Promise<ExecutionRecord[]> {
    const directory = join(this.root, 'executions');
    const stateMachines = await readdir(directory, { withFileTypes: true }).catch(() => []);
    const perStateMachine = stateMachines
      .filter((entry) => entry.isDirectory())
      .map((entry) => this.readAll<ExecutionRecord>(join(directory, entry.name)));
    return (await Promise.all(perStateMachine)).flat();
  }

  saveStateMachine(record: StateMachineRecord): Promise<void> {
    return this.files.write(this.stateMachinePath(record.name), () => JSON.stringify(record, null, 2));
  }

  removeStateMachine(name: string): Promise<void> {
    return this.files.write(this.stateMachinePath(name), null);
  }

  saveExecution(stateMachineName: string, record: ExecutionRecord): Promise<void> {
    return this.files.write(this.executionPath(stateMachineName, record.name), () => JSON.stringify(record, null, 2));
  }

  async readExecution(stateMachineName: string, executionName: string): Promise<ExecutionRecord> {
    return JSON.parse(await this.files.read(this.executionPath(stateMachineName, executionName))) as ExecutionRecord;
  }

  /** `events` is read when the write happens, so pass the live array. */
  saveHistory(stateMachineName: string, executionName: string, events: readonly HistoryEvent[]): Promise<void> {
    return this.files.write(this.historyPath(stateMachineName, executionName), () => JSON.stringify(events));
  }

  /** The saved history; empty when none was saved. */
  async readHistory(stateMachineName: string, executionName: string): Promise<HistoryEvent[]> {
    try {
      return JSON.parse(await this.files.read(this.historyPath(stateMachineName, executionName))) as HistoryEvent[];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Keeps a definition by the SHA-256 of its text, which it returns; writing the same text again is a no-op. */
  async saveDefinition(definition: string): Promise<string> {
    const sha256 = createHash('sha256').update(definition).digest('hex');
    if (!this.savedDefinitions.has(sha256)) {
      await this.files.write(this.definitionPath(sha256), () => definition);
      this.savedDefinitions.add(sha256);
    }
    return sha256;
  }

  readDefinition(sha256: string): Promise<string> {
    return this.files.read(this.definitionPath(sha256));
  }

  /** Resolves once every write asked for so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.files.flush();
  }

  private stateMachinePath(name: string): string {
    return join(this.root, 'state-machines', `${name}.json`);
  }

  private executionPath(stateMachineName: string, executionName: string): string {
    return join(this.root, 'executions', stateMachineName, `${executionName}.json`);
  }

  private historyPath(stateMachineName: string, executionName: string): string {
    return join(this.root, 'histories', stateMachineName, `${executionName}.json`);
  }

  private definitionPath(sha256: string): string {
    return join(this.root, 'definitions', `${sha256}.json`);
  }

  private async readAll<T>(directory: string): Promise<T[]> {
    const names = await readdir(directory).catch(() => []);
    const reads = names
      .filter((name) => JSON_FILE.test(name))
      .map(async (name) => {
        const path = join(directory, name);
        try {
          return JSON.parse(await readFile(path, 'utf8')) as T;
        } catch (error) {
          throw new Error(`Cannot read ${path}: ${(error as Error).message}`);
        }
      });
    return Promise.all(reads);
  }
}

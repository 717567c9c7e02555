/**
 * Runs the local cloud as a child process through `localstack/start.ts`, the entry point of `npm start`, for
 * the integration tests and the benchmarks. Each gives it ports and a state directory of its own, so that a
 * developer's `npm start` keeps running beside them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { localEnvironment, VARIABLES } from '../lib/config';
import { type LocalCloudConfig, localCloudConfig } from './config';
import { answersOn, READY_LINE } from './cloud';
import { stopEmulatedJobs } from './cluster/emulatedCluster';

const ROOT = path.resolve(__dirname, '..');
const READY_TIMEOUT_MS = 120_000;
/** start.ts stops its servers and children on SIGTERM; one that has not exited after this long is killed. */
const STOP_GRACE_MS = 15_000;

export interface SpawnedCloud {
  /** Every setting the cloud runs with, defaults resolved: `lib/config.ts` reads its endpoints and API key from it. */
  readonly env: Readonly<Record<string, string>>;
  /** The cloud's stdout and stderr; each server's own log is in `logs/` beside it. */
  readonly outputFile: string;
  /**
   * Stops the cloud as Ctrl-C does and ends the calibration jobs its cluster started, which would outlive it
   * (with `keepJobs`, they go on, for a cloud started again on the same state); resolves once all have exited.
   */
  stop(options?: { readonly keepJobs?: boolean }): Promise<void>;
  /** `kill -9` of the cloud's process, as a crash; resolves once its servers have let go of their ports. Jobs go on. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  /** Aborting it before the cloud is ready stops it. */
  readonly signal?: AbortSignal;
  /** Start on the state an earlier cloud left in the state directory (a restart), instead of emptying it. */
  readonly keepState?: boolean;
}

/**
 * Starts the local cloud with `overrides` on top of this process's environment and resolves once it prints
 * {@link READY_LINE}. The state directory (`CALMS_STATE_DIR`) is emptied first unless `keepState`, so that a
 * run never inherits the claims, executions and mails of an earlier one.
 */
export async function spawnLocalCloud(overrides: Record<string, string>, { signal, keepState = false }: SpawnOptions = {}): Promise<SpawnedCloud> {
  const env = localEnvironment({ ...process.env, ...overrides });
  const stateDir = path.resolve(ROOT, localCloudConfig(env).stateDir);
  if (stateDir === path.resolve(ROOT, VARIABLES.CALMS_STATE_DIR.default)) {
    throw new Error(`refusing to empty ${stateDir}, the state of \`npm start\`: set CALMS_STATE_DIR to a directory of its own`);
  }
  // Another run on these ports is using this state directory too: emptying it would break that run.
  const { api } = localCloudConfig(env).ports;
  if (await answersOn(api)) {
    throw new Error(`port ${api} already answers: another local cloud (a test run or a benchmark?) uses it and ${stateDir}; stop it first`);
  }
  if (!keepState) {
    // Jobs of an earlier run would write into the new one's work directories.
    stopEmulatedJobs(stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  fs.mkdirSync(stateDir, { recursive: true });
  const outputFile = path.join(stateDir, 'local-cloud.out');

  const output = fs.openSync(outputFile, 'a');
  // tsx as a loader rather than its CLI: the CLI relays SIGTERM to the node process it starts and SIGKILLs it
  // unless it acknowledges within 60 ms, which a busy start.ts misses, and its servers are then left running.
  // detached: a process group of its own, which stop() signals as a whole; Ctrl-C in a terminal reaches only
  // the spawner, which stops the cloud in turn.
  const child = spawn(process.execPath, ['--import', 'tsx', 'localstack/start.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', output],
  });
  fs.closeSync(output);
  const stop = async (options?: { readonly keepJobs?: boolean }) => {
    await stopProcessGroup(child);
    if (!options?.keepJobs) stopEmulatedJobs(stateDir);
  };
  const kill = async () => {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await untilPortsFree(localCloudConfig(env));
  };
  try {
    await untilReady(child, outputFile, signal);
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, outputFile, stop, kill };
}

/** The servers of a killed cloud end themselves once they see it gone (within a second): waits for that. */
async function untilPortsFree({ ports }: LocalCloudConfig): Promise<void> {
  const deadline = Date.now() + STOP_GRACE_MS;
  for (;;) {
    const answering = await Promise.all(Object.values(ports).map(answersOn));
    if (!answering.includes(true)) return;
    if (Date.now() > deadline) throw new Error(`the killed local cloud's servers still answer on ${JSON.stringify(ports)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Copies the child's stdout to the output file (stderr goes there directly) and resolves when the ready line appears. */
function untilReady(child: ChildProcess, outputFile: string, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    let ready = false;
    const fail = (error: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    };
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    const timer = setTimeout(
      () => fail(new Error(`the local cloud was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${fs.readFileSync(outputFile, 'utf8')}`)),
      READY_TIMEOUT_MS,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (chunk: Buffer) => {
      fs.appendFileSync(outputFile, chunk);
      if (ready) return;
      seen += chunk.toString();
      if (seen.includes(READY_LINE)) {
        ready = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
    });
    child.once('error', fail);
    child.once('exit', (code) => {
      if (!ready) fail(new Error(`the local cloud exited with ${code} before it was ready:\n${fs.readFileSync(outputFile, 'utf8')}`));
    });
  });
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalProcessGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalProcessGroup(child, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function signalProcessGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

import type { ChildProcess } from 'node:child_process';

/** Stops the local cloud globalSetup started: SIGTERM lets it stop its own children first. */
export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as { calmsLocalCloud?: ChildProcess }).calmsLocalCloud;
  if (!child || child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

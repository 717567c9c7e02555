/** The emulated cluster's job processes, as tests watch them from outside. */
import fs from 'node:fs';
import { eventually } from './eventually';

/** Whether process `pid` still runs (a zombie does not). */
export function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once process `pid` has ended; fails the test when it still runs after 10 s. */
export async function processEnded(pid: number): Promise<void> {
  await eventually(() => (running(pid) ? undefined : true), `job process ${pid} to end`, 10_000);
}

/** The real `calms` command (the bundle dist/calms.cjs, as `npx calms` runs it), with the API globalSetup exported. */
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
// globalSetup has just built it from the current source.
export const { CLI_BUNDLE: CALMS } = require('../../../bin/build-cli.cjs') as { CLI_BUNDLE: string };

export interface CalmsRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `calms <args>` as a child process whose stdin is a closed pipe, never a terminal, so it must not ask. */
export function calms(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CalmsRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CALMS, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

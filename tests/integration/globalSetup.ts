/**
 * Starts the whole local cloud once for the integration tests, through `localstack/start.ts` as `npm start`
 * does, and hands its settings to the tests through the environment.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { localEnvironment } from '../../lib/config';
import { READY_LINE } from '../../localstack/cloud';
import { TEST_CLOUD_ENV, TEST_STATE_DIR } from './support/testCloud';

const ROOT = path.resolve(__dirname, '../..');

export default async function globalSetup(): Promise<void> {
  fs.rmSync(TEST_STATE_DIR, { recursive: true, force: true });
  fs.mkdirSync(TEST_STATE_DIR, { recursive: true });
  const env = localEnvironment({ ...process.env, ...TEST_CLOUD_ENV });
  const output = fs.openSync(path.join(TEST_STATE_DIR, 'local-cloud.out'), 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'localstack/start.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', output],
  });
  (globalThis as { calmsLocalCloud?: typeof child }).calmsLocalCloud = child;

  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the local cloud was not ready within 120 s:\n${seen}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      fs.appendFileSync(path.join(TEST_STATE_DIR, 'local-cloud.out'), chunk);
      if (seen.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the local cloud exited with ${code} before it was ready:\n${seen}\n${fs.readFileSync(path.join(TEST_STATE_DIR, 'local-cloud.out'), 'utf8')}`));
    });
  });
  child.stdout!.resume();
  Object.assign(process.env, env);
}

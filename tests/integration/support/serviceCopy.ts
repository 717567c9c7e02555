/**
 * A throwaway copy of the service for tests that run `serverless package` or `deploy`: packaging deletes
 * `.esbuild/`, from which the integration tests' serverless-offline is serving the Lambdas at that moment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const SERVICE_PATHS = [
  'serverless.yml',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'functions',
  'lib',
  'statemachines',
  'localstack',
  'deploy',
];

export interface ServiceCopy {
  readonly dir: string;
  remove(): void;
}

export function copyOfService(prefix: string): ServiceCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const name of SERVICE_PATHS) fs.cpSync(path.join(ROOT, name), path.join(dir, name), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

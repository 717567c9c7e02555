/**
 * Starts the whole local cloud once for the integration tests, through `localstack/start.ts` as `npm start`
 * does, and hands its settings to the tests through the environment.
 */
import { type SpawnedCloud, spawnLocalCloud } from '../../localstack/spawnCloud';
import { TEST_CLOUD_ENV } from './support/testCloud';

export default async function globalSetup(): Promise<void> {
  // The CLI tests run the bundle, as ARC staff do: built from the current source.
  (require('../../bin/build-cli.cjs') as { buildCli: () => string }).buildCli();
  const cloud = await spawnLocalCloud(TEST_CLOUD_ENV);
  // jest runs globalTeardown in this same context: that is how it finds the cloud to stop.
  (globalThis as { calmsLocalCloud?: SpawnedCloud }).calmsLocalCloud = cloud;
  Object.assign(process.env, cloud.env);
}

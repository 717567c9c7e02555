import type { SpawnedCloud } from '../../localstack/spawnCloud';

/** Stops the local cloud globalSetup started. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { calmsLocalCloud?: SpawnedCloud }).calmsLocalCloud?.stop();
}

/**
 * The emulated cluster on its own, for a person to look around in:
 *   npx tsx localstack/cluster/run.ts
 * Settings as for `npm start` (CALMS_SSH_*, CALMS_CASA_EMULATOR_*, CALMS_STATE_DIR, CALMS_ARCHIVE_SNAPSHOT).
 */
import { localCloudConfig } from '../config';
import { createLogger } from '../../lib/log';
import { startEmulatedCluster } from './emulatedCluster';
import { emulatedClusterOptions } from './options';

async function main(): Promise<void> {
  const { stateDir, archiveSnapshot } = localCloudConfig();
  const options = emulatedClusterOptions({ stateDir, archiveSnapshot });
  const cluster = await startEmulatedCluster({ ...options, log: createLogger({ component: 'emulated-cluster' }) });
  process.stdout.write(
    [
      `Emulated cluster: ${cluster.nodes.join(', ')}; work root ${cluster.workRoot}`,
      `Log in with: ${cluster.loginCommand}`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  const stop = () => void cluster.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

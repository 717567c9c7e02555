/**
 * `npm start`: the whole of CalMS on this machine. Prints every endpoint, runs until Ctrl-C, then stops
 * every server and child it started.
 */
import { localEnvironment } from '../lib/config';
import { type LocalCloud, READY_LINE, startLocalCloud } from './cloud';

async function main(): Promise<void> {
  Object.assign(process.env, localEnvironment());
  const started = Date.now();
  // Listening from the start: a signal during start-up makes startLocalCloud stop what it started and throw.
  const starting = new AbortController();
  let cloud: LocalCloud | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the local cloud ...\n`);
    if (!cloud) return starting.abort(new Error(`${signal} before it was ready`));
    await cloud.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  cloud = await startLocalCloud(undefined, starting.signal);

  const width = Math.max(...Object.keys(cloud.endpoints).map((name) => name.length));
  const lines = Object.entries(cloud.endpoints).map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  const warnings = cloud.warnings.map((warning) => `  ! ${warning}`);
  process.stdout.write(
    [
      '',
      ...lines,
      '',
      'Where the local cloud differs from AWS:',
      ...warnings,
      '',
      `${READY_LINE} (${((Date.now() - started) / 1000).toFixed(1)} s) Press Ctrl-C to stop.`,
      '',
    ].join('\n'),
  );
}

main().catch((error: Error) => {
  process.stderr.write(`The local cloud could not start: ${error.message}\n`);
  process.exit(1);
});

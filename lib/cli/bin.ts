/** Entry point of `calms` (bundled into dist/calms.cjs by bin/build-cli.cjs): the real process's I/O. */
import fs from 'node:fs';
import { ConfigurationError } from '../config';
import { withCliConfigFile } from './configFile';
import { runCli } from './main';

/** A missing config file is no config file; an unreadable one is an error. */
function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function environment(): Record<string, string | undefined> | undefined {
  try {
    return withCliConfigFile(process.env, readIfPresent);
  } catch (error) {
    if (!(error instanceof ConfigurationError) && (error as NodeJS.ErrnoException).code === undefined) throw error;
    process.stderr.write(`calms: configuration problem: ${(error as Error).message}\n`);
    return undefined;
  }
}

const env = environment();
if (env === undefined) process.exitCode = 2;
else {
  runCli({
    argv: process.argv.slice(2),
    env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    fetch: globalThis.fetch,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`calms: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 4;
    },
  );
}

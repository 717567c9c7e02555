/** The tests that run the aws CLI, as the README shows operators using it against the local cloud. */
import { spawnSync } from 'node:child_process';

const AWS_CLI_ON_PATH = spawnSync('aws', ['--version']).error === undefined;

/**
 * `describe` when the aws CLI is on PATH. Without it a developer's run skips them, saying so; CI installs it
 * (.ci/run), so there they run anyway and fail, rather than hide an unchecked README.
 */
export function describeWithAwsCli(name: string, tests: () => void): void {
  if (AWS_CLI_ON_PATH || process.env.CI === 'true') describe(name, tests);
  else describe.skip(`${name}: SKIPPED, no \`aws\` on PATH (apt-get install awscli)`, tests);
}

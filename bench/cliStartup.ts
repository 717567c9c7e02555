/**
 * Issue 19: `calms --help` as ARC staff run it once `npm link` has put the command on their PATH (the bundle
 * dist/calms.cjs behind a symbolic link in a bin directory), target under 300 ms (median). Beside it, in the
 * same run: `npx calms --help`, which resolves the project's dependency tree before it starts the same file,
 * and `node -e 0`, the floor any Node program pays. Needs no local cloud.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Benchmark, BenchmarkReport } from './benchmark';
import { percentile } from './stats';

const ROOT = path.resolve(__dirname, '..');
const RUNS = 20;
const WARM_UP = 2;
const TARGET_MS = 300;

const { buildCli } = require('../bin/build-cli.cjs') as { buildCli: () => string };

interface Timing {
  readonly label: string;
  readonly samplesMs: readonly number[];
}

/** Runs `command` RUNS times after WARM_UP unmeasured runs; each must exit 0 and print `expected`. */
function time(label: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, expected: string, signal: AbortSignal): Timing {
  const samplesMs: number[] = [];
  for (let run = 0; run < WARM_UP + RUNS; run++) {
    signal.throwIfAborted();
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8' });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0 || !result.stdout.includes(expected)) {
      throw new Error(`${label} failed (exit ${result.status}): ${result.error?.message ?? result.stderr}`);
    }
    if (run >= WARM_UP) samplesMs.push(elapsedMs);
  }
  return { label, samplesMs };
}

const ms = (value: number) => `${Math.round(value)} ms`;

export const cliStartupBenchmark: Benchmark = {
  name: 'cli',
  title: '`calms --help` from PATH (npm link), beside `npx calms --help`',
  cloud: false,
  async run({ signal }): Promise<BenchmarkReport> {
    const bundle = buildCli();
    // What `npm link` makes: <prefix>/bin/calms, a link to the package's bin file.
    const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-bench-bin-'));
    fs.symlinkSync(bundle, path.join(binDir, 'calms'));
    const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` };
    const usage = 'calms - calibrated MS on request';
    try {
      const timings = [
        time('calms --help (on PATH)', 'calms', ['--help'], env, usage, signal),
        time('npx calms --help', 'npx', ['calms', '--help'], env, usage, signal),
        time('node -e 0 (floor)', process.execPath, ['-e', '0'], env, '', signal),
      ];
      const median = percentile(timings[0]!.samplesMs, 50);
      const node = spawnSync('node', ['--version'], { env, encoding: 'utf8' }).stdout.trim();
      return {
        columns: ['command', 'runs', 'p50', 'p95', 'max'],
        rows: timings.map(({ label, samplesMs }) => [
          label,
          String(samplesMs.length),
          ms(percentile(samplesMs, 50)),
          ms(percentile(samplesMs, 95)),
          ms(percentile(samplesMs, 100)),
        ]),
        notes: [
          `Wall time per run, ${WARM_UP} unmeasured runs first; calms runs on the \`node\` first on PATH (${node}), as its #!/usr/bin/env node line asks.`,
          `The bundle is ${Math.round(fs.statSync(bundle).size / 1024)} KiB and needs no node_modules.`,
        ],
        targets: [{ criterion: `calms --help from PATH, median < ${TARGET_MS} ms`, measured: ms(median), met: median < TARGET_MS }],
      };
    } finally {
      fs.rmSync(binDir, { recursive: true, force: true });
    }
  },
};

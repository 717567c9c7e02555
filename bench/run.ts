/**
 * `npm run bench [-- <name> ...]`: starts one local cloud on ports and a state directory of its own, runs every
 * benchmark (or the ones named) against it, prints their figures and targets, and exits 1 if a target is missed.
 */
import os from 'node:os';
import path from 'node:path';
import { spawnLocalCloud } from '../localstack/spawnCloud';
import type { Benchmark, BenchmarkReport } from './benchmark';
import { cliStartupBenchmark } from './cliStartup';
import { intakeBenchmark } from './intake';
import { queueBenchmark } from './queue';
import { transferBenchmark } from './transfer';
import { waitingBenchmark } from './waiting';

const BENCHMARKS: readonly Benchmark[] = [intakeBenchmark, transferBenchmark, queueBenchmark, waitingBenchmark, cliStartupBenchmark];

const BENCH_STATE_DIR = path.resolve(__dirname, '../.calms-bench');
/** Apart from the ports of `npm start` (3000, 4566, …) and of the integration tests (13000, 14566, …). */
const BENCH_CLOUD_ENV: Record<string, string> = {
  CALMS_STATE_DIR: BENCH_STATE_DIR,
  CALMS_ARCHIVE_URL: path.join(BENCH_STATE_DIR, 'archive.sqlite'),
  CALMS_API_PORT: '23000',
  CALMS_LAMBDA_PORT: '23002',
  CALMS_EDGE_PORT: '24566',
  CALMS_STEPFUNCTIONS_PORT: '24567',
  CALMS_S3_PORT: '24568',
  CALMS_SMTP_PORT: '21025',
  CALMS_MAIL_WEB_PORT: '21080',
  CALMS_CONSOLE_PORT: '23080',
  CALMS_SSH_PORT: '25222',
  CALMS_AWS_ENDPOINT: 'http://127.0.0.1:24566',
  CALMS_API_URL: 'http://127.0.0.1:23000/local',
  CALMS_CLUSTER_NODES: '127.0.0.1:25222,127.0.0.1:25223,127.0.0.1:25224',
};

const say = (text: string) => process.stdout.write(`${text}\n`);

function selectBenchmarks(names: readonly string[]): readonly Benchmark[] {
  const unknown = names.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) {
    throw new Error(`no benchmark named ${unknown.join(', ')}; there are: ${BENCHMARKS.map((benchmark) => benchmark.name).join(', ')}`);
  }
  return names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((benchmark) => names.includes(benchmark.name));
}

/** The bench cloud's settings plus those the benchmark declares; ports and state directory stay the harness's. */
function cloudEnvironment(benchmark: Benchmark): Record<string, string> {
  for (const name of Object.keys(benchmark.cloudEnv ?? {})) {
    if (name in BENCH_CLOUD_ENV) throw new Error(`${benchmark.name} may not set ${name}: the bench harness sets it`);
  }
  return { ...BENCH_CLOUD_ENV, ...benchmark.cloudEnv };
}

/** The first column (the workload) left-aligned, the figures right-aligned. */
function formatTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ');
  return [line(columns), ...rows.map(line)];
}

/** Other processes on the machine slow every figure; the baseline rows of the same run show by how much. */
const loadAverage = () => os.loadavg()[0]!.toFixed(1);

function formatReport(benchmark: Benchmark, report: BenchmarkReport, loadBefore: string): string {
  return [
    '',
    `${benchmark.name}: ${benchmark.title}`,
    `  machine: ${os.cpus().length} CPUs, 1-minute load average ${loadBefore} before, ${loadAverage()} after`,
    '',
    ...formatTable(report.columns, report.rows).map((line) => `  ${line}`),
    '',
    ...report.notes.map((note) => `  ${note}`),
    '',
    ...report.targets.map((target) => `  ${target.criterion}: ${target.met ? 'PASS' : 'FAIL'} (${target.measured})`),
    '',
  ].join('\n');
}

/** Aborted by Ctrl-C (or SIGTERM, SIGHUP): the run stops sending and stops the cloud before it exits. */
const interruption = new AbortController();

/** The report, and the load average once the cloud is up, before the benchmark starts. */
async function runWithCloud(benchmark: Benchmark): Promise<{ report: BenchmarkReport; loadBefore: string }> {
  const env = cloudEnvironment(benchmark);
  const declared = Object.keys(env).filter((name) => !(name in BENCH_CLOUD_ENV));
  say(
    `Starting the local cloud for ${benchmark.name} (API on port ${BENCH_CLOUD_ENV.CALMS_API_PORT}, state in ${path.relative(process.cwd(), BENCH_STATE_DIR)}/` +
      `${declared.map((name) => `, ${name}=${env[name]}`).join('')}) ...`,
  );
  const cloud = await spawnLocalCloud(env, { signal: interruption.signal });
  try {
    const loadBefore = loadAverage();
    return { report: await benchmark.run({ env: cloud.env, signal: interruption.signal }), loadBefore };
  } finally {
    say('Stopping the local cloud ...');
    await cloud.stop();
  }
}

async function main(names: readonly string[]): Promise<number> {
  const benchmarks = selectBenchmarks(names);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => interruption.abort(new Error(`${signal}: stopped`)));
  }
  const missed: string[] = [];
  for (const benchmark of benchmarks) {
    // A cloud per benchmark: each starts from an empty state with the settings it declares.
    const { report, loadBefore } =
      benchmark.cloud === false
        ? { loadBefore: loadAverage(), report: await benchmark.run({ env: {}, signal: interruption.signal }) }
        : await runWithCloud(benchmark);
    say(formatReport(benchmark, report, loadBefore));
    missed.push(...report.targets.filter((target) => !target.met).map((target) => `${benchmark.name}: ${target.criterion}`));
  }
  say(missed.length === 0 ? 'Every target met.' : `Targets missed:\n${missed.map((target) => `  ${target}`).join('\n')}`);
  return missed.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (exitCode) => process.exit(exitCode),
  (error: Error) => {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(interruption.signal.aborted ? 130 : 1);
  },
);

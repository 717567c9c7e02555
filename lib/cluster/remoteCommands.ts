/**
 * The short bash programs CalMS runs on a node, and the parsing of what they print. Pure, so the shell
 * text can be tested without a cluster.
 *
 * Each program is sent on the standard input of `bash -s` rather than on the command line, because the
 * cluster user's login shell (which interprets the command line) may be csh-like, and because values then
 * never show up in `ps`. The program is wrapped in `{ …; } </dev/null` so no command in it can swallow
 * the rest of the program from that same standard input.
 */
import { JobState, SubmitMode, type JobStatus, type SubmittedJob, type TarballChecksums } from './Cluster';
import { JOB_FILES, TAR_CREATE } from './jobScript';
import { quote } from './shell';

/** The command line of every program below; the program itself is its standard input. */
export const BASH_FROM_STDIN = 'bash -s';

/**
 * How a node reports its load: the first field of /proc/loadavg, the one-minute load average. A plain
 * command (not a bash program) so that it reads the same on any login shell, and so that the emulated
 * cluster can answer exactly this command with the load configured for each node.
 */
export const LOAD_AVERAGE_COMMAND = 'cat /proc/loadavg';

const HEREDOC_END = 'CALMS_JOB_SCRIPT_END';

/** @returns NaN when the output is not a load average. */
export function parseLoadAverage(output: string): number {
  const first = output.trim().split(/\s+/)[0];
  return /^\d+(?:\.\d+)?$/.test(first) ? Number(first) : NaN;
}

export function bashProgram(lines: readonly string[]): string {
  return ['{', ...lines, '} </dev/null', ''].join('\n');
}

/**
 * Shell functions on `$job_id`, run inside the job's work directory: `job_alive` is true while the job runs
 * (or, under Slurm, waits to run); `stop_job` ends it and whatever it started.
 */
function jobControl(submitMode: SubmitMode): string[] {
  if (submitMode === SubmitMode.Sbatch) {
    return ['job_alive() { [ -n "$(squeue --noheader --jobs="$job_id" --format=%T 2>/dev/null)" ]; }', 'stop_job() { scancel "$job_id"; }'];
  }
  return [
    // The process must still sit in the work directory: a recycled process id belongs to some other process.
    'job_alive() { [ "$(readlink "/proc/${job_id}/cwd" 2>/dev/null)" = "$(pwd -P)" ]; }',
    // Submission made the job a session and process group leader: signal the whole group.
    'stop_job() { kill -TERM -- "-${job_id}"; }',
  ];
}

/**
 * (Re-)creates the work directory, as stagecalms did, so a retried submission starts clean; writes the job
 * script and starts it. Prints `job <id>`.
 */
export function submitProgram(input: { workDir: string; mous: string; script: string; submitMode: SubmitMode }): string {
  const start =
    input.submitMode === SubmitMode.Sbatch
      ? [
          `job_id=$(sbatch --parsable --job-name="calms-\${mous}" --chdir="$work_dir" --output=/dev/null ./${JOB_FILES.script})`,
          // --parsable prints "id" or "id;cluster".
          'job_id=${job_id%%;*}',
        ]
      : [
          // setsid puts the job in a session of its own, so neither sshd closing this session nor a hang-up
          // reaches it; its process id is then also its process group id, which stop_job signals.
          `setsid nohup ./${JOB_FILES.script} </dev/null >/dev/null 2>&1 &`,
          'job_id=$!',
        ];
  return bashProgram([
    'set -e',
    `work_dir=${quote(input.workDir, 'absolutePath')}`,
    `mous=${quote(input.mous, 'mous')}`,
    ...jobControl(input.submitMode),
    // A retry after a lost answer finds the first attempt still running: stop it before its directory goes,
    // or it would keep writing MSs into the new one.
    `if [ -f "\${work_dir}/${JOB_FILES.jobId}" ] && cd -- "$work_dir"; then`,
    `  job_id=$(cat ${JOB_FILES.jobId})`,
    // Its processes take a moment to die; until then they may still write into the directory.
    '  case "$job_id" in "" | *[!0-9]*) ;; *) if job_alive; then stop_job || true; for _ in 1 2 3 4 5 6 7 8 9 10; do job_alive || break; sleep 0.5; done; fi ;; esac',
    '  cd /',
    'fi',
    // A process of the stopped job that was still exiting may have written a last file: try again.
    'for _ in 1 2 3 4 5; do rm -rf -- "$work_dir" 2>/dev/null && break; sleep 0.5; done',
    'rm -rf -- "$work_dir"',
    'mkdir -p -- "$work_dir"',
    'cd -- "$work_dir"',
    // A quoted here-document delimiter: the script is copied verbatim, nothing in it is expanded here. No
    // script line can equal the delimiter: jobScript writes fixed lines and single-line quoted values.
    `cat >${JOB_FILES.script} <<'${HEREDOC_END}'`,
    input.script.replace(/\n$/, ''),
    HEREDOC_END,
    `chmod 700 ${JOB_FILES.script}`,
    ...start,
    `echo "$job_id" >${JOB_FILES.jobId}`,
    'echo "job ${job_id}"',
  ]);
}

/** The opening of every program about a submitted job: its work directory, its id, the job control functions. */
function aboutJob(job: SubmittedJob): string[] {
  return [`work_dir=${quote(job.workDir, 'absolutePath')}`, `job_id=${quote(job.jobId, 'jobId')}`, ...jobControl(job.submitMode)];
}

/** Prints `state running|missing|vanished|exited <status>`, then `ms <name>` per produced MS. */
export function statusProgram(job: SubmittedJob): string {
  return bashProgram([...aboutJob(job), ...statusLines()]);
}

/**
 * Waits on the node while the job runs, looking every `pollSeconds`, for at most `waitSeconds`; then prints
 * what {@link statusProgram} prints. One connection per waiting step instead of one per look.
 */
export function awaitEndProgram(job: SubmittedJob, waitSeconds: number, pollSeconds: number): string {
  return bashProgram([
    ...aboutJob(job),
    `wait_seconds=${quote(String(waitSeconds), 'seconds')}`,
    'until_seconds=$((SECONDS + wait_seconds))',
    'if cd -- "$work_dir" 2>/dev/null; then',
    `  while [ ! -f ${JOB_FILES.exitStatus} ] && job_alive && [ "$SECONDS" -lt "$until_seconds" ]; do sleep ${quote(String(pollSeconds), 'seconds')}; done`,
    '  cd /',
    'fi',
    ...statusLines(),
  ]);
}

function statusLines(): string[] {
  const exited = `echo "state exited $(cat ${JOB_FILES.exitStatus})"`;
  return [
    'cd -- "$work_dir" 2>/dev/null || { echo \'state missing\'; exit 0; }',
    `if [ -f ${JOB_FILES.exitStatus} ]; then ${exited}`,
    "elif job_alive; then echo 'state running'",
    // Checked again: the job may have ended between the first look and job_alive.
    `elif [ -f ${JOB_FILES.exitStatus} ]; then ${exited}`,
    "else echo 'state vanished'",
    'fi',
    `for ms in ${JOB_FILES.outputDir}/*.ms.split.cal; do`,
    `  if [ -d "$ms" ]; then echo "ms \${ms#${JOB_FILES.outputDir}/}"; fi`,
    'done',
    'exit 0',
  ];
}

/** @returns undefined when the output is not what {@link statusProgram} prints. */
export function parseStatus(output: string, workDir: string): JobStatus | undefined {
  const lines = output.split('\n').filter((line) => line !== '');
  const state = lines[0]?.match(/^state (running|missing|vanished|exited (-?\d+))$/);
  if (!state) return undefined;
  const measurementSets = lines
    .slice(1)
    .filter((line) => line.startsWith('ms '))
    .map((line) => line.slice(3))
    .sort();
  if (state[1] === 'running') return { state: JobState.Running };
  if (state[1] === 'missing') {
    return { state: JobState.Failed, exitCode: null, reason: `the work directory ${workDir} does not exist` };
  }
  if (state[1] === 'vanished') {
    return {
      state: JobState.Failed,
      exitCode: null,
      reason: 'the job ended without recording an exit status (killed, or the node restarted)',
    };
  }
  const exitCode = Number(state[2]);
  if (exitCode !== 0) return { state: JobState.Failed, exitCode, reason: `the job exited with status ${exitCode}` };
  if (measurementSets.length === 0) {
    return { state: JobState.Failed, exitCode, reason: 'the job reported success but left no calibrated MS' };
  }
  return { state: JobState.Succeeded, measurementSets };
}

/** The job log's size in bytes on the first line, then its last `maxBytes` bytes; a job without a log prints 0. */
export function readLogTailProgram(job: SubmittedJob, maxBytes: number): string {
  return bashProgram([
    `log=${quote(`${job.workDir}/${JOB_FILES.log}`, 'absolutePath')}`,
    `if [ -f "$log" ]; then stat -c %s -- "$log" && tail -c ${quote(String(maxBytes), 'byteCount')} -- "$log"; else echo 0; fi`,
  ]);
}

/** The size line and the tail that {@link readLogTailProgram} prints; undefined when it printed something else. */
export function parseLogTail(output: string): { readonly totalBytes: number; readonly tail: string } | undefined {
  const newline = output.indexOf('\n');
  const size = newline < 0 ? output : output.slice(0, newline);
  if (!/^\d+$/.test(size)) return undefined;
  return { totalBytes: Number(size), tail: newline < 0 ? '' : output.slice(newline + 1) };
}

/** The whole job log, for streaming; nothing when the job never wrote one. */
export function catLogProgram(job: SubmittedJob): string {
  return bashProgram([`log=${quote(`${job.workDir}/${JOB_FILES.log}`, 'absolutePath')}`, 'if [ -f "$log" ]; then exec cat -- "$log"; fi']);
}

/** Stops the job if it still runs; a job that already ended is left as it is. */
export function cancelProgram(job: SubmittedJob): string {
  return bashProgram([...aboutJob(job), 'cd -- "$work_dir" 2>/dev/null || exit 0', 'if job_alive; then stop_job; fi']);
}

export function removeWorkDirProgram(job: SubmittedJob): string {
  return bashProgram([`rm -rf -- ${quote(job.workDir, 'absolutePath')}`]);
}

/** The tarball of one MS from byte `offset` on: tar runs as the job ran it when it recorded the checksums. */
export function tarProgram(job: SubmittedJob, measurementSet: string, offset: number): string {
  const tar = `${TAR_CREATE} -- ${quote(measurementSet, 'measurementSet')}`;
  return bashProgram([
    'set -o pipefail',
    `cd -- ${quote(`${job.workDir}/${JOB_FILES.outputDir}`, 'absolutePath')} || exit 1`,
    // tail counts from 1; tar still reads the skipped bytes, but only from the node's own disk.
    offset === 0 ? `exec ${tar}` : `${tar} | tail -c +${quote(String(offset + 1), 'byteCount')}`,
  ]);
}

/** Prints `sha256 <hex>` for the whole tarball, then `part <hex>` per part, as the job recorded them. */
export function readChecksumsProgram(job: SubmittedJob, measurementSet: string): string {
  const tarball = `${job.workDir}/${JOB_FILES.checksumDir}/${measurementSet}.tar`;
  quote(measurementSet, 'measurementSet');
  return bashProgram([
    'set -e',
    `tarball=${quote(tarball, 'absolutePath')}`,
    'read -r sum _ <"${tarball}.sha256"',
    'echo "sha256 ${sum}"',
    'while read -r sum _; do echo "part ${sum}"; done <"${tarball}.parts"',
  ]);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** @returns undefined when the output is not what {@link readChecksumsProgram} prints. */
export function parseChecksums(output: string): TarballChecksums | undefined {
  const lines = output.split('\n').filter((line) => line !== '');
  const whole = lines[0]?.match(/^sha256 (\S+)$/)?.[1];
  const parts = lines.slice(1).map((line) => line.match(/^part (\S+)$/)?.[1]);
  if (!whole || !SHA256_HEX.test(whole) || parts.length === 0) return undefined;
  if (parts.some((part) => part === undefined || !SHA256_HEX.test(part))) return undefined;
  return { sha256: whole, parts: parts as string[] };
}

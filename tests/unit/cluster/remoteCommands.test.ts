import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobState, SubmitMode, type SubmittedJob } from '../../../lib/cluster/Cluster';
import { UnsafeShellValueError } from '../../../lib/cluster/errors';
import { JOB_FILES, TAR_CREATE } from '../../../lib/cluster/jobScript';
import {
  BASH_FROM_STDIN,
  cancelProgram,
  parseChecksums,
  parseLoadAverage,
  parseStatus,
  readChecksumsProgram,
  catLogProgram,
  parseLogTail,
  readLogTailProgram,
  removeWorkDirProgram,
  statusProgram,
  awaitEndProgram,
  submitProgram,
  tarProgram,
} from '../../../lib/cluster/remoteCommands';

describe('parseLoadAverage', () => {
  it('reads the one-minute load of /proc/loadavg', () => {
    // Act
    const load = parseLoadAverage('0.42 1.10 2.00 3/512 12345\n');

    // Assess
    expect(load).toBe(0.42);
  });

  it('gives NaN for anything else', () => {
    // Act
    const load = parseLoadAverage('cat: /proc/loadavg: No such file or directory');

    // Assess
    expect(load).toBeNaN();
  });
});

describe('parseStatus', () => {
  const workDir = '/work/calms-r-uid___A001_X1_X2';

  it.each([
    ['state running\n', { state: JobState.Running }],
    [
      'state exited 0\nms uid___A002_X2_X1.ms.split.cal\nms uid___A002_X1_X1.ms.split.cal\n',
      { state: JobState.Succeeded, measurementSets: ['uid___A002_X1_X1.ms.split.cal', 'uid___A002_X2_X1.ms.split.cal'] },
    ],
    ['state exited 7\n', { state: JobState.Failed, exitCode: 7, reason: 'the job exited with status 7' }],
    ['state exited 0\n', { state: JobState.Failed, exitCode: 0, reason: 'the job reported success but left no calibrated MS' }],
    ['state vanished\n', expect.objectContaining({ state: JobState.Failed, exitCode: null })],
    ['state missing\n', { state: JobState.Failed, exitCode: null, reason: `the work directory ${workDir} does not exist` }],
  ])('reads %j', (output, status) => {
    // Act
    const parsed = parseStatus(output, workDir);

    // Assess
    expect(parsed).toEqual(status);
  });

  it('gives undefined for output it does not know', () => {
    // Act
    const parsed = parseStatus('bash: line 1: squeue: command not found\n', workDir);

    // Assess
    expect(parsed).toBeUndefined();
  });
});

describe('parseChecksums', () => {
  const whole = 'a'.repeat(64);
  const part1 = '0123456789abcdef'.repeat(4);
  const part2 = 'f'.repeat(64);

  it("reads the whole tarball's SHA-256 and one per part, in order", () => {
    // Act
    const parsed = parseChecksums(`sha256 ${whole}\npart ${part1}\npart ${part2}\n`);

    // Assess
    expect(parsed).toEqual({ sha256: whole, parts: [part1, part2] });
  });

  it.each([
    ['nothing', ''],
    ['no parts', `sha256 ${whole}\n`],
    ['parts only', `part ${part1}\n`],
    ['a short sum', `sha256 ${whole.slice(1)}\npart ${part1}\n`],
    ['an upper-case sum', `sha256 ${whole.toUpperCase()}\npart ${part1}\n`],
    ['a bad part', `sha256 ${whole}\npart ${part1}\npart xyz\n`],
    ['an error message', 'bash: line 3: /work/checksums/x.tar.sha256: No such file or directory\n'],
  ])('gives undefined for %s', (_what, output) => {
    // Act
    const parsed = parseChecksums(output);

    // Assess
    expect(parsed).toBeUndefined();
  });
});

/** The programs run here with a local bash, as a node's bash would run them. */
describe('programs on a local bash', () => {
  let workRoot: string;
  let job: SubmittedJob;
  beforeEach(() => {
    workRoot = mkdtempSync(join(tmpdir(), 'calms-remote-'));
    job = {
      requestId: 'r1',
      mous: 'uid___A001_X1_X2',
      node: '127.0.0.1:2222',
      workDir: join(workRoot, 'calms-r1-uid___A001_X1_X2'),
      // No process has this id while the test runs: the job counts as not alive.
      jobId: '999999999',
      submitMode: SubmitMode.Detached,
      submittedAt: '2024-01-01T00:00:00.000Z',
      tarPartBytes: 4096,
    };
  });
  afterEach(() => rmSync(workRoot, { recursive: true, force: true }));

  const bash = (program: string) => {
    const result = spawnSync('bash', ['-c', BASH_FROM_STDIN], { input: program, cwd: workRoot });
    return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  };
  const finishedJob = (exitStatus: string, measurementSets: string[]) => {
    mkdirSync(join(job.workDir, JOB_FILES.outputDir), { recursive: true });
    for (const ms of measurementSets) mkdirSync(join(job.workDir, JOB_FILES.outputDir, ms));
    writeFileSync(join(job.workDir, JOB_FILES.exitStatus), exitStatus);
    writeFileSync(join(job.workDir, JOB_FILES.log), 'line one\nline two\n');
  };

  it('reports a finished job with the MSs it produced', () => {
    // Prepare
    finishedJob('0\n', ['uid___A002_X1_X1.ms.split.cal', 'uid___A002_X1_X2.ms.split.cal']);

    // Act
    const result = bash(statusProgram(job));

    // Assess
    expect(parseStatus(result.stdout, job.workDir)).toEqual({
      state: JobState.Succeeded,
      measurementSets: ['uid___A002_X1_X1.ms.split.cal', 'uid___A002_X1_X2.ms.split.cal'],
    });
  });

  it('reports a job that ended without an exit status as vanished, and a missing directory as missing', () => {
    // Prepare
    mkdirSync(job.workDir);

    // Act
    const vanished = bash(statusProgram(job)).stdout;
    rmSync(job.workDir, { recursive: true });
    const missing = bash(statusProgram(job)).stdout;

    // Assess
    expect(vanished).toBe('state vanished\n');
    expect(missing).toBe('state missing\n');
  });

  it('reports a job as running while a process sits in its work directory, and not once cancelled', () => {
    // Prepare
    mkdirSync(job.workDir);
    // Started as submit starts a job: in a session of its own, so cancel can signal its process group.
    const sleeper = spawnSync('bash', ['-c', 'setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], { cwd: job.workDir });
    const pid = sleeper.stdout.toString().trim();
    try {
      // Act
      const running = bash(statusProgram({ ...job, jobId: pid })).stdout;
      bash(cancelProgram({ ...job, jobId: pid }));
      let afterCancel = running;
      // The signal lands a moment later: look again, up to 5 s, until the job no longer runs.
      for (let attempt = 0; attempt < 50 && afterCancel === 'state running\n'; attempt++) {
        spawnSync('sleep', ['0.1']);
        afterCancel = bash(statusProgram({ ...job, jobId: pid })).stdout;
      }

      // Assess
      expect(running).toBe('state running\n');
      expect(afterCancel).toBe('state vanished\n');
    } finally {
      spawnSync('kill', ['-KILL', pid]);
    }
  });

  it('waits on the node while the job runs and answers as soon as it has ended, with what status answers', () => {
    // Prepare: a job that works a second, then writes its MS and its exit status, as the job script does.
    mkdirSync(join(job.workDir, JOB_FILES.outputDir), { recursive: true });
    const work = `sleep 1; mkdir ${JOB_FILES.outputDir}/uid___A002_X1_X1.ms.split.cal; echo 0 >${JOB_FILES.exitStatus}`;
    const started = spawnSync('bash', ['-c', `setsid bash -c '${work}' </dev/null >/dev/null 2>&1 & echo $!`], { cwd: job.workDir });
    const pid = started.stdout.toString().trim();
    const runningJob = { ...job, jobId: pid };
    const before = bash(statusProgram(runningJob)).stdout;

    // Act: a wait far longer than the test may take.
    const after = bash(awaitEndProgram(runningJob, 3600, 1));

    // Assess
    expect(before).toBe('state running\n');
    expect(after.status).toBe(0);
    expect(parseStatus(after.stdout, job.workDir)).toEqual({ state: JobState.Succeeded, measurementSets: ['uid___A002_X1_X1.ms.split.cal'] });
  });

  it('stops waiting after the time it was given, reporting a job still running as running', () => {
    // Prepare
    mkdirSync(job.workDir);
    const sleeper = spawnSync('bash', ['-c', 'setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], { cwd: job.workDir });
    const pid = sleeper.stdout.toString().trim();
    try {
      // Act
      const result = bash(awaitEndProgram({ ...job, jobId: pid }, 1, 1));

      // Assess
      expect(result.stdout).toBe('state running\n');
    } finally {
      spawnSync('kill', ['-KILL', pid]);
    }
  });

  it('answers at once for a job whose directory is gone, and refuses a wait that is not a number of seconds', () => {
    // Act
    const missing = bash(awaitEndProgram(job, 3600, 1)).stdout;

    // Assess
    expect(missing).toBe('state missing\n');
    expect(() => awaitEndProgram(job, -1, 1)).toThrow(UnsafeShellValueError);
    expect(() => awaitEndProgram(job, 60, 0.5)).toThrow(UnsafeShellValueError);
  });

  it('reads the size and the end of the log with tail -c, the whole with cat, and nothing for a job that never wrote one', () => {
    // Prepare: the log is 'line one\nline two\n', 18 bytes
    finishedJob('1\n', []);
    const neverStarted = { ...job, workDir: join(workRoot, 'calms-r2-uid___A001_X1_X2') };

    // Act
    const tail = bash(readLogTailProgram(job, 9));
    const whole = bash(readLogTailProgram(job, 1000));
    const streamed = bash(catLogProgram(job));
    const none = [bash(readLogTailProgram(neverStarted, 9)), bash(catLogProgram(neverStarted))];

    // Assess
    expect(parseLogTail(tail.stdout)).toEqual({ totalBytes: 18, tail: 'line two\n' });
    expect(parseLogTail(whole.stdout)).toEqual({ totalBytes: 18, tail: 'line one\nline two\n' });
    expect(streamed.stdout).toBe('line one\nline two\n');
    expect(none.map((result) => result.stdout)).toEqual(['0\n', '']);
    expect(parseLogTail(none[0]!.stdout)).toEqual({ totalBytes: 0, tail: '' });
    expect(parseLogTail('Permission denied\n')).toBeUndefined();
  });

  it('removes the work directory and nothing else', () => {
    // Prepare
    finishedJob('0\n', ['uid___A002_X1_X1.ms.split.cal']);
    writeFileSync(join(workRoot, 'neighbour'), 'keep me');

    // Act
    const result = bash(removeWorkDirProgram(job));
    const remaining = spawnSync('ls', ['-A', workRoot]).stdout.toString();

    // Assess
    expect(result.status).toBe(0);
    expect(remaining).toBe('neighbour\n');
  });

  it('tars one MS to standard output', () => {
    // Prepare
    finishedJob('0\n', ['uid___A002_X1_X1.ms.split.cal']);
    writeFileSync(join(job.workDir, JOB_FILES.outputDir, 'uid___A002_X1_X1.ms.split.cal', 'table.f0'), 'data');

    // Act
    const archive = spawnSync('bash', ['-c', BASH_FROM_STDIN], { input: tarProgram(job, 'uid___A002_X1_X1.ms.split.cal', 0) }).stdout;
    const listing = spawnSync('tar', ['tf', '-'], { input: archive }).stdout.toString();

    // Assess
    expect(listing.split('\n').filter(Boolean).sort()).toEqual(['uid___A002_X1_X1.ms.split.cal/', 'uid___A002_X1_X1.ms.split.cal/table.f0']);
  });

  it('refuses to tar anything but an MS name', () => {
    // Act
    const act = () => tarProgram(job, '../../etc', 0);

    // Assess
    expect(act).toThrow(UnsafeShellValueError);
  });

  /** An MS with files of random content, created out of name order (tar --sort=name must not care). */
  const measurementSetWithData = (name: string) => {
    const ms = join(job.workDir, JOB_FILES.outputDir, name);
    mkdirSync(join(ms, 'SPECTRAL_WINDOW'), { recursive: true });
    writeFileSync(join(ms, 'table.f1'), randomBytes(70_001));
    writeFileSync(join(ms, 'table.f0'), randomBytes(30_000));
    writeFileSync(join(ms, 'SPECTRAL_WINDOW', 'table.dat'), randomBytes(5_555));
    return ms;
  };
  const tarFrom = (offset: number) =>
    spawnSync('bash', ['-c', BASH_FROM_STDIN], { input: tarProgram(job, 'uid___A002_X1_X1.ms.split.cal', offset), maxBuffer: 1 << 26 });

  it("streams the same bytes as the job's tar every time", () => {
    // Prepare
    finishedJob('0\n', []);
    measurementSetWithData('uid___A002_X1_X1.ms.split.cal');
    const asTheJobRanIt = spawnSync('bash', ['-c', `${TAR_CREATE} -- uid___A002_X1_X1.ms.split.cal`], {
      cwd: join(job.workDir, JOB_FILES.outputDir),
      maxBuffer: 1 << 26,
    }).stdout;

    // Act
    const first = tarFrom(0);
    const second = tarFrom(0);

    // Assess
    expect(first.status).toBe(0);
    expect(first.stdout.length).toBeGreaterThan(100_000);
    expect(first.stdout.equals(asTheJobRanIt)).toBe(true);
    expect(second.stdout.equals(first.stdout)).toBe(true);
  });

  it('streams exactly the tail of the tarball from an offset, so a resumed upload continues where its parts end', () => {
    // Prepare
    finishedJob('0\n', []);
    measurementSetWithData('uid___A002_X1_X1.ms.split.cal');
    const whole = tarFrom(0).stdout;

    // Act
    const tails = [1, 4096, 3 * 4096, 50_000, whole.length - 1, whole.length].map((offset) => ({ offset, result: tarFrom(offset) }));

    // Assess
    for (const { offset, result } of tails) {
      expect({ offset, status: result.status, stderr: result.stderr.toString() }).toEqual({ offset, status: 0, stderr: '' });
      expect({ offset, equal: result.stdout.equals(whole.subarray(offset)) }).toEqual({ offset, equal: true });
    }
  });

  it('fails the stream when tar fails, also behind the tail that skips to an offset', () => {
    // Prepare
    finishedJob('0\n', []);

    // Act
    const atStart = tarFrom(0);
    const resumed = tarFrom(8192);

    // Assess
    expect(atStart.status).not.toBe(0);
    // tar still writes an end-of-archive block; what tells the stream failed is the status, through pipefail.
    expect(resumed.status).not.toBe(0);
  });

  it.each([1.5, Number.NaN])('refuses the offset %p', (offset) => {
    // Act
    const act = () => tarProgram(job, 'uid___A002_X1_X1.ms.split.cal', offset);

    // Assess
    expect(act).toThrow(UnsafeShellValueError);
  });

  it('reads the checksums the job recorded, as sha256sum wrote them', () => {
    // Prepare
    const sum = (text: string) => createHash('sha256').update(text).digest('hex');
    const checksums = join(job.workDir, JOB_FILES.checksumDir);
    mkdirSync(checksums, { recursive: true });
    writeFileSync(join(checksums, 'uid___A002_X1_X1.ms.split.cal.tar.sha256'), `${sum('whole')}  -\n`);
    writeFileSync(join(checksums, 'uid___A002_X1_X1.ms.split.cal.tar.parts'), `${sum('one')}  -\n${sum('two')}  -\n${sum('three')}  -\n`);

    // Act
    const result = bash(readChecksumsProgram(job, 'uid___A002_X1_X1.ms.split.cal'));

    // Assess
    expect(result.status).toBe(0);
    expect(parseChecksums(result.stdout)).toEqual({ sha256: sum('whole'), parts: [sum('one'), sum('two'), sum('three')] });
  });

  it('fails to read checksums the job never recorded', () => {
    // Prepare
    finishedJob('0\n', ['uid___A002_X1_X1.ms.split.cal']);

    // Act
    const result = bash(readChecksumsProgram(job, 'uid___A002_X1_X1.ms.split.cal'));

    // Assess
    expect(result.status).not.toBe(0);
    expect(parseChecksums(result.stdout)).toBeUndefined();
  });

  it('refuses to read checksums of anything but an MS name', () => {
    // Act
    const act = () => readChecksumsProgram(job, '../../etc/passwd');

    // Assess
    expect(act).toThrow(UnsafeShellValueError);
  });

  it('submits through sbatch when configured, taking the job id from --parsable output', () => {
    // Act
    const program = submitProgram({ workDir: job.workDir, mous: job.mous, script: '#!/bin/bash\n', submitMode: SubmitMode.Sbatch });

    // Assess
    expect(program).toContain('sbatch --parsable --job-name="calms-${mous}" --chdir="$work_dir" --output=/dev/null ./calms-job.sh');
    expect(program).toContain('job_id=${job_id%%;*}');
    expect(program).toContain('echo "job ${job_id}"');
  });
});

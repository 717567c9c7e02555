import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CalibrationJob, SubmittedJob } from '../../../lib/cluster/Cluster';
import { UnsafeShellValueError } from '../../../lib/cluster/errors';
import { JOB_FILES, OLD_CASA_BUILD_NOTICE, TAR_CREATE, jobScript, workDirectory, type JobScriptInput } from '../../../lib/cluster/jobScript';
import { BASH_FROM_STDIN, parseChecksums, readChecksumsProgram, tarProgram } from '../../../lib/cluster/remoteCommands';

const job: CalibrationJob = {
  requestId: 'req-0001',
  mous: 'uid___A001_X1296_X675',
  projectCode: '2017.1.00727.S',
  helpdeskTicket: '16140',
  calibratorFields: [],
  tarPartBytes: 4096,
};

/**
 * A fake casa that records its arguments and writes one MS per EB named in CASA_FAKE_EBS, with CASA_FAKE_DATA
 * random bytes in a table file and a third of that in a subtable, when set.
 */
const FAKE_CASA = `#!/bin/bash
printf '%s\\n' "$@" > "$CASA_FAKE_ARGS"
[ -n "\${CASA_FAKE_EXIT:-}" ] && { echo "fake casa failing"; exit "$CASA_FAKE_EXIT"; }
for eb in $CASA_FAKE_EBS; do
  mkdir -p "$7/$eb.ms.split.cal"
  if [ -n "\${CASA_FAKE_DATA:-}" ]; then
    mkdir -p "$7/$eb.ms.split.cal/SPECTRAL_WINDOW"
    head -c "$((CASA_FAKE_DATA / 3))" /dev/urandom >"$7/$eb.ms.split.cal/SPECTRAL_WINDOW/table.f0"
    head -c "$CASA_FAKE_DATA" /dev/urandom >"$7/$eb.ms.split.cal/table.f1"
    head -c 1000 /dev/urandom >"$7/$eb.ms.split.cal/table.f0"
  fi
done
`;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('jobScript', () => {
  let sandbox: string;
  let workDir: string;
  let bin: string;
  beforeEach(() => {
    sandbox = mkdtempSync(join(tmpdir(), 'calms-job-'));
    workDir = workDirectory(join(sandbox, 'work'), job);
    bin = join(sandbox, 'bin');
    mkdirSync(workDir, { recursive: true });
    mkdirSync(bin);
    writeFileSync(join(bin, 'casa'), FAKE_CASA);
    chmodSync(join(bin, 'casa'), 0o755);
  });
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

  const input = (overrides: Partial<JobScriptInput> = {}): JobScriptInput => ({
    job,
    workDir,
    casaBuild: { name: 'casa-6.5.4', rhel5: false },
    restoreScript: 'calms_restore.py',
    ...overrides,
  });

  /** Runs the script as the detached job would, and returns what it left behind. */
  const run = (script: string, env: Record<string, string> = {}) => {
    writeFileSync(join(workDir, JOB_FILES.script), script);
    const result = spawnSync('bash', [JOB_FILES.script], {
      cwd: workDir,
      env: { PATH: `${bin}:/usr/bin:/bin`, CASA_FAKE_ARGS: join(sandbox, 'args'), CASA_FAKE_EBS: 'uid___A002_Xd33a12_X15be', ...env },
    });
    const read = (name: string) => (existsSync(join(workDir, name)) ? readFileSync(join(workDir, name), 'utf8') : undefined);
    return {
      status: result.status,
      log: read(JOB_FILES.log) ?? '',
      exitStatus: read(JOB_FILES.exitStatus),
      casaArguments: existsSync(join(sandbox, 'args')) ? readFileSync(join(sandbox, 'args'), 'utf8').trim().split('\n') : [],
    };
  };

  it('names the work directory after request and MOUS, under the work root', () => {
    // Act
    const directory = workDirectory('/opsw/work/pipeproc/autopipeline/tmp/', job);

    // Assess
    expect(directory).toBe('/opsw/work/pipeproc/autopipeline/tmp/calms-req-0001-uid___A001_X1296_X675');
  });

  it('runs CASA for the MOUS, records exit status 0 and logs the completion', () => {
    // Act
    const outcome = run(jobScript(input()));

    // Assess
    expect(outcome.exitStatus).toBe('0\n');
    expect(outcome.casaArguments).toEqual([
      '--nogui',
      '--nologger',
      '--pipeline',
      '-c',
      'calms_restore.py',
      'uid___A001_X1296_X675',
      `${workDir}/${JOB_FILES.outputDir}`,
    ]);
    expect(readdirSync(join(workDir, JOB_FILES.outputDir))).toEqual(['uid___A002_Xd33a12_X15be.ms.split.cal']);
    expect(outcome.log).toContain('Completed: 1 calibrated MS(s)');
    expect(outcome.log).not.toContain('Based on your selection');
    expect(outcome.log).not.toContain(OLD_CASA_BUILD_NOTICE);
  });

  it("starts the log with the seed's calibrator line and hands CASA the fields", () => {
    // Prepare
    const calibratorJob = { ...job, calibratorFields: ['J0510+1800', 'J0321+1234'] };

    // Act
    const outcome = run(jobScript(input({ job: calibratorJob })));

    // Assess
    expect(outcome.log.split('\n')[0]).toBe('*** Based on your selection, only data for field J0510+1800,J0321+1234 will be staged. ***');
    expect(outcome.casaArguments.at(-1)).toBe('J0510+1800,J0321+1234');
  });

  it("says an old build is the RHEL5 one, in the seed's words", () => {
    // Act
    const outcome = run(jobScript(input({ casaBuild: { name: 'casa-4.2.2', rhel5: true } })));

    // Assess
    expect(outcome.log.split('\n')).toContain('Old project, using RHEL5 build of CASA.');
  });

  it("records CASA's exit status when CASA fails", () => {
    // Act
    const outcome = run(jobScript(input()), { CASA_FAKE_EXIT: '7' });

    // Assess
    expect(outcome.status).toBe(7);
    expect(outcome.exitStatus).toBe('7\n');
    expect(outcome.log).toContain('CASA failed with exit status 7.');
  });

  it('fails when CASA succeeds without producing an MS', () => {
    // Act
    const outcome = run(jobScript(input()), { CASA_FAKE_EBS: '' });

    // Assess
    expect(outcome.exitStatus).toBe('1\n');
    expect(outcome.log).toContain('produced no calibrated MS');
  });

  describe('checksums of the tarballs', () => {
    const EBS = ['uid___A002_Xd33a12_X15be', 'uid___A002_Xd33a12_X2c01'];
    const outputDir = () => join(workDir, JOB_FILES.outputDir);
    const checksumFile = (name: string) => join(workDir, JOB_FILES.checksumDir, name);
    /** The tarball as Node sees `tar` make it, independently of the script. */
    const tarball = (measurementSet: string) =>
      spawnSync('bash', ['-c', `${TAR_CREATE} -- ${measurementSet}`], { cwd: outputDir(), maxBuffer: 1 << 26 }).stdout;
    const partsOf = (bytes: Buffer, partBytes: number) => {
      const parts: Buffer[] = [];
      for (let start = 0; start < bytes.length; start += partBytes) parts.push(bytes.subarray(start, start + partBytes));
      return parts;
    };
    const submitted = (partBytes: number): SubmittedJob => ({
      requestId: job.requestId,
      mous: job.mous,
      node: '127.0.0.1:2222',
      workDir,
      jobId: '999999999',
      submitMode: 'detached',
      submittedAt: '2026-11-24T12:00:00.000Z',
      tarPartBytes: partBytes,
    });

    // 10240 is tar's record size: every tarball is a whole number of those parts, and no empty part may follow.
    it.each([4096, 10240, 1 << 20])("records each MS's SHA-256 and one per part of %i bytes, as tar makes the tarball", (partBytes) => {
      // Act
      const outcome = run(jobScript(input({ job: { ...job, tarPartBytes: partBytes } })), {
        CASA_FAKE_EBS: EBS.join(' '),
        CASA_FAKE_DATA: '50000',
      });

      // Assess
      expect(outcome.exitStatus).toBe('0\n');
      expect(outcome.log).toContain('Completed. Recording the checksums of the tarballs ...');
      for (const eb of EBS) {
        const ms = `${eb}.ms.split.cal`;
        const bytes = tarball(ms);
        expect(bytes.length).toBeGreaterThan(60_000);
        expect(readFileSync(checksumFile(`${ms}.tar.sha256`), 'utf8')).toBe(`${sha256(bytes)}  -\n`);
        expect(readFileSync(checksumFile(`${ms}.tar.parts`), 'utf8')).toBe(
          partsOf(bytes, partBytes)
            .map((part) => `${sha256(part)}  -\n`)
            .join(''),
        );
      }
      // Nothing half-written or left over: the .partial files were renamed, the FIFO removed.
      expect(readdirSync(join(workDir, JOB_FILES.checksumDir)).sort()).toEqual(
        EBS.flatMap((eb) => [`${eb}.ms.split.cal.tar.parts`, `${eb}.ms.split.cal.tar.sha256`]).sort(),
      );
    });

    it('records what staging reads back and streams: every part from any part boundary on matches', () => {
      // Prepare
      const partBytes = 4096;
      run(jobScript(input({ job: { ...job, tarPartBytes: partBytes } })), { CASA_FAKE_EBS: EBS[0]!, CASA_FAKE_DATA: '40000' });
      const ms = `${EBS[0]}.ms.split.cal`;
      const node = submitted(partBytes);
      const bash = (program: string) => spawnSync('bash', ['-c', BASH_FROM_STDIN], { input: program, maxBuffer: 1 << 26 });

      // Act
      const recorded = parseChecksums(bash(readChecksumsProgram(node, ms)).stdout.toString());
      const whole = bash(tarProgram(node, ms, 0)).stdout;
      const resumedAt = 3;
      const resumed = bash(tarProgram(node, ms, resumedAt * partBytes)).stdout;

      // Assess
      expect(recorded).toBeDefined();
      expect(recorded!.sha256).toBe(sha256(whole));
      expect(partsOf(whole, partBytes).map(sha256)).toEqual(recorded!.parts);
      expect(recorded!.parts.length).toBeGreaterThan(resumedAt + 1);
      expect(resumed.equals(whole.subarray(resumedAt * partBytes))).toBe(true);
      expect(partsOf(resumed, partBytes).map(sha256)).toEqual(recorded!.parts.slice(resumedAt));
    });

    it('fails the job, leaving no checksums to stage by, when tar fails', () => {
      // Prepare
      writeFileSync(join(bin, 'tar'), '#!/bin/bash\necho "tar: simulated read error" >&2\nexit 2\n');
      chmodSync(join(bin, 'tar'), 0o755);

      // Act
      const outcome = run(jobScript(input()), { CASA_FAKE_DATA: '5000' });

      // Assess
      expect(outcome.exitStatus).toBe('1\n');
      expect(outcome.log).toContain('Could not checksum uid___A002_Xd33a12_X15be.ms.split.cal.tar (tar, tee, split: 2 0 0).');
      expect(outcome.log).not.toContain('Completed: ');
      expect(existsSync(checksumFile('uid___A002_Xd33a12_X15be.ms.split.cal.tar.sha256'))).toBe(false);
      expect(existsSync(checksumFile('uid___A002_Xd33a12_X15be.ms.split.cal.tar.parts'))).toBe(false);
    });
  });

  it('uses the build under the CASA root, and fails clearly when it is not installed', () => {
    // Prepare
    const casaRoot = join(sandbox, 'casa');
    mkdirSync(join(casaRoot, 'casa-6.5.4', 'bin'), { recursive: true });
    writeFileSync(join(casaRoot, 'casa-6.5.4', 'bin', 'casa'), FAKE_CASA);
    chmodSync(join(casaRoot, 'casa-6.5.4', 'bin', 'casa'), 0o755);
    rmSync(join(bin, 'casa'));

    // Act
    const installed = run(jobScript(input({ casaRoot })));
    const missing = run(jobScript(input({ casaRoot, casaBuild: { name: 'casa-9.9.9', rhel5: false } })));

    // Assess
    expect(installed.exitStatus).toBe('0\n');
    expect(missing.exitStatus).toBe('127\n');
    expect(missing.log).toContain(`CASA build casa-9.9.9 is not installed under ${casaRoot}.`);
  });

  it.each<[string, Partial<CalibrationJob>]>([
    ['a field', { calibratorFields: ['J0510+1800', 'x"; touch /tmp/pwned; "'] }],
    ['a field', { calibratorFields: ['$(id)'] }],
    ['the ticket', { helpdeskTicket: '`id`' }],
    ['the ticket', { helpdeskTicket: '16140\ntouch /tmp/pwned' }],
    ['the MOUS', { mous: "uid___A001_X1_X2'; id; '" }],
    ['the project', { projectCode: '2017.1.00727.S;id' }],
    ['the request id', { requestId: 'r/../../etc' }],
    ['the part size', { tarPartBytes: -1 }],
    ['the part size', { tarPartBytes: 1.5 }],
  ])('refuses to generate anything from a hostile value in %s', (_where, hostile) => {
    // Act
    const act = () => jobScript(input({ job: { ...job, ...hostile } }));

    // Assess
    expect(act).toThrow(UnsafeShellValueError);
  });

  it('refuses a hostile work directory or restore script', () => {
    // Act
    const badWorkDir = () => jobScript(input({ workDir: '/tmp/$(id)' }));
    const badScript = () => jobScript(input({ restoreScript: 'restore.py; id' }));

    // Assess
    expect(badWorkDir).toThrow(UnsafeShellValueError);
    expect(badScript).toThrow(UnsafeShellValueError);
  });
});

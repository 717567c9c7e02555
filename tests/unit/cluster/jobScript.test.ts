import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CalibrationJob } from '../../../lib/cluster/Cluster';
import { UnsafeShellValueError } from '../../../lib/cluster/errors';
import { JOB_FILES, OLD_CASA_BUILD_NOTICE, jobScript, workDirectory, type JobScriptInput } from '../../../lib/cluster/jobScript';

const job: CalibrationJob = {
  requestId: 'req-0001',
  mous: 'uid___A001_X1296_X675',
  projectCode: '2017.1.00727.S',
  helpdeskTicket: '16140',
  calibratorFields: [],
};

/** A fake casa that records its arguments and writes one MS per EB named in CASA_FAKE_EBS. */
const FAKE_CASA = `#!/bin/bash
printf '%s\\n' "$@" > "$CASA_FAKE_ARGS"
[ -n "\${CASA_FAKE_EXIT:-}" ] && { echo "fake casa failing"; exit "$CASA_FAKE_EXIT"; }
for eb in $CASA_FAKE_EBS; do mkdir -p "$7/$eb.ms.split.cal"; done
`;

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

  it('starts the log with the seed\'s calibrator line and hands CASA the fields', () => {
    // Prepare
    const calibratorJob = { ...job, calibratorFields: ['J0510+1800', 'J0321+1234'] };

    // Act
    const outcome = run(jobScript(input({ job: calibratorJob })));

    // Assess
    expect(outcome.log.split('\n')[0]).toBe(
      '*** Based on your selection, only data for field J0510+1800,J0321+1234 will be staged. ***',
    );
    expect(outcome.casaArguments.at(-1)).toBe('J0510+1800,J0321+1234');
  });

  it('says an old build is the RHEL5 one, in the seed\'s words', () => {
    // Act
    const outcome = run(jobScript(input({ casaBuild: { name: 'casa-4.2.2', rhel5: true } })));

    // Assess
    expect(outcome.log.split('\n')).toContain('Old project, using RHEL5 build of CASA.');
  });

  it('records CASA\'s exit status when CASA fails', () => {
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

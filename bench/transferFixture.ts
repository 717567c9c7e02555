/**
 * A calibrated MS on the emulated cluster, as a finished calibration job leaves it, without running CASA: a
 * work directory named as SshCluster.submit names it, one `<EB>.ms.split.cal` directory in `calibrated/`
 * with a `table.f0` of the requested size, and the tarball checksums recorded by the job script itself
 * (lib/cluster/jobScript.ts, run with bash, its casa a stub that leaves the MS as it is).
 *
 * The data is not constant (unlike the stand-in casa's): 16 MiB of random bytes, repeated with each copy's
 * number stamped into it, so that no layer could pass it on cheaply by compressing it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type CalibrationJob, SubmitMode, type SubmittedJob } from '../lib/cluster/Cluster';
import { JOB_FILES, jobScript, workDirectory } from '../lib/cluster/jobScript';

const BLOCK_BYTES = 16 * 1024 * 1024;
/** The CASA build named in the job script; its `bin/casa` under the stub root exits 0 and writes nothing. */
const STUB_BUILD = { name: 'bench-existing-ms', rhel5: false } as const;

export interface FixtureOptions {
  /** CALMS_CLUSTER_WORK_ROOT of the emulated cluster (its filesystem is this machine's). */
  readonly workRoot: string;
  /** The node the job is said to have run on. */
  readonly node: string;
  readonly requestId: string;
  readonly mous: string;
  /** `<EB>.ms.split.cal`. */
  readonly measurementSet: string;
  /** Size of the MS's data file; the tarball adds tar's headers and padding. */
  readonly bytes: number;
  /** The part size the job checksums with (CALMS_STAGING_PART_MIB at submission). */
  readonly partBytes: number;
  /** A directory for the stub casa. */
  readonly scratchDir: string;
}

/** Writes `bytes` bytes of non-repeating-looking data to `file`. */
export function writeIncompressible(file: string, bytes: number): void {
  const block = randomBytes(Math.min(BLOCK_BYTES, Math.max(bytes, 8)));
  const fd = fs.openSync(file, 'w');
  try {
    for (let written = 0, copy = 0; written < bytes; copy += 1) {
      block.writeBigUInt64LE(BigInt(copy), 0);
      const length = Math.min(block.length, bytes - written);
      fs.writeSync(fd, block, 0, length);
      written += length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function stubCasaRoot(scratchDir: string): string {
  const root = path.join(scratchDir, 'casa-stub');
  const bin = path.join(root, STUB_BUILD.name, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'casa'), '#!/bin/bash\n# bench/transferFixture.ts: the MS is already in the output directory.\nexit 0\n', {
    mode: 0o755,
  });
  return root;
}

function runScript(workDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [JOB_FILES.script], { cwd: workDir, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => {
      const status = fs.existsSync(path.join(workDir, JOB_FILES.exitStatus))
        ? fs.readFileSync(path.join(workDir, JOB_FILES.exitStatus), 'utf8').trim()
        : '';
      if (code === 0 && status === '0') return resolve();
      const log = fs.existsSync(path.join(workDir, JOB_FILES.log)) ? fs.readFileSync(path.join(workDir, JOB_FILES.log), 'utf8') : '';
      reject(new Error(`the job script in ${workDir} exited ${code} (recorded ${status || 'nothing'}):\n${log}`));
    });
  });
}

/** Creates the MS and its checksums; returns the job that staging streams it from. */
export async function createStagedJob(options: FixtureOptions): Promise<SubmittedJob> {
  const job: CalibrationJob = {
    requestId: options.requestId,
    mous: options.mous,
    projectCode: '2023.1.00456.S',
    helpdeskTicket: '1',
    calibratorFields: [],
    tarPartBytes: options.partBytes,
  };
  const workDir = workDirectory(options.workRoot, job);
  fs.rmSync(workDir, { recursive: true, force: true });
  const msDir = path.join(workDir, JOB_FILES.outputDir, options.measurementSet);
  fs.mkdirSync(msDir, { recursive: true });
  fs.writeFileSync(path.join(msDir, 'table.info'), `Type = Measurement Set\nSubType = CalMS transfer benchmark\n`);
  writeIncompressible(path.join(msDir, 'table.f0'), options.bytes);
  const script = jobScript({ job, workDir, casaBuild: STUB_BUILD, casaRoot: stubCasaRoot(options.scratchDir), restoreScript: 'calms_restore.py' });
  fs.writeFileSync(path.join(workDir, JOB_FILES.script), script, { mode: 0o700 });
  await runScript(workDir);
  return {
    requestId: job.requestId,
    mous: job.mous,
    node: options.node,
    workDir,
    jobId: '1',
    submitMode: SubmitMode.Detached,
    submittedAt: new Date().toISOString(),
    tarPartBytes: options.partBytes,
  };
}

/** Removes the job's work directory, MS and checksums with it. */
export function removeJob(job: SubmittedJob): void {
  fs.rmSync(job.workDir, { recursive: true, force: true });
}

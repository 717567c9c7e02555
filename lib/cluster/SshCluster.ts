/**
 * The Cluster port over SSH (ssh2): every call is one short connection to one node, so no Lambda has to
 * stay connected while a calibration runs for hours.
 */
import type { Readable } from 'node:stream';
import { utils } from 'ssh2';
import { ConfigurationError, type ClusterConfig } from '../config';
import { TerminalError } from '../errors';
import { timeLeftMs } from '../invocation';
import { logger as defaultLogger, type Logger } from '../log';
import { casaBuildFor } from './casaBuilds';
import type { CalibrationJob, Cluster, ClusterLogin, JobLogTail, JobStatus, NodeChoice, SubmittedJob, TarballChecksums } from './Cluster';
import { ClusterCommandError, ClusterUnreachableError, UnsafeShellValueError } from './errors';
import { jobScript, workDirectory } from './jobScript';
import {
  awaitEndProgram,
  BASH_FROM_STDIN,
  LOAD_AVERAGE_COMMAND,
  cancelProgram,
  parseLoadAverage,
  parseChecksums,
  parseStatus,
  readChecksumsProgram,
  catLogProgram,
  parseLogTail,
  readLogTailProgram,
  removeWorkDirProgram,
  statusProgram,
  submitProgram,
  tarProgram,
} from './remoteCommands';
import { runRemote, streamRemote, type RemoteResult } from './sshConnection';
import { requestLogKeys } from '../domain/request';

/**
 * What the adapter needs from the cluster configuration (the polling settings are the state machine's), with
 * the private key already read from wherever the configuration keeps it.
 */
/** What a look at a job's status takes once the wait on its node is over. */
export const STATUS_MARGIN_MS = 10_000;

export type SshClusterSettings = Omit<ClusterConfig, 'pollSeconds' | 'maxRuntimeSeconds' | 'privateKey'> & { readonly privateKey: string };

export class SshCluster implements Cluster, ClusterLogin {
  private readonly log: Logger;

  /** @throws ConfigurationError when the private key is not one ssh2 can use. */
  constructor(
    private readonly settings: SshClusterSettings,
    log: Logger = defaultLogger,
  ) {
    const parsed = utils.parseKey(settings.privateKey);
    if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
      throw new ConfigurationError('CALMS_CLUSTER_PRIVATE_KEY is not an unencrypted private key ssh2 can use');
    }
    this.log = log.with({ component: 'cluster' });
  }

  async chooseNode(): Promise<NodeChoice> {
    const answers = await Promise.all(this.settings.nodes.map((node) => this.readLoad(node)));
    const loads = answers.filter((answer): answer is NodeChoice => !('error' in answer));
    const failures = answers.filter((answer): answer is { node: string; error: Error } => 'error' in answer);
    if (loads.length === 0) {
      // A refused host key or user key will not go away by retrying: surface it rather than "unreachable".
      const terminal = failures.find(({ error }) => error instanceof TerminalError);
      if (terminal) throw terminal.error;
      throw new ClusterUnreachableError(`no cluster node answered: ${failures.map(({ node, error }) => `${node} (${error.message})`).join('; ')}`);
    }
    const chosen = loads.reduce((lowest, candidate) => (candidate.load < lowest.load ? candidate : lowest));
    this.log.info(`DATAMACHINE chosen: ${chosen.node}`, {
      node: chosen.node,
      load: chosen.load,
      skippedNodes: failures.map(({ node }) => node).join(',') || undefined,
    });
    return chosen;
  }

  async submit(node: string, job: CalibrationJob): Promise<SubmittedJob> {
    const log = this.log.with(requestLogKeys(job));
    const workDir = workDirectory(this.settings.workRoot, job);
    const casaBuild = casaBuildFor(this.settings.casaBuilds, job.projectCode);
    const script = jobScript({
      job,
      workDir,
      casaBuild,
      casaRoot: this.settings.casaRoot,
      restoreScript: this.settings.restoreScript,
    });
    const program = submitProgram({ workDir, mous: job.mous, script, submitMode: this.settings.submitMode });
    const result = await this.run(node, 'submit', program, log);
    const jobId = /^job (\d+)$/m.exec(result.stdout)?.[1];
    if (result.exitCode !== 0 || jobId === undefined) throw commandFailure(node, 'submit', result);
    const submitted: SubmittedJob = {
      requestId: job.requestId,
      mous: job.mous,
      node,
      workDir,
      jobId,
      submitMode: this.settings.submitMode,
      submittedAt: new Date().toISOString(),
      tarPartBytes: job.tarPartBytes,
    };
    log.info('Calibration job submitted', { node, workDir, jobId, submitMode: submitted.submitMode, casaBuild: casaBuild.name });
    return submitted;
  }

  async status(job: SubmittedJob): Promise<JobStatus> {
    const result = await this.runForJob(job, 'status', statusProgram(this.ownJob(job)));
    const status = parseStatus(result.stdout, job.workDir);
    if (!status) throw commandFailure(job.node, 'status', result);
    return status;
  }

  async awaitEnd(job: SubmittedJob, waitSeconds: number, pollSeconds: number): Promise<JobStatus> {
    // The wait ends early enough for the status to come back within the invocation: connecting, then a short look.
    const left = timeLeftMs();
    const fits = left === undefined ? waitSeconds : Math.floor((left - this.settings.connectTimeoutMs - STATUS_MARGIN_MS) / 1000);
    const seconds = Math.max(0, Math.min(Math.floor(waitSeconds), fits));
    const program = awaitEndProgram(this.ownJob(job), seconds, Math.max(1, Math.floor(pollSeconds)));
    const result = await this.runForJob(job, 'awaitEnd', program, seconds * 1000 + this.settings.commandTimeoutMs);
    const status = parseStatus(result.stdout, job.workDir);
    if (!status) throw commandFailure(job.node, 'awaitEnd', result);
    return status;
  }

  async readLogTail(job: SubmittedJob, maxBytes: number): Promise<JobLogTail> {
    const result = await this.runForJob(job, 'readLogTail', readLogTailProgram(this.ownJob(job), maxBytes));
    const parsed = parseLogTail(result.stdout);
    if (!parsed) throw commandFailure(job.node, 'readLogTail', result);
    return { text: parsed.tail, totalBytes: parsed.totalBytes };
  }

  streamLog(job: SubmittedJob): Readable {
    const command = { operation: 'streamLog', command: BASH_FROM_STDIN, stdin: catLogProgram(this.ownJob(job)) };
    return streamRemote(job.node, this.settings, command, this.jobLog(job));
  }

  async cancel(job: SubmittedJob): Promise<void> {
    await this.runForJob(job, 'cancel', cancelProgram(this.ownJob(job)));
  }

  async removeWorkDir(job: SubmittedJob): Promise<void> {
    await this.runForJob(job, 'removeWorkDir', removeWorkDirProgram(this.ownJob(job)));
  }

  async readTarballChecksums(job: SubmittedJob, measurementSet: string): Promise<TarballChecksums> {
    const result = await this.runForJob(job, 'readTarballChecksums', readChecksumsProgram(this.ownJob(job), measurementSet));
    const checksums = parseChecksums(result.stdout);
    if (!checksums) throw commandFailure(job.node, 'readTarballChecksums', result);
    return checksums;
  }

  streamTar(job: SubmittedJob, measurementSet: string, offset: number): Readable {
    const program = tarProgram(this.ownJob(job), measurementSet, offset);
    const command = { operation: 'streamTar', command: BASH_FROM_STDIN, stdin: program };
    return streamRemote(job.node, this.settings, command, this.jobLog(job));
  }

  async logIn(node: string): Promise<void> {
    const timeoutMs = 2 * this.settings.connectTimeoutMs;
    const result = await runRemote(node, this.settings, { operation: 'logIn', command: 'true', timeoutMs }, this.log);
    if (result.exitCode !== 0) throw commandFailure(node, 'logIn', result);
  }

  private async readLoad(node: string): Promise<NodeChoice | { node: string; error: Error }> {
    try {
      // Both connecting and reading count against the node: a node that cannot answer this quickly is busy.
      const timeoutMs = 2 * this.settings.connectTimeoutMs;
      const result = await runRemote(node, this.settings, { operation: 'readLoad', command: LOAD_AVERAGE_COMMAND, timeoutMs }, this.log);
      const load = parseLoadAverage(result.stdout);
      if (result.exitCode !== 0 || Number.isNaN(load)) throw commandFailure(node, 'readLoad', result);
      return { node, load };
    } catch (error) {
      return { node, error: error as Error };
    }
  }

  /**
   * The work directory of a job travels in the execution state; before anything is run in it (or removed),
   * make sure it is one of ours: directly under the work root, named as {@link workDirectory} names it.
   */
  private ownJob(job: SubmittedJob): SubmittedJob {
    if (job.workDir !== workDirectory(this.settings.workRoot, job)) {
      throw new UnsafeShellValueError(`${job.workDir} is not the work directory of request ${job.requestId} for ${job.mous}`);
    }
    return job;
  }

  private jobLog(job: SubmittedJob): Logger {
    return this.log.with({ requestId: job.requestId, mous: job.mous, jobId: job.jobId });
  }

  private async runForJob(job: SubmittedJob, operation: string, program: string, timeoutMs?: number): Promise<RemoteResult> {
    const result = await this.run(job.node, operation, program, this.jobLog(job), timeoutMs);
    if (result.exitCode !== 0) throw commandFailure(job.node, operation, result);
    return result;
  }

  private run(node: string, operation: string, program: string, log: Logger, timeoutMs = this.settings.commandTimeoutMs): Promise<RemoteResult> {
    const call = { operation, command: BASH_FROM_STDIN, stdin: program, timeoutMs };
    return runRemote(node, this.settings, call, log);
  }
}

function commandFailure(node: string, operation: string, result: RemoteResult): ClusterCommandError {
  const ending = result.exitCode === null ? `was ended by signal ${result.signal ?? 'unknown'}` : `exited with status ${result.exitCode}`;
  const detail = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
  return new ClusterCommandError(`${operation} on ${node} ${ending}${detail ? `: ${detail}` : ''}`);
}

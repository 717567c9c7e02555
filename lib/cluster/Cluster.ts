/**
 * The EU ARC cluster as the procedure uses it (the first half of the seed's stagecalms): choose a node with
 * low load, submit the job that restores a MOUS's calibrated MSs, check on it while it runs for hours, read
 * its log, and clean up. Implementations throw the errors of ./errors.ts.
 */
import type { Readable } from 'node:stream';

/** What to calibrate; every field is validated again before it reaches a node's shell. */
export interface CalibrationJob {
  readonly requestId: string;
  /** File-name form, e.g. `uid___A001_X1296_X675`. */
  readonly mous: string;
  readonly projectCode: string;
  readonly helpdeskTicket: string;
  /** Empty for the whole MOUS; otherwise only these calibrator fields are kept. */
  readonly calibratorFields: readonly string[];
  /**
   * Part size of the tarballs' multipart uploads: the job records a SHA-256 per part of this size, which
   * staging checks each part against before it uploads it.
   */
  readonly tarPartBytes: number;
}

export interface NodeChoice {
  /** `host:port`, as in `CALMS_CLUSTER_NODES`. */
  readonly node: string;
  /** The node's one-minute load average. */
  readonly load: number;
}

export const SubmitMode = { Detached: 'detached', Sbatch: 'sbatch' } as const;
export type SubmitMode = (typeof SubmitMode)[keyof typeof SubmitMode];

/**
 * A job on the cluster. Plain JSON because it travels in the Step Functions execution state between the
 * Lambdas that submit, poll, read the log of and clean up after it.
 */
export interface SubmittedJob {
  readonly requestId: string;
  readonly mous: string;
  readonly node: string;
  /** Absolute path on the cluster's shared filesystem; kept after a failure for investigation. */
  readonly workDir: string;
  /** Process id of a detached job, or Slurm job id. */
  readonly jobId: string;
  /** How it was started, so a change of configuration does not confuse the checks on jobs already running. */
  readonly submitMode: SubmitMode;
  /** ISO 8601, UTC. */
  readonly submittedAt: string;
  /** As submitted: the part size of the job's tarball checksums. */
  readonly tarPartBytes: number;
}

/** What the job recorded about the tarball of one MS, before staging reads it. */
export interface TarballChecksums {
  /** SHA-256 of the whole `tar cf -` stream, hex. */
  readonly sha256: string;
  /** SHA-256 of each consecutive `tarPartBytes` slice of it (the last one shorter), hex, in order. */
  readonly parts: readonly string[];
}

/** The end of a job log, and how long the whole is. */
export interface JobLogTail {
  readonly text: string;
  readonly totalBytes: number;
}

export const JobState = { Running: 'running', Succeeded: 'succeeded', Failed: 'failed' } as const;

export type JobStatus =
  | { readonly state: typeof JobState.Running }
  | {
      readonly state: typeof JobState.Succeeded;
      /** Produced directory names, e.g. `uid___A002_Xd33a12_X15be.ms.split.cal`, sorted. */
      readonly measurementSets: readonly string[];
    }
  | {
      readonly state: typeof JobState.Failed;
      /** The job's exit status; null when it ended without recording one (killed hard, node restarted). */
      readonly exitCode: number | null;
      /** One line an operator can read, e.g. "the job exited with status 1". */
      readonly reason: string;
    };

export interface Cluster {
  /** The answering node with the lowest load; logs `DATAMACHINE chosen: <node>` as the seed does. */
  chooseNode(): Promise<NodeChoice>;
  /** Creates the job's work directory on `node` and starts the job there, detached; returns at once. */
  submit(node: string, job: CalibrationJob): Promise<SubmittedJob>;
  /** One short check; never waits for the job. */
  status(job: SubmittedJob): Promise<JobStatus>;
  /**
   * Waits on the job's node for it to end, looking every `pollSeconds`, for at most `waitSeconds` (less when the
   * function invocation has less time left); then its status, running if it still runs.
   */
  awaitEnd(job: SubmittedJob, waitSeconds: number, pollSeconds: number): Promise<JobStatus>;
  /**
   * The last `maxBytes` bytes of the job log (`tail -c` on the node, so no more than that crosses the network)
   * and the log's whole size; empty and 0 when the job never wrote one.
   */
  readLogTail(job: SubmittedJob, maxBytes: number): Promise<JobLogTail>;
  /** The whole job log, streamed from the node as it is read (empty when the job never wrote one). */
  streamLog(job: SubmittedJob): Readable;
  /** Stops the job if it still runs; afterwards its status is failed. */
  cancel(job: SubmittedJob): Promise<void>;
  /** Deletes the work directory with the produced MSs and the log; only after staging has copied them. */
  removeWorkDir(job: SubmittedJob): Promise<void>;
  /** The checksums the job recorded for the tarball of `measurementSet`. */
  readTarballChecksums(job: SubmittedJob, measurementSet: string): Promise<TarballChecksums>;
  /**
   * `tar cf -` of one produced MS directory from byte `offset` on, streamed from the node as it is read (for
   * staging into S3; a resumed upload starts where its last complete part ended). The bytes are the ones the
   * job checksummed: tar runs with the same options. The stream fails with a cluster error if the node or tar
   * does; a name that is not an MS directory name throws UnsafeShellValueError at once.
   */
  streamTar(job: SubmittedJob, measurementSet: string, offset: number): Readable;
}

/** Logging in to one node, as `calms doctor` tries each: throws the errors of ./errors.ts. */
export interface ClusterLogin {
  /** Connects to `node` (one of the configured ones), checks its host key against the pinned ones, logs in and runs nothing harmful. */
  logIn(node: string): Promise<void>;
}

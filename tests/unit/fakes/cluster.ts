import type { Readable } from 'node:stream';
import type { CalibrationJob, Cluster, JobStatus, NodeChoice, SubmittedJob } from '../../../lib/cluster/Cluster';
import { Failures } from './failures';

type Method = 'chooseNode' | 'submit' | 'status' | 'readLog' | 'cancel';

/**
 * A `Cluster` whose node choice, job statuses and log are scripted: `statuses` are answered in turn (the last
 * one again once they run out). It records submissions and cancellations.
 */
export class ScriptedCluster implements Cluster {
  readonly submitted: { node: string; job: CalibrationJob }[] = [];
  readonly cancelled: SubmittedJob[] = [];
  readonly failures = new Failures<Method>();
  statuses: JobStatus[] = [{ state: 'running' }];
  log = 'CASA stand-in restoring\n';

  constructor(
    private readonly choice: NodeChoice = { node: 'arcp14.hq.eso.org:22', load: 0.2 },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async chooseNode(): Promise<NodeChoice> {
    this.failures.check('chooseNode');
    return this.choice;
  }

  async submit(node: string, job: CalibrationJob): Promise<SubmittedJob> {
    this.failures.check('submit');
    this.submitted.push({ node, job });
    return {
      requestId: job.requestId,
      mous: job.mous,
      node,
      workDir: `/opsw/work/calms-${job.requestId}-${job.mous}`,
      jobId: '4242',
      submitMode: 'detached',
      submittedAt: this.clock().toISOString(),
    };
  }

  async status(): Promise<JobStatus> {
    this.failures.check('status');
    return this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0]!;
  }

  async readLog(): Promise<string> {
    this.failures.check('readLog');
    return this.log;
  }

  async cancel(job: SubmittedJob): Promise<void> {
    this.failures.check('cancel');
    this.cancelled.push(job);
  }

  async removeWorkDir(): Promise<void> {
    throw new Error('not used by the calibration steps');
  }

  streamTar(): Readable {
    throw new Error('not used by the calibration steps');
  }
}

import { ClusterJobFailedError, ClusterUnreachableError } from '../../../lib/cluster/errors';
import {
  type Calibration,
  type CalibrationDeps,
  CalibrationTimedOutError,
  checkCalibrationJob,
  reportCalibrationFailure,
  submitCalibrationJob,
  waitForCalibrationJob,
} from '../../../lib/processing/calibration';
import { fakeStepDeps, InMemoryJobLogStore, ScriptedCluster, seedMousRequest } from '../fakes';

import { RequestCancelledError, StorageUnavailableError } from '../../../lib/errors';

const SUBMITTED_AT = new Date('2026-11-24T12:00:00Z');

function harness(now = SUBMITTED_AT) {
  let clock = now;
  const cluster = new ScriptedCluster(undefined, () => clock);
  const { deps: stepDeps, mailer, log, slots, rules } = fakeStepDeps(() => clock);
  const jobLogs = new InMemoryJobLogStore();
  const deps: CalibrationDeps = {
    ...stepDeps,
    cluster,
    jobLogs,
    timing: { pollSeconds: 300, maxRuntimeSeconds: 3600, stepSeconds: 840 },
    deliveryLocation: (request) => `s3://calms-data/deliveries/${request.requestId}/`,
    tarPartBytes: 8 * 1024 * 1024,
  };
  return { deps, cluster, mailer, slots, log, jobLogs, leaseSeconds: rules.leaseSeconds, setClock: (at: Date) => (clock = at) };
}

describe('submitCalibrationJob', () => {
  it("submits the request's MOUS, project, ticket, fields and tarball part size on the chosen node, with the polling fixed at submission", async () => {
    // Prepare
    const { deps, cluster } = harness();
    const request = seedMousRequest();

    // Act
    const calibration = await submitCalibrationJob(deps, request, 'arcp14:22');

    // Assess
    expect(cluster.submitted).toEqual([
      {
        node: 'arcp14:22',
        job: {
          requestId: request.requestId,
          mous: 'uid___A001_X1296_X675',
          projectCode: '2017.1.00727.S',
          helpdeskTicket: '16140',
          calibratorFields: ['J0510+1800', 'J0321+1234'],
          tarPartBytes: 8 * 1024 * 1024,
        },
      },
    ]);
    expect(calibration.job.tarPartBytes).toBe(8 * 1024 * 1024);
    expect(calibration.pollSeconds).toBe(300);
    expect(calibration.deadline).toBe('2026-11-24T13:00:00.000Z');
    expect(calibration.job.node).toBe('arcp14:22');
  });

  it('stops the job it just submitted when the request was cancelled meanwhile, and lets nobody in after it', async () => {
    // Prepare
    const { deps, cluster, slots } = harness();
    const request = seedMousRequest();
    slots.seedHolder(request);
    await deps.cancelMarks.mark(request.requestId, SUBMITTED_AT);

    // Act
    const submitted = submitCalibrationJob(deps, request, 'arcp14:22');

    // Assess
    await expect(submitted).rejects.toBeInstanceOf(RequestCancelledError);
    await expect(submitted).rejects.toThrow(
      `Request ${request.requestId} was cancelled while its job was submitted on arcp14:22; the job was stopped.`,
    );
    expect(cluster.cancelled.map((job) => job.node)).toEqual(['arcp14:22']);
    expect(slots.holderOf(request.requestId)?.jobStartedAt).toBeUndefined();
  });

  it("notes on the request's staging slot that its job started, with a fresh lease, once the job is on the cluster", async () => {
    // Prepare
    const { deps, slots, setClock, leaseSeconds } = harness();
    const request = seedMousRequest();
    slots.seedHolder(request);
    const submittedAt = new Date(SUBMITTED_AT.getTime() + 90_000);
    setClock(submittedAt);

    // Act
    await submitCalibrationJob(deps, request, 'arcp14:22');

    // Assess
    expect(slots.holderOf(request.requestId)).toMatchObject({
      jobStartedAt: submittedAt.toISOString(),
      leaseUntil: new Date(submittedAt.getTime() + leaseSeconds * 1000).toISOString(),
    });
  });

  it('lets the next request in the queue in only once the job is submitted', async () => {
    // Prepare
    const { deps, slots } = harness();
    const request = seedMousRequest();
    const next = seedMousRequest({ helpdeskTicket: '16141' });
    for (const queued of [request, next]) await deps.queue.join(queued);
    await deps.queue.acquire(request);

    // Act
    const beforeSubmission = await deps.queue.acquire(next);
    await submitCalibrationJob(deps, request, 'arcp14:22');
    const afterSubmission = await deps.queue.acquire(next);

    // Assess
    expect(beforeSubmission).toMatchObject({ acquired: false, position: 1, holders: [request.requestId] });
    expect(afterSubmission.acquired).toBe(true);
    expect(slots.currentHolders().map((holder) => holder.requestId)).toEqual([request.requestId, next.requestId]);
  });

  it('does not note a job start when the submission failed: the next request stays out', async () => {
    // Prepare
    const { deps, cluster, slots } = harness();
    const request = seedMousRequest();
    const next = seedMousRequest({ helpdeskTicket: '16141' });
    for (const queued of [request, next]) await deps.queue.join(queued);
    await deps.queue.acquire(request);
    cluster.failures.failNext('submit', new ClusterUnreachableError('arcp14:22: ECONNRESET'));
    const writes = slots.holderWrites;

    // Act
    const submission = submitCalibrationJob(deps, request, 'arcp14:22');

    // Assess
    await expect(submission).rejects.toBeInstanceOf(ClusterUnreachableError);
    expect(slots.holderWrites).toBe(writes);
    expect(slots.holderOf(request.requestId)).not.toHaveProperty('jobStartedAt');
    expect(await deps.queue.acquire(next)).toMatchObject({ acquired: false, position: 1 });
  });

  it('still hands on the submitted job when the request holds no slot (any more), saying so', async () => {
    // Prepare
    const { deps, cluster, slots, log } = harness();
    const request = seedMousRequest();

    // Act
    const calibration = await submitCalibrationJob(deps, request, 'arcp14:22');

    // Assess
    expect(calibration.job.requestId).toBe(request.requestId);
    expect(cluster.submitted).toHaveLength(1);
    expect(slots.currentHolders()).toEqual([]);
    expect(log.messages('warn')).toEqual(['staging slot lease lost: renewed too late, the slot went to another request']);
  });
});

describe('waitForCalibrationJob', () => {
  async function submitted(deps: CalibrationDeps): Promise<Calibration> {
    return submitCalibrationJob(deps, seedMousRequest(), 'arcp14:22');
  }

  it('waits on the node for one step, looking as often as fixed at submission, and says running while the job runs', async () => {
    // Prepare
    const { deps, cluster, setClock } = harness();
    const calibration = await submitted(deps);
    setClock(new Date('2026-11-24T12:30:00Z'));

    // Act
    const wait = await waitForCalibrationJob(deps, calibration);

    // Assess
    expect(wait).toEqual({ state: 'running' });
    expect(cluster.waits).toEqual([{ waitSeconds: 840, pollSeconds: 300 }]);
    expect(cluster.cancelled).toEqual([]);
  });

  it("waits no longer than to the job's deadline, and past it does not wait but hands over to the check", async () => {
    // Prepare
    const { deps, cluster, setClock } = harness();
    const calibration = await submitted(deps);

    // Act
    setClock(new Date('2026-11-24T12:58:20Z'));
    const before = await waitForCalibrationJob(deps, calibration);
    setClock(new Date('2026-11-24T13:00:00.001Z'));
    const after = await waitForCalibrationJob(deps, calibration);

    // Assess
    expect(before).toEqual({ state: 'running' });
    expect(after).toEqual({ state: 'ended' });
    expect(cluster.waits).toEqual([{ waitSeconds: 100, pollSeconds: 300 }]);
  });

  it("says ended as soon as the job has ended, well or not: how is the check's to tell", async () => {
    // Prepare
    const { deps, cluster } = harness();
    const calibration = await submitted(deps);
    cluster.statuses = [
      { state: 'succeeded', measurementSets: ['uid___A002_Xc6c0d5_X2b4e.ms.split.cal'] },
      { state: 'failed', exitCode: 1, reason: 'the job exited with status 1' },
    ];

    // Act
    const waits = [await waitForCalibrationJob(deps, calibration), await waitForCalibrationJob(deps, calibration)];

    // Assess
    expect(waits).toEqual([{ state: 'ended' }, { state: 'ended' }]);
  });

  it("renews the request's staging slot at every waiting step, so a request still calibrating keeps it", async () => {
    // Prepare
    const { deps, slots, setClock, leaseSeconds } = harness();
    const calibration = await submitted(deps);
    slots.seedHolder(seedMousRequest(), { leaseUntil: new Date(SUBMITTED_AT.getTime() + leaseSeconds * 1000) });
    const leases: string[] = [];

    // Act
    for (const minutes of [5, 10, 15]) {
      setClock(new Date(SUBMITTED_AT.getTime() + minutes * 60_000));
      await waitForCalibrationJob(deps, calibration);
      leases.push(slots.holderOf(calibration.job.requestId)!.leaseUntil);
    }

    // Assess
    expect(leases).toEqual([5, 10, 15].map((minutes) => new Date(SUBMITTED_AT.getTime() + minutes * 60_000 + leaseSeconds * 1000).toISOString()));
  });

  it('renews the lease again once the wait on the node is over, so it outlasts a step or a hand-over, not both', async () => {
    // Prepare: the wait on the node takes the whole step.
    const { deps, cluster, slots, setClock, leaseSeconds } = harness();
    const calibration = await submitted(deps);
    slots.seedHolder(seedMousRequest(), { leaseUntil: new Date(SUBMITTED_AT.getTime() + leaseSeconds * 1000) });
    const waitOnNode = cluster.awaitEnd.bind(cluster);
    cluster.awaitEnd = async (job, waitSeconds, pollSeconds) => {
      setClock(new Date(SUBMITTED_AT.getTime() + waitSeconds * 1000));
      return waitOnNode(job, waitSeconds, pollSeconds);
    };

    // Act
    await waitForCalibrationJob(deps, calibration);

    // Assess
    expect(slots.holderOf(calibration.job.requestId)!.leaseUntil).toBe(new Date(SUBMITTED_AT.getTime() + (840 + leaseSeconds) * 1000).toISOString());
  });

  it('renews without touching when the job started: that stays the time of submission', async () => {
    // Prepare
    const { deps, slots, setClock } = harness();
    const request = seedMousRequest();
    slots.seedHolder(request);
    const calibration = await submitCalibrationJob(deps, request, 'arcp14:22');
    setClock(new Date(SUBMITTED_AT.getTime() + 5 * 60_000));

    // Act
    await waitForCalibrationJob(deps, calibration);

    // Assess
    expect(slots.holderOf(request.requestId)!.jobStartedAt).toBe(SUBMITTED_AT.toISOString());
  });
});

describe('checkCalibrationJob', () => {
  async function submitted(deps: CalibrationDeps): Promise<Calibration> {
    return submitCalibrationJob(deps, seedMousRequest(), 'arcp14:22');
  }

  it('stops a job still running, which the wait hands over only at its deadline, and fails with the reason', async () => {
    // Prepare
    const { deps, cluster, setClock } = harness();
    const calibration = await submitted(deps);
    setClock(new Date('2026-11-24T13:00:00.001Z'));

    // Act
    const check = checkCalibrationJob(deps, calibration);

    // Assess
    await expect(check).rejects.toBeInstanceOf(CalibrationTimedOutError);
    await expect(check).rejects.toThrow(
      'was still running at its deadline 2026-11-24T13:00:00.000Z (submitted 2026-11-24T12:00:00.000Z); it was stopped.',
    );
    expect(cluster.cancelled).toEqual([calibration.job]);
  });

  it('hands on the produced MSs of a finished job, even one that finished after its deadline', async () => {
    // Prepare
    const { deps, cluster, setClock } = harness();
    const calibration = await submitted(deps);
    cluster.statuses = [{ state: 'succeeded', measurementSets: ['uid___A002_Xc6c0d5_X2b4e.ms.split.cal'] }];
    setClock(new Date('2026-11-25T00:00:00Z'));

    // Act
    const progress = await checkCalibrationJob(deps, calibration);

    // Assess
    expect(progress).toEqual({ state: 'succeeded', measurementSets: ['uid___A002_Xc6c0d5_X2b4e.ms.split.cal'] });
    expect(cluster.cancelled).toEqual([]);
  });

  it('fails with ClusterJobFailedError naming the node and the reason of a failed job', async () => {
    // Prepare
    const { deps, cluster } = harness();
    const calibration = await submitted(deps);
    cluster.statuses = [{ state: 'failed', exitCode: 1, reason: 'the job exited with status 1' }];

    // Act
    const check = checkCalibrationJob(deps, calibration);

    // Assess
    await expect(check).rejects.toBeInstanceOf(ClusterJobFailedError);
    await expect(check).rejects.toThrow('The calibration job on arcp14:22 failed: the job exited with status 1.');
  });

  it('renews before it learns the job failed, and goes on checking when the slot was lost, saying so', async () => {
    // Prepare: the slot was lost already at submission, which said so once.
    const { deps, cluster, slots, log } = harness();
    const calibration = await submitted(deps);
    cluster.statuses = [{ state: 'failed', exitCode: 1, reason: 'the job exited with status 1' }];
    const updatesAtSubmission = slots.callsOf('updateHolders').length;
    const warningsAtSubmission = log.messages('warn').length;

    // Act
    const check = checkCalibrationJob(deps, calibration);

    // Assess
    await expect(check).rejects.toBeInstanceOf(ClusterJobFailedError);
    expect(slots.callsOf('updateHolders')).toHaveLength(updatesAtSubmission + 1);
    expect(log.messages('warn').slice(warningsAtSubmission)).toEqual(['staging slot lease lost: renewed too late, the slot went to another request']);
  });

  it("lets an unreachable node's error through for the state machine to retry", async () => {
    // Prepare
    const { deps, cluster } = harness();
    const calibration = await submitted(deps);
    cluster.failures.failNext('status', new ClusterUnreachableError('arcp14:22: ECONNRESET'));

    // Act
    const check = checkCalibrationJob(deps, calibration);

    // Assess
    await expect(check).rejects.toBeInstanceOf(ClusterUnreachableError);
  });
});

describe('reportCalibrationFailure', () => {
  const failure = {
    Error: 'ClusterJobFailedError',
    Cause: JSON.stringify({
      errorType: 'ClusterJobFailedError',
      errorMessage: 'The calibration job on arcp14:22 failed: the job exited with status 1.',
    }),
  };

  it("mails the maintainer stagecalms' output: command, node, work directory, the log (kept whole beside the request) and the seed's failure lines", async () => {
    // Prepare
    const { deps, cluster, mailer } = harness();
    const request = seedMousRequest();
    const { job } = await submitCalibrationJob(deps, request, 'arcp14:22');
    cluster.log = 'Restoring MOUS uid___A001_X1296_X675\nSEVERE casa failed\nCASA failed with exit status 1.\n';

    // Act
    const reported = await reportCalibrationFailure(deps, request, failure, job);

    // Assess
    expect(reported).toEqual({ Error: 'ClusterJobFailedError', Cause: 'The calibration job on arcp14:22 failed: the job exited with status 1.' });
    const [mail] = mailer.sent;
    expect(mail!.to).toEqual(['dpetry@eso.org']);
    expect(mail!.text).toContain(
      [
        'stagecalms.sh 2017.1.00727.S uid://A001/X1296/X675 16140 X "J0510+1800,J0321+1234"',
        'DATAMACHINE chosen: arcp14:22',
        `(re-)creating directory ${job.workDir}`,
        'Now generating the calibrated MS(s) ...',
        'Generated the job script. Now submitting and waiting for completion ...',
        `(The whole job log is kept as s3://calms-data/requests/${request.requestId}/calms-job.log.)`,
        'Restoring MOUS uid___A001_X1296_X675',
        'SEVERE casa failed',
        'CASA failed with exit status 1.',
        `Failed. Please investigate  s3://calms-data/deliveries/${request.requestId}/ and possibly remove incomplete data belonging to MOUS uid://A001/X1296/X675`,
        `The working directory ${job.workDir} on the EU ARC cluster was not removed.`,
      ].join('\n'),
    );
  });

  it('still reports when the log cannot be read, saying why', async () => {
    // Prepare
    const { deps, cluster, mailer } = harness();
    const request = seedMousRequest();
    const { job } = await submitCalibrationJob(deps, request, 'arcp14:22');
    cluster.failures.failAlways('readLogTail', new ClusterUnreachableError('arcp14:22: ECONNREFUSED'));

    // Act
    await reportCalibrationFailure(deps, request, failure, job);

    // Assess
    expect(mailer.sent[0]!.text).toContain('(the job log could not be read from arcp14:22: arcp14:22: ECONNREFUSED)');
    expect(mailer.sent[0]!.text).toContain(`The working directory ${job.workDir} on the EU ARC cluster was not removed.`);
  });

  it('with a 40 MB job log: the email carries its last 256 KiB and says it was cut; the whole is streamed into the bucket', async () => {
    // Prepare: 40 MiB of log lines, the reason at the end
    const { deps, cluster, mailer, jobLogs } = harness();
    const request = seedMousRequest();
    const { job } = await submitCalibrationJob(deps, request, 'arcp14:22');
    const line = 'INFO  casa  applycal  flagging the solutions of one more spectral window, as CASA does\n';
    const filler = line.repeat(Math.ceil((40 * 1024 * 1024) / line.length));
    cluster.log = `${filler}SEVERE applycal failed\nCASA failed with exit status 1.\n`;
    const logBytes = Buffer.byteLength(cluster.log);

    // Act
    await reportCalibrationFailure(deps, request, failure, job);

    // Assess
    const text = mailer.sent[0]!.text;
    expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024 + 4096);
    expect(Buffer.byteLength(text)).toBeGreaterThan(250 * 1024);
    expect(text).toContain(`(The job log has ${logBytes} bytes: it was cut, and only its last 262144 bytes follow.)`);
    expect(text).toContain(`(The whole job log is kept as s3://calms-data/requests/${request.requestId}/calms-job.log.)\n${line}`);
    expect(text).toContain('SEVERE applycal failed\nCASA failed with exit status 1.\nFailed. Please investigate');
    const kept = jobLogs.stored.get(`requests/${request.requestId}/calms-job.log`)!;
    expect(kept.bytes).toBe(logBytes);
    expect(kept.largestChunk).toBeLessThanOrEqual(64 * 1024);
  });

  it("keeps a re-drive's log under a name of its own", async () => {
    // Prepare
    const { deps, jobLogs } = harness();
    const request = { ...seedMousRequest(), redrive: 2 };
    const { job } = await submitCalibrationJob(deps, request, 'arcp14:22');

    // Act
    await reportCalibrationFailure(deps, request, failure, job);

    // Assess
    expect([...jobLogs.stored.keys()]).toEqual([`requests/${request.requestId}/calms-job-redrive-2.log`]);
  });

  it("is retried when S3 cannot keep the log, and reports the log's end when the node stops sending it", async () => {
    // Prepare
    const storageAway = harness();
    const nodeAway = harness();
    const request = seedMousRequest();
    const jobs = [
      (await submitCalibrationJob(storageAway.deps, request, 'arcp14:22')).job,
      (await submitCalibrationJob(nodeAway.deps, request, 'arcp14:22')).job,
    ];
    storageAway.jobLogs.failures.failNext('store', new StorageUnavailableError('S3 did not answer'));
    nodeAway.jobLogs.failures.failNext('store', new ClusterUnreachableError('arcp14:22 stopped answering'));

    // Act
    const retried = reportCalibrationFailure(storageAway.deps, request, failure, jobs[0]);
    await reportCalibrationFailure(nodeAway.deps, request, failure, jobs[1]);

    // Assess
    await expect(retried).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(storageAway.mailer.sent).toEqual([]);
    expect(nodeAway.mailer.sent[0]!.text).toContain(
      '(The whole job log is kept as nowhere: it could not be copied from arcp14:22 (arcp14:22 stopped answering).)',
    );
    expect(nodeAway.mailer.sent[0]!.text).toContain('CASA stand-in restoring');
  });

  it('reports a failure before any job was submitted without a work directory', async () => {
    // Prepare
    const { deps, mailer } = harness();
    const request = seedMousRequest({ calibratorFields: [] });

    // Act
    await reportCalibrationFailure(deps, request, { Error: 'HostKeyMismatchError', Cause: 'arcp14:22: the host key changed' }, undefined);

    // Assess
    const text = mailer.sent[0]!.text;
    expect(text).toContain('Cause: arcp14:22: the host key changed\n');
    expect(text).toContain(
      `stagecalms.sh 2017.1.00727.S uid://A001/X1296/X675 16140\nFailed. Please investigate  s3://calms-data/deliveries/${request.requestId}/ and possibly remove incomplete data belonging to MOUS uid://A001/X1296/X675\n`,
    );
    expect(text).not.toContain('working directory');
  });
});

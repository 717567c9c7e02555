/**
 * Calibration on the emulated cluster, from the request through node choice, the job and its polling to the
 * end: success, and each failure kind (job failed, maximum runtime passed, node lost) to the maintainer's
 * email with the job log and the kept work directory. Hostile values sent through the whole request path
 * must never run on the cluster.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { executionHistory, mailsOf, postRequest, service, statesEntered, triggerExists, waitForExecution, type CaughtMail } from './support/clients';
import { eventually } from './support/eventually';
import { testRequests } from './support/requests';
import { FAILING_MOUS, HANGING_MOUS, NODE_LOST_MOUS, TEST_STATE_DIR } from './support/testCloud';

const CALIBRATES = 'uid___A001_X3a0_X201';
/** Of the emulated nodes' loads 1.5, 0.2 and 0.8, the second is the lowest. */
const LEAST_LOADED_NODE = '127.0.0.1:12223';
const CLUSTER_DIR = path.join(TEST_STATE_DIR, 'cluster');
const ENTITLED_PATH = [
  'IsRedriven',
  'EmailRequestToAog',
  'CheckEntitlement',
  'IsUserEntitled',
  'LookForStagedMeasurementSets',
  'AreAllMeasurementSetsStaged',
  'AcquireStagingSlot',
  'IsStagingSlotAcquired',
  'AreMeasurementSetsCalibrated',
  'ChooseClusterNode',
  'SubmitCalibrationJob',
];

const requests = testRequests(73000);

const workDirOf = (requestId: string, mous: string) => path.join(CLUSTER_DIR, 'sandbox', 'work', `calms-${requestId}-${mous}`);

/** The output of the named state when it was last left, as the execution history records it. */
function stateOutput(events: readonly HistoryEvent[], name: string): Record<string, any> {
  const exited = events.filter((event) => event.stateExitedEventDetails?.name === name).pop();
  if (!exited) throw new Error(`the execution never left ${name}`);
  return JSON.parse(exited.stateExitedEventDetails!.output!);
}

function waitUntilEntered(executionArn: string, state: string): Promise<HistoryEvent[]> {
  return eventually(
    async () => {
      const events = await executionHistory(executionArn);
      return statesEntered(events).includes(state) ? events : undefined;
    },
    `${executionArn} to enter ${state}`,
    30_000,
    200,
  );
}

function failureMail(mails: readonly CaughtMail[]): CaughtMail {
  const mail = mails.find((candidate) => candidate.subject.startsWith('FAILED: '));
  if (!mail) throw new Error(`no failure email among: ${mails.map((candidate) => candidate.subject).join('; ')}`);
  return mail;
}

/** stagecalms' closing lines, word for word, for this request. */
function seedFailureLines(requestId: string, mousUri: string, workDir: string): string[] {
  return [
    `Failed. Please investigate  s3://${service().dataBucket}/deliveries/${requestId}/ and possibly remove incomplete data belonging to MOUS ${mousUri}`,
    `The working directory ${workDir} on the EU ARC cluster was not removed.`,
  ];
}

describe('calibration on the cluster', () => {
  test('an entitled request is calibrated on the least loaded node, and its work directory goes once staging is done', async () => {
    // Act
    // A field selection no other test asks for: the MSs of other selections may already be staged by then.
    const accepted = await requests.submit(CALIBRATES, { calibratorFields: ['J1316-3338'] });
    const execution = await waitForExecution(accepted.executionArn, 120_000);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const states = statesEntered(execution.events);
    expect(states.slice(0, ENTITLED_PATH.length)).toEqual(ENTITLED_PATH);
    const staging = states.indexOf('StageMeasurementSets');
    expect(
      states
        .slice(ENTITLED_PATH.length, staging)
        .every((state) => ['WaitForCalibrationJob', 'CheckCalibrationJob', 'IsCalibrationJobRunning'].includes(state)),
    ).toBe(true);
    expect(states.at(-1)).toBe('Delivered');
    const output = JSON.parse(execution.output!);
    expect(output.clusterNode.node).toBe(LEAST_LOADED_NODE);
    expect(output.calibrationProgress).toEqual({
      state: 'succeeded',
      measurementSets: ['uid___A002_X11a2b3_X1f4.ms.split.cal', 'uid___A002_X11a7c0_X2e.ms.split.cal'],
    });
    const workDir = workDirOf(accepted.requestId, CALIBRATES);
    expect(output.calibration.job.workDir).toBe(workDir);
    expect(fs.existsSync(workDir)).toBe(false);
    const lambdaLog = fs.readFileSync(path.join(TEST_STATE_DIR, 'logs', 'serverless-offline.log'), 'utf8');
    expect(lambdaLog).toContain(`DATAMACHINE chosen: ${LEAST_LOADED_NODE}`);
    expect((await mailsOf(accepted.requestId)).map((mail) => mail.subject)).toEqual([
      `ALMA: REQUEST FOR CALIBRATED DATA MOUS ${CALIBRATES}`,
      `Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${CALIBRATES}, helpdesk ticket ${accepted.ticket}`,
    ]);
    expect(await triggerExists(accepted.triggerName)).toBe(false);
  });

  test('a job that fails: the maintainer gets the command, the whole log and the seed lines; everything is kept', async () => {
    // Act
    const accepted = await requests.submit(FAILING_MOUS);
    const execution = await waitForExecution(accepted.executionArn);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ClusterJobFailedError');
    expect(execution.cause).toBe(`The calibration job on ${LEAST_LOADED_NODE} failed: the job exited with status 3.`);
    expect(statesEntered(execution.events).slice(-3)).toEqual(['CheckCalibrationJob', 'ReportCalibrationFailure', 'CalibrationFailed']);
    const workDir = workDirOf(accepted.requestId, FAILING_MOUS);
    const jobLog = fs.readFileSync(path.join(workDir, 'calms-job.log'), 'utf8');
    expect(jobLog).toContain('CASA failed with exit status 3.');
    const mail = failureMail(await mailsOf(accepted.requestId));
    expect(mail.to.map((to) => to.address)).toEqual([service().mail.maintainer]);
    expect(mail.subject).toBe(`FAILED: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${FAILING_MOUS}, helpdesk ticket ${accepted.ticket}`);
    expect(mail.text).toContain(
      [
        `stagecalms.sh 2023.1.00456.S uid://A001/X3a0/X202 ${accepted.ticket}`,
        `DATAMACHINE chosen: ${LEAST_LOADED_NODE}`,
        `(re-)creating directory ${workDir}`,
        'Now generating the calibrated MS(s) ...',
        'Generated the job script. Now submitting and waiting for completion ...',
        `(The whole job log is kept as s3://${service().dataBucket}/requests/${accepted.requestId}/calms-job.log.)`,
        jobLog.trimEnd(),
        ...seedFailureLines(accepted.requestId, 'uid://A001/X3a0/X202', workDir),
      ].join('\n'),
    );
    expect(await triggerExists(accepted.triggerName)).toBe(true);
  });

  test('a job past the maximum runtime is stopped and reported, its work directory kept', async () => {
    // Act
    const accepted = await requests.submit(HANGING_MOUS);
    const execution = await waitForExecution(accepted.executionArn, 60_000);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('CalibrationTimedOutError');
    expect(execution.cause).toMatch(
      new RegExp(`^The calibration job on ${LEAST_LOADED_NODE} was still running at its deadline .*; it was stopped\\.$`),
    );
    const workDir = workDirOf(accepted.requestId, HANGING_MOUS);
    // The job's TERM trap recorded how it ended.
    expect(fs.readFileSync(path.join(workDir, 'calms-job.exit'), 'utf8').trim()).toBe('143');
    const mail = failureMail(await mailsOf(accepted.requestId));
    expect(mail.text).toContain(`Emulated hang for ${HANGING_MOUS}`);
    expect(mail.text).toContain(seedFailureLines(accepted.requestId, 'uid://A001/X3a0/X203', workDir).join('\n'));
    expect(await triggerExists(accepted.triggerName)).toBe(true);
  });

  test('a node that stops answering while its job runs fails the request after the retries, log or not', async () => {
    // Prepare
    const accepted = await requests.submit(NODE_LOST_MOUS);
    const events = await waitUntilEntered(accepted.executionArn, 'WaitForCalibrationJob');
    const node: string = stateOutput(events, 'ChooseClusterNode').clusterNode.node;
    const downFile = path.join(CLUSTER_DIR, 'down', `node${Number(node.split(':')[1]) - 12222}`);

    // Act
    fs.writeFileSync(downFile, '');
    let execution: Awaited<ReturnType<typeof waitForExecution>>;
    try {
      execution = await waitForExecution(accepted.executionArn, 60_000);
    } finally {
      fs.rmSync(downFile, { force: true });
    }

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ClusterUnreachableError');
    expect(execution.cause).toContain(node);
    const workDir = workDirOf(accepted.requestId, NODE_LOST_MOUS);
    expect(fs.existsSync(path.join(workDir, 'calms-job.sh'))).toBe(true);
    const mail = failureMail(await mailsOf(accepted.requestId));
    expect(mail.text).toContain(`(the job log could not be read from ${node}: `);
    expect(mail.text).toContain(seedFailureLines(accepted.requestId, 'uid://A001/X3a0/X204', workDir).join('\n'));
  });

  describe('hostile values through the whole request path', () => {
    const marker = path.join(os.tmpdir(), `calms-pwned-${randomBytes(6).toString('hex')}`);
    const payloads = [`x"; touch ${marker}; "`, `$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`];

    afterAll(() => fs.rmSync(marker, { force: true }));

    test.each(payloads)('a user name %j stays text: the request is calibrated and nothing else runs', async (userName) => {
      // Act
      const accepted = await requests.submit(CALIBRATES, { userName });
      const execution = await waitForExecution(accepted.executionArn);

      // Assess
      expect(execution.status).toBe('SUCCEEDED');
      expect(fs.existsSync(marker)).toBe(false);
      const [requestMail] = await mailsOf(accepted.requestId);
      expect(requestMail!.text).toContain(`for user ${userName}\n`);
    });

    test.each([
      ['projectCode', { projectCode: `2023.1.00456.S; touch ${marker}` }],
      ['helpdeskTicket', { helpdeskTicket: `1$(touch ${marker})` }],
      ['helpdeskTicket', { helpdeskTicket: '1\ntouch /tmp/x' }],
      ['mous[0]', { mous: [`uid://A001/X3a0/X201\`touch ${marker}\``] }],
      ['calibratorFields[0]', { calibratorFields: [`J1337-1257;touch${marker}`] }],
      ['calibratorFields[0]', { calibratorFields: ['$(id)'] }],
      ['userName', { userName: `Stella\ntouch ${marker}` }],
      ['userEmail', { userEmail: `x@example.org$(touch ${marker})` }],
    ])('%s with shell syntax is refused before anything is written or run', async (field, overrides) => {
      // Act
      const response = await postRequest(requests.body(CALIBRATES, overrides));

      // Assess
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_ERROR', field });
      expect(fs.existsSync(marker)).toBe(false);
    });
  });
});

/**
 * The execution-end watcher on the local cloud, across its processes: the local Step Functions server emits
 * "Step Functions Execution Status Change" when an execution ends, the local EventBridge (serverless.yml's rule)
 * invokes the watcher in serverless-offline, and the watcher cleans up on the emulated cluster and S3 and mails
 * through MailDev. The ends: a stop by hand (StopExecution through the edge), a timeout (the state machine with a
 * short TimeoutSeconds) and a failure outside any Catch (the state machine with CheckCalibrationJob's Catch taken
 * away); a cancel is CalMS's own end and is not reported again. Each unreported end is then re-driven.
 * Tickets 83001..83099 belong to this file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DescribeStateMachineCommand, StopExecutionCommand, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { localCloudConfig } from '../../localstack/config';
import { S3SlotStore } from '../../lib/storage/S3SlotStore';
import { api, type CaughtMail, executionHistory, mailsOf, s3, service, sfn, statesEntered, triggerExists, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { processEnded, running } from './support/processes';
import { type AcceptedRequest, testRequests } from './support/requests';
import { FAILING_MOUS, HANGING_MOUS, TEST_STATE_DIR } from './support/testCloud';

const ARC = 'watcher-test@example.org';
const requests = testRequests(83000, ARC);

async function call(method: string, pathAndQuery: string): Promise<{ status: number; body: any }> {
  const { apiUrl, apiKey } = api();
  const response = await fetch(`${apiUrl}/${pathAndQuery}`, { method, headers: { 'x-api-key': apiKey } });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

/**
 * The slots and the queue as stored, read without the staging queue's own look (which gives up the places of
 * ended executions itself): what the watcher gave back, and nothing else.
 */
const slotStore = () => new S3SlotStore(s3(), service().dataBucket);
const holders = async () => (await slotStore().readHolders()).map((holder) => holder.requestId);
const queued = async () => (await slotStore().readQueue()).map((entry) => entry.requestId);

/** The watcher's emails about a request: their Message-ID starts with `ended`. */
const watcherMails = async (requestId: string): Promise<CaughtMail[]> =>
  (await mailsOf(requestId)).filter((mail) => /^<ended[.-]/.test(mail.headers['message-id'] ?? ''));

/** The watcher's emails about a request, once there is one. */
const firstWatcherMails = (requestId: string): Promise<CaughtMail[]> =>
  eventually(
    async () => {
      const found = await watcherMails(requestId);
      return found.length > 0 ? found : undefined;
    },
    "the watcher's email",
    30_000,
  );

const jobPidOf = (request: AcceptedRequest, mous: string) =>
  Number(
    fs.readFileSync(path.join(TEST_STATE_DIR, 'cluster', 'sandbox', 'work', `calms-${request.requestId}-${mous}`, 'calms-job.id'), 'utf8').trim(),
  );

async function waitUntilIn(request: AcceptedRequest, state: string): Promise<void> {
  await eventually(
    async () => (statesEntered(await executionHistory(request.executionArn)).includes(state) ? true : undefined),
    `${request.requestId} to reach ${state}`,
    60_000,
    200,
  );
}

/**
 * Runs `submit` while the state machine is `change`d, and puts it back: only executions started meanwhile run
 * the changed definition (the local server compiles it at start, as AWS pins an execution's version).
 */
async function withDefinition<T>(change: (definition: any) => void, submit: () => Promise<T>): Promise<T> {
  const stateMachineArn = service().stateMachineArn;
  const client = sfn();
  const { definition } = await client.send(new DescribeStateMachineCommand({ stateMachineArn }));
  const changed = JSON.parse(definition!);
  change(changed);
  await client.send(new UpdateStateMachineCommand({ stateMachineArn, definition: JSON.stringify(changed) }));
  try {
    return await submit();
  } finally {
    await client.send(new UpdateStateMachineCommand({ stateMachineArn, definition }));
  }
}

/** The maintainer is told, CC the ARC contact, threaded to the request email, with the two ways out. */
function expectReport(mail: CaughtMail, request: AcceptedRequest, word: string): void {
  const settings = service();
  expect(mail.subject).toBe(`${word}: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${request.mous}, helpdesk ticket ${request.ticket}`);
  expect(mail.to.map((to) => to.address)).toEqual([settings.mail.maintainer]);
  expect((mail.cc ?? []).map((cc) => cc.address)).toEqual([ARC]);
  expect(mail.headers['in-reply-to']).toBe(`<${request.requestId}@${settings.mail.from.split('@')[1]}>`);
  expect(mail.text).toContain(`calms redrive ${request.requestId}`);
  expect(mail.text).toContain(`calms cancel ${request.requestId}`);
}

describe('the execution-end watcher', () => {
  test('a stop by hand: the job is stopped, the slot freed, the trigger kept, the maintainer and ARC contact told once; the re-drive resumes', async () => {
    // Prepare: a calibration that never ends, caught while its job runs
    const accepted = await requests.submit(HANGING_MOUS);
    await waitUntilIn(accepted, 'WaitForCalibrationJob');
    const pid = jobPidOf(accepted, HANGING_MOUS);
    expect(running(pid)).toBe(true);
    expect(await holders()).toContain(accepted.requestId);

    // Act: stopped from outside CalMS, as from the console or the AWS CLI
    await sfn().send(new StopExecutionCommand({ executionArn: accepted.executionArn, error: 'ByHand', cause: 'stopped from the console' }));

    // Assess
    const [mail] = await firstWatcherMails(accepted.requestId);
    expectReport(mail!, accepted, 'STOPPED');
    expect(mail!.text).toContain('was stopped by hand (StopExecution), not by calms cancel');
    expect(mail!.text).toContain('Error: ByHand\nCause: stopped from the console');
    expect(mail!.text).toContain(`Its calibration job ${pid} on`);
    await processEnded(pid);
    expect(await holders()).not.toContain(accepted.requestId);
    expect(await triggerExists(accepted.triggerName)).toBe(true);
    const status = await call('GET', `requests/${accepted.requestId}`);
    expect(status.body).toMatchObject({ status: 'ABORTED', endedBy: 'stop', state: expect.any(String) });
    // EventBridge may deliver twice: the same event again sends nothing.
    const retried = await fetch(
      `http://127.0.0.1:${localCloudConfig().ports.lambda}/2015-03-31/functions/calms-local-watchExecutionEnd/invocations`,
      {
        method: 'POST',
        body: JSON.stringify({
          source: 'aws.states',
          'detail-type': 'Step Functions Execution Status Change',
          detail: { executionArn: accepted.executionArn, name: accepted.requestId, status: 'ABORTED' },
        }),
      },
    );
    expect(await retried.json()).toMatchObject({ action: 'reported', email: 'already sent' });
    expect(await watcherMails(accepted.requestId)).toHaveLength(1);

    // The way out: re-drive at the state in flight, then give it up.
    const redriven = await call('POST', `requests/${accepted.requestId}/redrive`);
    expect(redriven).toMatchObject({ status: 200, body: { failedStatus: 'ABORTED', resumeAt: 'AcquireStagingSlot' } });
    await eventually(async () => ((await holders()).includes(accepted.requestId) ? true : undefined), 'the re-drive to take a slot', 60_000, 200);
    expect((await call('POST', `requests/${accepted.requestId}/cancel`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // The cancel's end is CalMS's own: the watcher does not report it.
    expect(await watcherMails(accepted.requestId)).toHaveLength(1);
  }, 150_000);

  test('a timeout: TIMED_OUT is cleaned up and reported, and the request can be re-driven', async () => {
    // Prepare: executions started now may run 5 s in all.
    const accepted = await withDefinition(
      (definition) => {
        definition.TimeoutSeconds = 5;
      },
      () => requests.submit(HANGING_MOUS),
    );

    // Act
    const execution = await waitForExecution(accepted.executionArn, 60_000);

    // Assess
    expect(execution.status).toBe('TIMED_OUT');
    const [mail] = await firstWatcherMails(accepted.requestId);
    expectReport(mail!, accepted, 'TIMED OUT');
    expect(mail!.text).toContain('timed out');
    expect(await holders()).not.toContain(accepted.requestId);
    expect(await queued()).not.toContain(accepted.requestId);
    expect(await triggerExists(accepted.triggerName)).toBe(true);
    expect((await call('GET', `requests/${accepted.requestId}`)).body).toMatchObject({ status: 'TIMED_OUT', endedBy: 'timeout' });
    const redriven = await call('POST', `requests/${accepted.requestId}/redrive`);
    expect(redriven).toMatchObject({ status: 200, body: { failedStatus: 'TIMED_OUT', attempt: 1 } });
    expect((await call('POST', `requests/${accepted.requestId}/cancel`)).status).toBe(200);
  }, 150_000);

  test('a failure outside any Catch: the slot it held is freed, the failure reported; the re-drive fails again, caught, and is reported once', async () => {
    // Prepare: a job that fails, checked by a CheckCalibrationJob without its Catch
    const accepted = await withDefinition(
      (definition) => {
        delete definition.States.CheckCalibrationJob.Catch;
      },
      () => requests.submit(FAILING_MOUS),
    );

    // Act
    const execution = await waitForExecution(accepted.executionArn, 90_000);

    // Assess
    expect([execution.status, execution.error]).toEqual(['FAILED', 'ClusterJobFailedError']);
    expect(statesEntered(execution.events)).not.toContain('ReportCalibrationFailure');
    const [mail] = await firstWatcherMails(accepted.requestId);
    expectReport(mail!, accepted, 'FAILED');
    expect(mail!.text).toContain('failed outside any Catch, so no report was sent');
    expect(mail!.text).toContain('Error: ClusterJobFailedError');
    expect(mail!.text).toContain('in CheckCalibrationJob');
    expect(await holders()).not.toContain(accepted.requestId);
    expect((await call('GET', `requests/${accepted.requestId}`)).body).toMatchObject({ status: 'FAILED', endedBy: 'uncaught failure' });

    // The re-drive runs the definition as deployed: the same failure is now caught and reported, not watched.
    const redriven = await call('POST', `requests/${accepted.requestId}/redrive`);
    expect(redriven).toMatchObject({
      status: 200,
      body: { failedStatus: 'FAILED', failedState: 'CheckCalibrationJob', resumeAt: 'AcquireStagingSlot' },
    });
    const again = await waitForExecution(redriven.body.executionArn, 90_000);
    expect(statesEntered(again.events).slice(-2)).toEqual(['ReportCalibrationFailure', 'CalibrationFailed']);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await watcherMails(accepted.requestId)).toHaveLength(1);
    expect((await mailsOf(accepted.requestId)).filter((found) => /^<failure-redrive-1\./.test(found.headers['message-id'] ?? ''))).toHaveLength(1);
  }, 240_000);
});

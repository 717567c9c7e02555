/**
 * The operators' routes on the local cloud, through the API with the key as `calms` calls them: the status of a
 * delivered request with its link, keep and undo, resending the user's email, cancelling a calibration
 * that runs on the emulated cluster, a request waiting for a slot and one whose tarballs upload, and
 * re-driving a staging that failed. Tickets 76001..76099 belong to this file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import {
  api,
  type CaughtMail,
  executionHistory,
  mailsOf,
  s3,
  service,
  sfn,
  stagingQueue,
  statesEntered,
  triggerExists,
  waitForExecution,
} from './support/clients';
import { eventually } from './support/eventually';
import { processEnded, running } from './support/processes';
import { type AcceptedRequest, TEST_USER, testRequests } from './support/requests';
import { HANGING_MOUS, TEST_STATE_DIR } from './support/testCloud';

const CALIBRATES = 'uid___A001_X3a0_X201';
/** Two QA0 Pass EBs observed by no other test's selection: two MSs of three parts to stream. */
const UPLOADING_MOUS = 'uid___A001_X3a0_X206';
/** Two QA0 Pass EBs, so two MSs and two tarballs. */
const TWO_MS_MOUS = 'uid___A001_X3a0_X205';
const FIRST_MS = 'uid___A002_X11c1a0_X11.ms.split.cal';
const SECOND_MS = 'uid___A002_X11c6f2_X8e.ms.split.cal';
const USER = TEST_USER.userEmail;
const ARC = 'ops-test@example.org';

const requests = testRequests(76000, ARC);

/** One call of the API with the key; the body parsed. */
async function call(method: string, pathAndQuery: string): Promise<{ status: number; body: any }> {
  const { apiUrl, apiKey } = api();
  const response = await fetch(`${apiUrl}/${pathAndQuery}`, { method, headers: { 'x-api-key': apiKey } });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

const userMails = async (requestId: string): Promise<CaughtMail[]> =>
  (await mailsOf(requestId)).filter((mail) => mail.to.some((to) => to.address === USER));

describe("the operators' routes", () => {
  let delivered: AcceptedRequest;

  beforeAll(async () => {
    delivered = await requests.submit(CALIBRATES);
    const execution = await waitForExecution(delivered.executionArn, 150_000);
    expect([execution.status, execution.error, execution.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
  }, 180_000);

  test('the status of a delivered request shows how it ended and its link, also found by ticket and by MOUS', async () => {
    // Act
    const byId = await call('GET', `requests/${delivered.requestId}`);
    const byTicket = await call('GET', `requests?ticket=${delivered.ticket}`);
    const byMous = await call('GET', `requests?mous=${encodeURIComponent('uid://A001/X3a0/X201')}`);

    // Assess
    const [mail] = await userMails(delivered.requestId);
    const link = mail!.text.split('\n')[1]!;
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({
      requestId: delivered.requestId,
      executionArn: delivered.executionArn,
      status: 'SUCCEEDED',
      state: 'Delivered',
      ticket: delivered.ticket,
      mous: CALIBRATES,
      user: { name: 'Stella Stranger', email: USER },
      arcContact: ARC,
      triggerName: delivered.triggerName,
      delivery: { link, kept: false, expired: false },
    });
    expect(byId.body.stoppedAt).toEqual(expect.any(String));
    expect(byId.body).not.toHaveProperty('failure');
    expect(byTicket).toEqual({ status: 200, body: { requests: [byId.body] } });
    expect(byMous.body.requests.map((request: { requestId: string }) => request.requestId)).toContain(delivered.requestId);
  });

  test('keep, then undo: the status shows kept true, then false; a request without delivery answers 404', async () => {
    // Act
    const kept = await call('POST', `requests/${delivered.requestId}/keep`);
    const statusKept = await call('GET', `requests/${delivered.requestId}`);
    const released = await call('DELETE', `requests/${delivered.requestId}/keep`);
    const statusReleased = await call('GET', `requests/${delivered.requestId}`);
    const none = await call('POST', 'requests/t76000-nothing/keep');

    // Assess
    expect(kept).toMatchObject({ status: 200, body: { requestId: delivered.requestId, kept: true } });
    expect(statusKept.body.delivery.kept).toBe(true);
    expect(released).toMatchObject({ status: 200, body: { kept: false } });
    expect(statusReleased.body.delivery.kept).toBe(false);
    expect(none).toMatchObject({ status: 404, body: { error: { code: 'DELIVERY_NOT_FOUND' } } });
  });

  test('resend delivers a second email to the user, same text, its own Message-ID', async () => {
    // Act
    const resent = await call('POST', `requests/${delivered.requestId}/resend`);

    // Assess
    expect(resent).toMatchObject({ status: 200, body: { sentTo: USER, resent: 1 } });
    expect(resent.body.messageId).toMatch(/^<resent-1\.t760\d\d-/);
    const mails = await eventually(async () => {
      const found = await userMails(delivered.requestId);
      return found.length >= 2 ? found : undefined;
    }, 'the resent email');
    expect(mails).toHaveLength(2);
    const [original, again] = mails;
    expect(again!.headers['message-id']).toBe(resent.body.messageId);
    expect(again!.text).toBe(original!.text);
    expect(again!.subject).toBe(original!.subject);
  });

  test('cancel of a running calibration: execution stopped, job gone, slot free at once, trigger gone, ARC contact told', async () => {
    // Prepare: a calibration that never ends, caught while its job runs
    const queue = stagingQueue();
    const accepted = await requests.submit(HANGING_MOUS);
    const events = await eventually(
      async () => {
        const history = await executionHistory(accepted.executionArn);
        return statesEntered(history).includes('WaitForCalibrationJob') ? history : undefined;
      },
      `${accepted.requestId} to wait for its job`,
      60_000,
      200,
    );
    const submitted = events.filter((event) => event.stateExitedEventDetails?.name === 'SubmitCalibrationJob').pop()!;
    const workDir: string = JSON.parse(submitted.stateExitedEventDetails!.output!).calibration.job.workDir;
    expect(workDir).toBe(path.join(TEST_STATE_DIR, 'cluster', 'sandbox', 'work', `calms-${accepted.requestId}-${HANGING_MOUS}`));
    const pid = Number(fs.readFileSync(path.join(workDir, 'calms-job.id'), 'utf8').trim());
    expect(running(pid)).toBe(true);
    expect((await queue.view()).holders.map((holder) => holder.requestId)).toContain(accepted.requestId);
    expect((await call('GET', 'triggers')).body.triggers.map((trigger: { requestId: string }) => trigger.requestId)).toContain(accepted.requestId);

    // Act
    const cancelled = await call('POST', `requests/${accepted.requestId}/cancel`);
    const holdersRightAfter = (await queue.view()).holders.map((holder) => holder.requestId);

    // Assess
    expect(cancelled).toMatchObject({
      status: 200,
      body: {
        requestId: accepted.requestId,
        status: 'ABORTED',
        alreadyStopped: false,
        stoppedJob: { jobId: String(pid), workDir },
        removedTrigger: accepted.triggerName,
        arcContactEmail: { to: ARC, sent: 'sent' },
      },
    });
    expect(holdersRightAfter).not.toContain(accepted.requestId);
    const execution = await sfn().send(new DescribeExecutionCommand({ executionArn: accepted.executionArn }));
    expect(execution.status).toBe('ABORTED');
    expect(execution.error).toBe('Cancelled');
    await processEnded(pid);
    expect(await triggerExists(accepted.triggerName)).toBe(false);
    expect((await call('GET', 'triggers')).body.triggers.map((trigger: { requestId: string }) => trigger.requestId)).not.toContain(
      accepted.requestId,
    );
    const mail = await eventually(
      async () => (await mailsOf(accepted.requestId)).find((candidate) => candidate.text.startsWith('CANCELLED\n')),
      'the CANCELLED email',
    );
    const settings = service();
    expect(mail.subject).toBe(`Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${HANGING_MOUS}, helpdesk ticket ${accepted.ticket}`);
    expect(mail.to.map((to) => to.address)).toEqual([ARC]);
    expect((mail.cc ?? []).map((cc) => cc.address).sort()).toEqual([settings.mail.maintainer, settings.mail.aog].sort());
    expect(mail.headers['in-reply-to']).toBe(`<${accepted.requestId}@${settings.mail.from.split('@')[1]}>`);
    const status = await call('GET', `requests/${accepted.requestId}`);
    expect(status.body).toMatchObject({ status: 'ABORTED', failure: { error: 'Cancelled' } });

    // A second cancel only cleans up again; a finished request cannot be cancelled.
    const again = await call('POST', `requests/${accepted.requestId}/cancel`);
    const finished = await call('POST', `requests/${delivered.requestId}/cancel`);
    expect(again).toMatchObject({ status: 200, body: { alreadyStopped: true, arcContactEmail: { sent: 'already sent' } } });
    expect(finished).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_FINISHED' } } });
    expect((await mailsOf(accepted.requestId)).filter((candidate) => candidate.text.startsWith('CANCELLED\n'))).toHaveLength(1);
  }, 90_000);

  test('cancel while waiting for a slot: no job to stop, the queue place goes, the holders keep their slots', async () => {
    // Prepare: two calibrations that never end hold both slots; a third request waits behind them.
    const queue = stagingQueue();
    const holders = [await requests.submit(HANGING_MOUS), await requests.submit(HANGING_MOUS)];
    await eventually(
      async () => {
        const held = (await queue.view()).holders.map((holder) => holder.requestId);
        return holders.every((holder) => held.includes(holder.requestId)) ? true : undefined;
      },
      'both slots to be taken',
      30_000,
      200,
    );
    const waiting = await requests.submit(HANGING_MOUS);
    await eventually(
      async () => (statesEntered(await executionHistory(waiting.executionArn)).includes('WaitForStagingSlot') ? true : undefined),
      `${waiting.requestId} to wait for a slot`,
      30_000,
      200,
    );
    expect((await queue.view()).waiting.map((entry) => entry.requestId)).toContain(waiting.requestId);

    // Act
    const cancelled = await call('POST', `requests/${waiting.requestId}/cancel`);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).not.toHaveProperty('stoppedJob');
    expect(['AcquireStagingSlot', 'IsStagingSlotAcquired', 'WaitForStagingSlot']).toContain(cancelled.body.state);
    const view = await queue.view();
    expect(view.waiting.map((entry) => entry.requestId)).not.toContain(waiting.requestId);
    expect(view.holders.map((holder) => holder.requestId).sort()).toEqual(holders.map((holder) => holder.requestId).sort());
    expect(await triggerExists(waiting.triggerName)).toBe(false);
    await eventually(async () => (await mailsOf(waiting.requestId)).find((mail) => mail.text.startsWith('CANCELLED\n')), 'the CANCELLED email');

    // Clean up: the holders' jobs would otherwise run to their deadline.
    for (const holder of holders) expect((await call('POST', `requests/${holder.requestId}/cancel`)).status).toBe(200);
  }, 90_000);

  test('cancel while the tarballs upload: stopped in staging, the slot freed, and no upload left open, not even one a step in flight began', async () => {
    // Prepare: two MSs of three parts, one part per staging step; caught after its second step
    const queue = stagingQueue();
    const accepted = await requests.submit(UPLOADING_MOUS);
    await eventually(
      async () =>
        statesEntered(await executionHistory(accepted.executionArn)).filter((state) => state === 'StageMeasurementSets').length >= 2
          ? true
          : undefined,
      `${accepted.requestId} to be staging`,
      60_000,
      50,
    );

    // Act
    const cancelled = await call('POST', `requests/${accepted.requestId}/cancel`);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(['StageMeasurementSets', 'AreMeasurementSetsStaged']).toContain(cancelled.body.state);
    expect(cancelled.body).not.toHaveProperty('stoppedJob');
    expect((await queue.view()).holders.map((holder) => holder.requestId)).not.toContain(accepted.requestId);
    const settings = service();
    const openUploads = async () =>
      (await s3().send(new ListObjectsV2Command({ Bucket: settings.dataBucket, Prefix: `uploads/deliveries/${accepted.requestId}/` }))).Contents ??
      [];
    // A step still running when the execution stopped finds the cancel's mark and aborts what it began.
    await eventually(async () => ((await openUploads()).length === 0 ? true : undefined), 'no upload left open', 15_000, 200);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await openUploads()).toEqual([]);
    expect(await triggerExists(accepted.triggerName)).toBe(false);
    expect((await call('GET', `requests/${accepted.requestId}`)).body).toMatchObject({ status: 'ABORTED' });
  }, 90_000);

  test('re-drive after a failed staging: it resumes at the staging, the finished tarball is not uploaded again, no email twice', async () => {
    // Prepare: two MSs (J1316-3338 is in both EBs; no other test stages this selection). The second one's last
    // part checksum is spoiled as soon as the job has recorded it, so staging fails on that part.
    const accepted = await requests.submit(TWO_MS_MOUS, { calibratorFields: ['J1316-3338'] });
    const workDir = path.join(TEST_STATE_DIR, 'cluster', 'sandbox', 'work', `calms-${accepted.requestId}-${TWO_MS_MOUS}`);
    const partsFile = path.join(workDir, 'checksums', `${SECOND_MS}.tar.parts`);
    const recorded = await eventually(
      () => (fs.existsSync(partsFile) ? fs.readFileSync(partsFile, 'utf8') : undefined),
      "the job's part checksums",
      60_000,
      20,
    );
    const lines = recorded.trimEnd().split('\n');
    fs.writeFileSync(partsFile, [...lines.slice(0, -1), `${'0'.repeat(64)}  -`, ''].join('\n'));
    const failedRun = await waitForExecution(accepted.executionArn, 120_000);
    expect([failedRun.status, failedRun.error]).toEqual(['FAILED', 'TarballChecksumMismatchError']);
    const settings = service();
    const firstTarball = { Bucket: settings.dataBucket, Key: `deliveries/${accepted.requestId}/${FIRST_MS}.tar` };
    const before = await s3().send(new HeadObjectCommand(firstTarball));
    // The maintainer puts the right checksum back.
    fs.writeFileSync(partsFile, recorded);

    // Act
    const redriven = await call('POST', `requests/${accepted.requestId}/redrive`);
    const again = await call('POST', `requests/${accepted.requestId}/redrive`);

    // Assess
    expect(redriven).toMatchObject({
      status: 200,
      body: {
        attempt: 1,
        executionName: `${accepted.requestId}-redrive-1`,
        failedExecution: accepted.requestId,
        failedState: 'StageMeasurementSets',
        resumeAt: 'AcquireStagingSlot',
        failure: { error: 'TarballChecksumMismatchError' },
      },
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'NOT_REDRIVABLE' } } });
    const resumed = await waitForExecution(redriven.body.executionArn, 120_000);
    expect([resumed.status, resumed.error]).toEqual(['SUCCEEDED', undefined]);
    const states = statesEntered(resumed.events);
    expect(states.slice(0, 9)).toEqual([
      'IsRedriven',
      'ResumeWhereItFailed',
      'CheckEntitlement',
      'IsUserEntitled',
      'ResumeAfterEntitlement',
      'AcquireStagingSlot',
      'IsStagingSlotAcquired',
      'AreMeasurementSetsCalibrated',
      'StageMeasurementSets',
    ]);
    expect(states).not.toContain('SubmitCalibrationJob');
    // MSs of selected calibrator fields are one part, so one step per tarball: only the second was streamed.
    expect(states.filter((state) => state === 'StageMeasurementSets')).toHaveLength(1);
    const staged = JSON.parse(resumed.output!).staging.tarballs.map((tarball: { measurementSet: string; result?: object }) => [
      tarball.measurementSet,
      tarball.result !== undefined,
    ]);
    expect(staged).toEqual([
      [FIRST_MS, true],
      [SECOND_MS, true],
    ]);
    const after = await s3().send(new HeadObjectCommand(firstTarball));
    expect([after.ETag, after.LastModified]).toEqual([before.ETag, before.LastModified]);
    expect(states.slice(-2)).toEqual(['EmailDownloadLink', 'Delivered']);
    expect(await triggerExists(accepted.triggerName)).toBe(false);

    const mails = await eventually(async () => {
      const found = await mailsOf(accepted.requestId);
      return found.some((mail) => mail.subject.startsWith('Re: ')) ? found : undefined;
    }, "the user's email");
    expect(mails.map((mail) => mail.subject).sort()).toEqual([
      `ALMA: REQUEST FOR CALIBRATED DATA MOUS ${TWO_MS_MOUS}`,
      `FAILED: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${TWO_MS_MOUS}, helpdesk ticket ${accepted.ticket}`,
      `Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${TWO_MS_MOUS}, helpdesk ticket ${accepted.ticket}`,
    ]);
    const status = await call('GET', `requests/${accepted.requestId}`);
    expect(status.body).toMatchObject({
      requestId: accepted.requestId,
      status: 'SUCCEEDED',
      state: 'Delivered',
      redrives: 1,
      delivery: { kept: false },
    });
    expect(status.body).not.toHaveProperty('failure');
    const finished = await call('POST', `requests/${accepted.requestId}/redrive`);
    expect(finished).toMatchObject({
      status: 409,
      body: { error: { code: 'NOT_REDRIVABLE', message: expect.stringContaining('it has ended well') } },
    });
  }, 240_000);

  test('unknown requests answer 404, and the routes need the API key', async () => {
    // Act
    const unknown = await call('GET', 'requests/t76000-nothing');
    const { apiUrl } = api();
    const withoutKey = await fetch(`${apiUrl}/triggers`);

    // Assess
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'REQUEST_NOT_FOUND' } } });
    expect(withoutKey.status).toBe(403);
  });
});

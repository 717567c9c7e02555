/**
 * A bounded failure report on the local cloud: a job whose log has grown to 40 MB is stopped at its deadline, and
 * the maintainer's email carries only the log's last 256 KiB (saying so), while the whole log is streamed from the
 * emulated node into the data bucket beside the request and named in the email. Tickets 79501..79599 belong here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { mailsOf, s3, service, statesEntered, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { testRequests } from './support/requests';
import { HANGING_MOUS, TEST_STATE_DIR } from './support/testCloud';

const requests = testRequests(79500, 'report-test@example.org');
const LOG_BYTES = 40 * 1024 * 1024;
const REPORTED_BYTES = 256 * 1024;

test('a 40 MB job log: the email has its last 256 KiB and says it was cut, the bucket has it whole', async () => {
  // Prepare: a job that never ends (stopped at the 12 s deadline); its log grows to 40 MB meanwhile.
  const accepted = await requests.submit(HANGING_MOUS);
  const logFile = path.join(TEST_STATE_DIR, 'cluster', 'sandbox', 'work', `calms-${accepted.requestId}-${HANGING_MOUS}`, 'calms-job.log');
  await eventually(() => (fs.existsSync(logFile) ? true : undefined), 'the job log', 60_000, 100);
  const line = 'INFO  casa  applycal  one more spectral window calibrated, as a long pipeline run logs it\n';
  const block = line.repeat(Math.floor((1024 * 1024) / line.length));
  while (fs.statSync(logFile).size < LOG_BYTES) fs.appendFileSync(logFile, block);
  fs.appendFileSync(logFile, 'SEVERE the last words of the job\n');

  // Act
  const execution = await waitForExecution(accepted.executionArn, 120_000);

  // Assess
  expect([execution.status, execution.error]).toEqual(['FAILED', 'CalibrationTimedOutError']);
  expect(statesEntered(execution.events).slice(-2)).toEqual(['ReportCalibrationFailure', 'CalibrationFailed']);
  const whole = fs.readFileSync(logFile);
  expect(whole.length).toBeGreaterThan(LOG_BYTES);
  const mail = await eventually(
    async () => (await mailsOf(accepted.requestId)).find((candidate) => candidate.subject.startsWith('FAILED: ')),
    'the failure report',
  );
  const key = `requests/${accepted.requestId}/calms-job.log`;
  const text = mail.text;
  expect(Buffer.byteLength(text)).toBeLessThan(REPORTED_BYTES + 8 * 1024);
  expect(text).toContain(`(The job log has ${whole.length} bytes: it was cut, and only its last ${REPORTED_BYTES} bytes follow.)`);
  expect(text).toContain(`(The whole job log is kept as s3://${service().dataBucket}/${key}.)`);
  // The job may have written a line or two after the test's, until it was stopped: the email ends as the log does.
  const lastLines = whole
    .subarray(whole.length - 1024)
    .toString('utf8')
    .split('\n')
    .slice(1)
    .join('\n')
    .trimEnd();
  expect(text).toContain('SEVERE the last words of the job\n');
  expect(text).toContain(`${lastLines}\nFailed. Please investigate`);
  const stored = await s3().send(new HeadObjectCommand({ Bucket: service().dataBucket, Key: key }));
  expect(stored.ContentLength).toBe(whole.length);
  const tail = await s3().send(new GetObjectCommand({ Bucket: service().dataBucket, Key: key, Range: `bytes=${whole.length - 64}-` }));
  expect(Buffer.from(await tail.Body!.transformToByteArray()).equals(whole.subarray(whole.length - 64))).toBe(true);
}, 180_000);

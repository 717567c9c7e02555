/**
 * The fault-injection suite (issue 17): real requests driven through the faults the README's reliability
 * promise speaks of, on a local cloud of this file's own (support/faultCloud.ts). Each case checks that the
 * fault really happened, that the request reached its end (delivered, or failed with the maintainer told and
 * the trigger kept for a re-drive), exactly one email of each kind (sent-mail ledger and MailDev), and that
 * nothing is left behind. The restarts of the cloud are in restart.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { service, executionHistory, statesEntered, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { expectOneEmailOfEachKind, FAULT_CLUSTER_DIR, FAULT_STATE_DIR, FaultCloud, leftBehind, signalMailDev } from './support/faultCloud';
import { type AcceptedRequest, testRequests } from './support/requests';
import { NODE_LOST_MOUS, QUEUED_MOUS } from './support/testCloud';

// Jobs of 4 s: long enough to act on a request while its job runs.
const cloud = new FaultCloud({ CALMS_CASA_EMULATOR_SECONDS: '4' });
const requests = testRequests(92000);
/** `host:port` of the emulated nodes, in node order. */
const clusterNodes = () => process.env.CALMS_CLUSTER_NODES!.split(',');
/** The emulated nodes report loads 1.5, 0.2, 0.8: node 1 is the one CalMS chooses while it answers. */
const LEAST_LOADED_NODE = 1;

async function lastStateOf(request: AcceptedRequest): Promise<string | undefined> {
  return statesEntered(await executionHistory(request.executionArn)).pop();
}

function untilState(request: AcceptedRequest, states: readonly string[], what: string): Promise<true> {
  return eventually(async () => (states.includes((await lastStateOf(request)) ?? '') ? true : undefined), what, 180_000, 100);
}

/** The names of the errors the execution's Lambdas failed with, in order. */
function lambdaErrors(events: readonly HistoryEvent[]): string[] {
  return events.filter((event) => event.type === 'LambdaFunctionFailed').map((event) => event.lambdaFunctionFailedEventDetails!.error!);
}

/** The node the calibration job was submitted to, from the history. */
function submittedNode(events: readonly HistoryEvent[]): string {
  const submit = events.find((event) => event.stateEnteredEventDetails?.name === 'SubmitCalibrationJob');
  return (JSON.parse(submit!.stateEnteredEventDetails!.input!) as { clusterNode: { node: string } }).clusterNode.node;
}

async function expectDelivered(request: AcceptedRequest): Promise<HistoryEvent[]> {
  const execution = await waitForExecution(request.executionArn, 300_000);
  expect([execution.status, statesEntered(execution.events).pop()]).toEqual(['SUCCEEDED', 'Delivered']);
  await expectOneEmailOfEachKind(request.requestId, ['request', 'delivered']);
  expect(await leftBehind([request])).toEqual({ slots: [], queue: [], uploads: [], triggers: [] });
  return execution.events;
}

async function s3Faults(body?: object): Promise<{ remaining: number; injected: number }> {
  const response = await fetch(`${service().awsEndpoint}/_calms/faults/s3`, {
    method: body ? 'POST' : 'GET',
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return (await response.json()) as { remaining: number; injected: number };
}

beforeAll(() => cloud.start(), 180_000);
afterAll(async () => {
  signalMailDev('SIGCONT');
  await cloud.stop();
}, 60_000);

test('S3 answering 503 for a burst while a request calibrates: retried, delivered', async () => {
  // Prepare
  const request = await requests.submit(QUEUED_MOUS[0]!);
  await untilState(request, ['WaitForCalibrationJob', 'CheckCalibrationJob'], 'calibration to begin');

  // Act
  await s3Faults({ failNext: 20, status: 503 });

  // Assess: all twenty errors were answered, to CalMS's requests (nothing else talks to this cloud's S3).
  await eventually(async () => ((await s3Faults()).remaining === 0 ? true : undefined), 'the burst to be spent', 120_000, 200);
  expect(await s3Faults()).toEqual({ remaining: 0, injected: 20 });
  await expectDelivered(request);
}, 420_000);

test('the SMTP relay not answering for a while, then back: the request email goes out once, late', async () => {
  // Prepare
  expect(signalMailDev('SIGSTOP')).toBeGreaterThan(0);
  let request: AcceptedRequest;
  try {
    request = await requests.submit(QUEUED_MOUS[1]!);
    // Act: the relay stays away until the request email has failed at least once.
    await eventually(
      async () => (lambdaErrors(await executionHistory(request.executionArn)).includes('MailUnavailableError') ? true : undefined),
      'the request email to fail',
      120_000,
      200,
    );
  } finally {
    signalMailDev('SIGCONT');
  }

  // Assess
  const events = await expectDelivered(request);
  expect(lambdaErrors(events)).toContain('MailUnavailableError');
}, 420_000);

test('a node dead when chosen: the job goes to the next least loaded node', async () => {
  // Prepare
  const down = path.join(FAULT_CLUSTER_DIR, 'down', `node${LEAST_LOADED_NODE}`);
  fs.writeFileSync(down, '');
  let request: AcceptedRequest;
  try {
    // Act
    request = await requests.submit(QUEUED_MOUS[2]!);
    await untilState(request, ['WaitForCalibrationJob', 'CheckCalibrationJob', 'StageMeasurementSets'], 'the job to be submitted');
  } finally {
    fs.rmSync(down, { force: true });
  }

  // Assess: node 1 (25223) would have been chosen; node 2 (25224, load 0.8) was.
  const events = await expectDelivered(request);
  expect(submittedNode(events)).toBe(clusterNodes()[2]);
}, 420_000);

test('a node dying during the job: the request fails, the maintainer is told once, the trigger is kept for a re-drive', async () => {
  // Prepare
  const request = await requests.submit(NODE_LOST_MOUS);
  await untilState(request, ['WaitForCalibrationJob', 'CheckCalibrationJob'], 'the job to run');
  const node = submittedNode(await executionHistory(request.executionArn));
  const down = path.join(FAULT_CLUSTER_DIR, 'down', `node${clusterNodes().indexOf(node)}`);

  // Act
  fs.writeFileSync(down, '');
  let execution;
  try {
    execution = await waitForExecution(request.executionArn, 300_000);
  } finally {
    fs.rmSync(down, { force: true });
  }

  // Assess
  expect(lambdaErrors(execution.events)).toContain('ClusterUnreachableError');
  expect([execution.status, statesEntered(execution.events).slice(-2)]).toEqual(['FAILED', ['ReportCalibrationFailure', 'CalibrationFailed']]);
  await expectOneEmailOfEachKind(request.requestId, ['request', 'failure']);
  expect(await leftBehind([request])).toEqual({ slots: [], queue: [], uploads: [], triggers: [request.triggerName] });
}, 420_000);

test('the SSH connection dropped while a tarball streams: staging resumes from the last complete part, delivered', async () => {
  // Prepare
  const request = await requests.submit(QUEUED_MOUS[3]!);
  await untilState(request, ['StageMeasurementSets'], 'staging to begin');
  const nodeIndex = clusterNodes().indexOf(submittedNode(await executionHistory(request.executionArn)));
  const ask = path.join(FAULT_CLUSTER_DIR, 'drop', `node${nodeIndex}`);

  // Act: drop the node's connections until a staging step lost its stream. One drop may meet no connection, or
  // only one the adapter keeps between steps, which the next step replaces unharmed: on a quiet machine staging
  // streams for well under a second, so the drops go on until the history shows a step failed by one.
  let dropped = 0;
  await eventually(
    async () => {
      fs.writeFileSync(ask, '');
      await eventually(() => (fs.existsSync(ask) ? undefined : true), 'the node to drop its connections', 10_000, 50);
      dropped += Number(fs.readFileSync(`${ask}.dropped`, 'utf8'));
      return lambdaErrors(await executionHistory(request.executionArn)).includes('ClusterUnreachableError') ? true : undefined;
    },
    'a dropped connection to break a staging step',
    60_000,
    100,
  );

  // Assess
  expect(dropped).toBeGreaterThan(0);
  const events = await expectDelivered(request);
  expect(lambdaErrors(events)).toContain('ClusterUnreachableError');
}, 420_000);

/** Process ids of this cloud's serverless-offline (the Lambda runtime, handlers in-process). */
function offlinePids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      try {
        const commandLine = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        const environment = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
        return commandLine.includes('serverless/bin/serverless.js') && environment.includes(FAULT_STATE_DIR);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('the Lambda runtime killed while a step runs: a new one takes over, the step runs again, delivered', async () => {
  // Prepare: WaitForCalibrationJob's Lambda watches the job for up to CALMS_WAIT_STEP_SECONDS, so it is in flight.
  const [killed] = offlinePids();
  expect(killed).toBeDefined();
  const request = await requests.submit(QUEUED_MOUS[4]!);
  await eventually(
    async () => {
      const events = await executionHistory(request.executionArn);
      return statesEntered(events).pop() === 'WaitForCalibrationJob' && events.pop()?.type === 'LambdaFunctionStarted' ? true : undefined;
    },
    'WaitForCalibrationJob to run',
    120_000,
    50,
  );

  // Act
  process.kill(killed!, 'SIGKILL');

  // Assess: the runtime really died and was replaced; the lost invocation failed as on AWS and was retried.
  const events = await expectDelivered(request);
  expect(lambdaErrors(events)[0]).toBe('Lambda.ServiceException');
  expect(offlinePids()).not.toContain(killed);
  expect(fs.readFileSync(cloud.outputFile, 'utf8')).toMatch(/serverless-offline ended \(SIGKILL\): starting it again/);
}, 420_000);

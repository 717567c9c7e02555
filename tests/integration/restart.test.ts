/**
 * The local cloud keeps its work across a restart (issue 17): requests caught by a stop (as Ctrl-C) or a crash
 * (`kill -9`) while they calibrate, wait for a slot or stage go on when it starts again and are delivered,
 * each telling its user once, leaving no slot, queue entry, upload or trigger behind. The cloud is one of
 * this file's own (support/faultCloud.ts), restarted under the requests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CASA_JOURNAL } from '../../localstack/cluster/emulatedCluster';
import { executionHistory, statesEntered, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { expectOneEmailOfEachKind, FAULT_STATE_DIR, FaultCloud, leftBehind } from './support/faultCloud';
import { type AcceptedRequest, testRequests } from './support/requests';
import { QUEUED_MOUS } from './support/testCloud';

const CALIBRATING = ['WaitForCalibrationJob', 'CheckCalibrationJob', 'IsCalibrationJobRunning'];
const WAITING_FOR_SLOT = ['AcquireStagingSlot', 'IsStagingSlotAcquired', 'WaitForStagingSlot'];
const STAGING = ['StageMeasurementSets', 'AreMeasurementSetsStaged'];

const cloud = new FaultCloud();
const requests = testRequests(91000);

async function lastStateOf(request: AcceptedRequest): Promise<string | undefined> {
  return statesEntered(await executionHistory(request.executionArn)).pop();
}

/** Calibrations the cluster started, from the stand-in casa's journal: MOUS per start. */
function casaStarts(): string[] {
  const journal = path.join(FAULT_STATE_DIR, 'cluster', CASA_JOURNAL);
  if (!fs.existsSync(journal)) return [];
  return fs
    .readFileSync(journal, 'utf8')
    .split('\n')
    .filter((line) => line.includes(' start '))
    .map((line) => line.split(' ')[2]!);
}

/** How many executions the cloud said it resumed at its starts so far. */
function resumedAtStarts(): number[] {
  const output = fs.readFileSync(cloud.outputFile, 'utf8');
  return [...output.matchAll(/(\d+) execution\(s\) running when the local cloud stopped go on/g)].map((match) => Number(match[1]));
}

async function expectDeliveredCleanly(accepted: readonly AcceptedRequest[]): Promise<void> {
  const ended = await Promise.all(accepted.map((request) => waitForExecution(request.executionArn, 300_000)));
  expect(ended.map((execution) => [execution.status, execution.error])).toEqual(accepted.map(() => ['SUCCEEDED', undefined]));
  for (const execution of ended) {
    // One execution from start to end: resumed, not started again.
    expect(execution.events.filter((event) => event.type === 'ExecutionStarted')).toHaveLength(1);
    expect(statesEntered(execution.events).pop()).toBe('Delivered');
  }
  for (const request of accepted) await expectOneEmailOfEachKind(request.requestId, ['request', 'delivered']);
  expect(await leftBehind(accepted)).toEqual({ slots: [], queue: [], uploads: [], triggers: [] });
}

beforeAll(() => cloud.start(), 180_000);
afterAll(() => cloud.stop(), 60_000);

test('two MOUS calibrating and a third waiting for a slot, the cloud stopped as by Ctrl-C and started again: all three delivered, the jobs found again', async () => {
  // Prepare
  const mous = QUEUED_MOUS.slice(0, 3);
  const accepted: AcceptedRequest[] = [];
  for (const uid of mous) accepted.push(await requests.submit(uid));
  const before = await eventually(
    async () => {
      const states = await Promise.all(accepted.map(lastStateOf));
      const calibrating = states.filter((state) => CALIBRATING.includes(state ?? '')).length;
      const waiting = states.filter((state) => WAITING_FOR_SLOT.includes(state ?? '')).length;
      return calibrating === 2 && waiting === 1 && casaStarts().length === 2 ? states : undefined;
    },
    'two calibrations on the cluster and a request waiting for a slot',
    120_000,
    200,
  );

  // Act
  await cloud.restart('stop');

  // Assess: the fault happened (all three were in work when it stopped, and the new cloud resumed them) ...
  expect(before.filter((state) => CALIBRATING.includes(state!))).toHaveLength(2);
  expect(resumedAtStarts()).toEqual([3]);
  await expectDeliveredCleanly(accepted);
  // ... and the jobs that outlived the cloud were found, not submitted again: three calibrations in all.
  expect(
    casaStarts()
      .filter((uid) => mous.includes(uid))
      .sort(),
  ).toEqual([...mous].sort());
}, 420_000);

test('a request killed (kill -9) with the cloud while it stages is delivered from where it was, its upload completed', async () => {
  // Prepare
  const request = await requests.submit(QUEUED_MOUS[3]!);
  await eventually(async () => (STAGING.includes((await lastStateOf(request)) ?? '') ? true : undefined), 'staging to begin', 180_000, 100);
  const resumedBefore = resumedAtStarts().length;

  // Act
  await cloud.restart('kill');

  // Assess
  expect(resumedAtStarts().slice(resumedBefore)).toEqual([1]);
  await expectDeliveredCleanly([request]);
}, 420_000);

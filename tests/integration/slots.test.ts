/**
 * The staging slots on the local cloud: at most two calibrations at once, as the cluster itself sees them,
 * served in arrival order; and a slot whose holder stops renewing (execution stopped, Lambda crashed) is free
 * again within one lease (12 s in the test cloud), or at once when its execution has ended.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { MousRequest } from '../../lib/domain/request';
import { CASA_JOURNAL } from '../../localstack/cluster/emulatedCluster';
import { service, sfn, stagingQueue, statesEntered, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { testRequests } from './support/requests';
import { HANGING_MOUS, NODE_LOST_MOUS, QUEUED_MOUS, TEST_CLOUD_ENV, TEST_STATE_DIR } from './support/testCloud';

const LEASE_MS = Number(TEST_CLOUD_ENV.CALMS_STAGING_LEASE_SECONDS) * 1000;
/** A waiting request asks every second; a check or a Lambda call takes some more. */
const SLACK_MS = 3_000;

const requests = testRequests(75000);

interface JournalEvent {
  readonly at: number;
  readonly event: 'start' | 'end';
  readonly mous: string;
}

function casaJournal(): JournalEvent[] {
  const file = path.join(TEST_STATE_DIR, 'cluster', CASA_JOURNAL);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [at, event, mous] = line.split(' ');
      return { at: Date.parse(at!), event: event as JournalEvent['event'], mous: mous! };
    });
}

/** The most calibrations running at one moment, from the journal's starts and ends. */
function maxConcurrent(events: readonly JournalEvent[]): number {
  let running = 0;
  let most = 0;
  // At equal times an end is counted before a start: the slot was handed over, not shared.
  const ordered = [...events].sort((a, b) => a.at - b.at || (a.event === 'end' ? -1 : 1));
  for (const event of ordered) {
    running += event.event === 'start' ? 1 : -1;
    most = Math.max(most, running);
  }
  return most;
}

describe('staging slots', () => {
  test('ten MOUS at once: never more than two calibrate on the cluster, all complete, started in arrival order', async () => {
    // Act
    const since = Date.now() - 1000;
    const accepted = [];
    for (const mous of QUEUED_MOUS) accepted.push(await requests.submit(mous));
    const executions = await Promise.all(accepted.map((request) => waitForExecution(request.executionArn, 240_000)));

    // Assess
    expect(executions.map((execution) => execution.status)).toEqual(QUEUED_MOUS.map(() => 'SUCCEEDED'));
    const events = casaJournal().filter((event) => QUEUED_MOUS.includes(event.mous) && event.at >= since);
    const starts = events.filter((event) => event.event === 'start');
    expect(starts.map((event) => event.mous)).toEqual(QUEUED_MOUS);
    expect(
      events
        .filter((event) => event.event === 'end')
        .map((event) => event.mous)
        .sort(),
    ).toEqual([...QUEUED_MOUS].sort());
    expect(maxConcurrent(events)).toBeLessThanOrEqual(2);
    // Both slots were used: the test cloud's jobs take a second, but a holder keeps its slot through staging.
    const holding = executions.flatMap((execution) => {
      const entered = (name: string) => execution.events.find((event) => event.stateEnteredEventDetails?.name === name)!.timestamp!.getTime();
      return [
        { at: entered('ChooseClusterNode'), event: 'start' as const, mous: '' },
        { at: entered('ReleaseStagingSlot'), event: 'end' as const, mous: '' },
      ];
    });
    expect(maxConcurrent(holding)).toBe(2);
    const waited = executions.filter((execution) => statesEntered(execution.events).includes('WaitForStagingSlot'));
    expect(waited.length).toBeGreaterThanOrEqual(QUEUED_MOUS.length - 2);
  }, 300_000);

  test('a slot held by an execution that was stopped is free again within one lease', async () => {
    // Prepare
    const queue = stagingQueue();
    const accepted = await requests.submit(HANGING_MOUS);
    await eventually(
      async () => ((await queue.view()).holders.some((holder) => holder.requestId === accepted.requestId) ? true : undefined),
      `${accepted.requestId} to hold a slot`,
      30_000,
      200,
    );

    // Act
    await sfn().send(new StopExecutionCommand({ executionArn: accepted.executionArn, error: 'Cancelled', cause: 'stopped by the slot test' }));
    const stoppedAt = Date.now();
    await eventually(
      async () => ((await queue.view()).holders.some((holder) => holder.requestId === accepted.requestId) ? undefined : true),
      "the stopped execution's slot to be free",
      LEASE_MS + SLACK_MS,
      200,
    );

    // Assess
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(LEASE_MS + SLACK_MS);
  }, 60_000);

  test('slots held by Lambdas that crashed after acquiring them go to a waiting request once their leases run out', async () => {
    // Prepare: two holders that started their jobs and will never renew nor release, as if their Lambdas died
    // mid-step
    const queue = stagingQueue();
    const crashed = (index: number): MousRequest => ({
      requestId: `t9-crashed-${index}-${process.pid}`,
      projectCode: '2023.1.00456.S',
      userName: 'Nobody',
      userEmail: 'nobody@example.org',
      helpdeskTicket: '9',
      arcContact: 'arc.staff@example.org',
      mous: QUEUED_MOUS[index]!,
      calibratorFields: [],
      requestedAt: new Date().toISOString(),
      triggerName: `trigger-${QUEUED_MOUS[index]}-crashed.txt`,
      requestMessageId: `<crashed-${index}@example.org>`,
    });
    for (const holder of [crashed(0), crashed(1)]) {
      await queue.join(holder);
      expect(await queue.acquire(holder)).toMatchObject({ acquired: true });
      expect(await queue.renew(holder.requestId, true)).toBe(true);
    }
    const crashedAt = Date.now();

    // Act: a field selection never staged before, so it needs the cluster and so a slot
    const accepted = await requests.submit(QUEUED_MOUS[2]!, { calibratorFields: ['J1316-3338'] });
    const execution = await waitForExecution(accepted.executionArn, 120_000);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const states = statesEntered(execution.events);
    expect(states).toContain('WaitForStagingSlot');
    const acquired = execution.events.find((event) => event.stateEnteredEventDetails?.name === 'ChooseClusterNode')!.timestamp!.getTime();
    expect(acquired - crashedAt).toBeGreaterThanOrEqual(LEASE_MS - 1000);
    expect(acquired - crashedAt).toBeLessThanOrEqual(LEASE_MS + SLACK_MS);
    expect((await queue.view()).holders.map((holder) => holder.requestId).filter((id) => id.startsWith('t9-crashed-'))).toEqual([]);
  }, 150_000);

  test('an execution stopped by hand while first in the queue does not hold the next one back for its grace period', async () => {
    // Prepare: both slots held by jobs that hang until their deadline; then the head and the next one wait.
    const queue = stagingQueue();
    const holders = [await requests.submit(HANGING_MOUS), await requests.submit(NODE_LOST_MOUS)];
    await eventually(
      async () =>
        (await queue.view()).holders.filter((holder) => holders.some((held) => held.requestId === holder.requestId)).length === 2 ? true : undefined,
      'both hanging jobs to hold a slot',
      30_000,
      200,
    );
    const head = await requests.submit(QUEUED_MOUS[3]!, { calibratorFields: ['J1337-1257'] });
    const next = await requests.submit(QUEUED_MOUS[4]!, { calibratorFields: ['J1337-1257'] });
    const waiting = await eventually(
      async () => {
        const view = await queue.view();
        const order = view.waiting.map((entry) => entry.requestId);
        return order.indexOf(head.requestId) === 0 && order.indexOf(next.requestId) === 1 ? view : undefined;
      },
      'the head and the next one to wait in the queue, in that order',
      30_000,
      200,
    );

    // Act: the head is stopped by hand (the console's or the CLI's StopExecution), not cancelled through CalMS.
    await sfn().send(new StopExecutionCommand({ executionArn: head.executionArn, error: 'Stopped', cause: 'stopped by hand in the slot test' }));
    const stoppedAt = Date.now();
    const [stopped, admitted] = await Promise.all([waitForExecution(head.executionArn, 30_000), waitForExecution(next.executionArn, 120_000)]);

    // Assess: the head died waiting, in the queue's first place; the next one was let in once a slot was free,
    // long before the head's place would have run out.
    expect(waiting.holders.map((holder) => holder.requestId).sort()).toEqual(holders.map((held) => held.requestId).sort());
    expect(stopped.status).toBe('ABORTED');
    expect(statesEntered(stopped.events)).not.toContain('ChooseClusterNode');
    expect(admitted.status).toBe('SUCCEEDED');
    expect(statesEntered(admitted.events)).toContain('WaitForStagingSlot');
    const admittedAt = admitted.events.find((event) => event.stateEnteredEventDetails?.name === 'ChooseClusterNode')!.timestamp!.getTime();
    expect(admittedAt).toBeLessThan(stoppedAt + service().slots.queueGraceSeconds * 1000);
  }, 180_000);
});

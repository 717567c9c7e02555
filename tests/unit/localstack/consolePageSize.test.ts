/**
 * The console stays small with a long execution (issue 19 §3): the page of a running execution with 2,000
 * events, stuck waiting for a staging slot, is under 300 KB, and a refresh tick transfers under 20 KB. Step
 * Functions is faked at the SDK (aws-sdk-client-mock) with a synthetic history shaped as the local cloud writes
 * it; the console itself is the real server on a free port.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'js-yaml';
import { EVENT_ROWS, STEP_ROWS } from '../../../localstack/console/history';
import type { ExecutionUpdate } from '../../../localstack/console/live';
import { type ConsoleServer, startConsole } from '../../../localstack/console/server';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:calms-dev';
const NAME = 't73001-uid___A001_X3a0_X201-20261206T040000Z-a1b2';
const EXECUTION_ARN = `arn:aws:states:us-east-1:000000000000:execution:calms-dev:${NAME}`;
const DEFINITION = JSON.stringify(yaml.load(fs.readFileSync(path.join(__dirname, '../../../statemachines/calms.asl.yml'), 'utf8')));
const PAGE_TARGET = 300_000;
const TICK_TARGET = 20_000;

/** An execution state as heavy as a real one while it waits for a slot: the request, its answers, the MSs found. */
const STATE = {
  request: {
    helpdeskTicket: '73001',
    mous: 'uid___A001_X3a0_X201',
    projectCode: '2023.1.00123.S',
    userName: 'Stella Stranger',
    userEmail: 'stella.stranger@example.org',
    arcContact: 'arc.contact@example.org',
    calibratorFields: [],
    requestedAt: '2026-12-06T04:00:00.000Z',
  },
  requestEmail: { messageId: '<20261206040001.73001@calms.example.org>', sentAt: '2026-12-06T04:00:01.000Z' },
  entitlement: { outcome: 'ENTITLED', decidedAt: '2026-12-06T04:00:02.000Z', pi: 'stella', delegates: ['someone', 'else'] },
  staging: {
    reused: false,
    found: Array.from({ length: 8 }, (_, index) => ({
      name: `uid___A002_Xf${index}c1_X${index}a2.ms`,
      bytes: 123_456_789_012 + index,
      stagedAt: null,
    })),
  },
  slot: { acquired: false, place: 3, holders: ['t72999-uid___A001_X3a0_X1ff', 't73000-uid___A001_X3a0_X200'] },
};

const STATE_TEXT = JSON.stringify(STATE);
const LAMBDA = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:calms-dev-${name}`;

/** Builds a history the way the local cloud writes it: ids from 1, each event after the one before. */
function historyWriter(start: Date) {
  const events: HistoryEvent[] = [];
  let clock = start.getTime();
  const add = (event: Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'>) => {
    clock += 37;
    events.push({ ...event, id: events.length + 1, previousEventId: events.length, timestamp: new Date(clock) } as HistoryEvent);
  };
  const task = (name: string, result: unknown) => {
    add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name, input: STATE_TEXT } });
    add({
      type: 'LambdaFunctionScheduled',
      lambdaFunctionScheduledEventDetails: { resource: LAMBDA(name), input: JSON.stringify({ request: STATE.request }) },
    });
    add({ type: 'LambdaFunctionStarted' });
    add({ type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: JSON.stringify(result) } });
    add({ type: 'TaskStateExited', stateExitedEventDetails: { name, output: STATE_TEXT } });
  };
  const choice = (name: string) => {
    add({ type: 'ChoiceStateEntered', stateEnteredEventDetails: { name, input: STATE_TEXT } });
    add({ type: 'ChoiceStateExited', stateExitedEventDetails: { name, output: STATE_TEXT } });
  };
  return { events, add, task, choice };
}

/** A request waiting for a staging slot: the way there, then rounds of WaitForStagingSlot until `total` events. */
function waitingExecution(total: number) {
  const history = historyWriter(new Date('2026-12-06T04:00:00Z'));
  history.add({ type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify({ request: STATE.request }) } });
  history.choice('IsRedriven');
  history.task('EmailRequestToAog', STATE.requestEmail);
  history.task('CheckEntitlement', STATE.entitlement);
  history.choice('IsUserEntitled');
  history.task('LookForStagedMeasurementSets', STATE.staging);
  history.choice('AreAllMeasurementSetsStaged');
  history.task('AcquireStagingSlot', STATE.slot);
  history.choice('IsStagingSlotAcquired');
  const round = () => {
    history.task('WaitForStagingSlot', STATE.slot);
    history.choice('IsStagingSlotAcquired');
  };
  while (history.events.length + 7 <= total - 3) round();
  // The current round: the slot is being waited for.
  history.add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'WaitForStagingSlot', input: STATE_TEXT } });
  history.add({
    type: 'LambdaFunctionScheduled',
    lambdaFunctionScheduledEventDetails: { resource: LAMBDA('WaitForStagingSlot'), input: JSON.stringify({ request: STATE.request }) },
  });
  while (history.events.length < total) history.add({ type: 'LambdaFunctionStarted' });
  return { ...history, round };
}

/** Bytes a response puts on the wire: status line, headers and body. */
async function transferred(url: string): Promise<{ bytes: number; body: string; status: number }> {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  let headers = `HTTP/1.1 ${response.status} ${response.statusText}\r\n`;
  response.headers.forEach((value, name) => {
    headers += `${name}: ${value}\r\n`;
  });
  return { bytes: Buffer.byteLength(headers) + 2 + body.length, body: body.toString('utf8'), status: response.status };
}

describe('the console with a long execution', () => {
  const sfn = mockClient(SFNClient);
  let server: ConsoleServer;
  let execution: ReturnType<typeof waitingExecution>;
  let status = 'RUNNING';
  let historyCalls: GetExecutionHistoryCommandInput[];

  beforeEach(async () => {
    execution = waitingExecution(2000);
    status = 'RUNNING';
    historyCalls = [];
    sfn.reset();
    sfn.on(DescribeExecutionCommand).callsFake(() => ({
      executionArn: EXECUTION_ARN,
      stateMachineArn: STATE_MACHINE_ARN,
      name: NAME,
      status,
      startDate: execution.events[0]!.timestamp,
      stopDate: status === 'RUNNING' ? undefined : execution.events.at(-1)!.timestamp,
      input: JSON.stringify({ request: STATE.request }),
      output: status === 'SUCCEEDED' ? STATE_TEXT : undefined,
    }));
    sfn.on(DescribeStateMachineForExecutionCommand).resolves({ definition: DEFINITION });
    sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
      historyCalls.push(input);
      const ordered = input.reverseOrder ? [...execution.events].reverse() : execution.events;
      const from = Number(input.nextToken ?? 0);
      const to = from + (input.maxResults ?? 100);
      return { events: ordered.slice(from, to), nextToken: to < ordered.length ? String(to) : undefined };
    });
    server = await startConsole({ port: 0, stateMachineArn: STATE_MACHINE_ARN, region: 'us-east-1' });
  });

  afterEach(async () => {
    await server.close();
  });

  afterAll(() => {
    sfn.restore();
  });

  const page = () => transferred(`${server.url}/executions/${NAME}`);
  const tick = async (after: number) => {
    const answer = await transferred(`${server.url}/executions/${NAME}/updates?after=${after}`);
    return { ...answer, update: JSON.parse(answer.body) as ExecutionUpdate };
  };

  test('the page of a running execution with 2,000 events is under 300 KB: the loop folded, the newest steps and events', async () => {
    // Act
    const { bytes, body, status: code } = await page();

    // Assess
    expect(code).toBe(200);
    expect(execution.events).toHaveLength(2000);
    expect(bytes).toBeLessThan(PAGE_TARGET);
    const rounds = execution.events.filter((event) => event.stateExitedEventDetails?.name === 'WaitForStagingSlot').length;
    console.log(`page of a 2000-event execution (${rounds} rounds of WaitForStagingSlot): ${bytes} bytes (target < ${PAGE_TARGET})`);
    expect(rounds).toBeGreaterThan(250);
    expect(body).toContain(`<strong>WaitForStagingSlot ×${rounds}</strong>`);
    expect(body).toContain('Loop: WaitForStagingSlot → IsStagingSlotAcquired');
    expect(body).toContain('2000 events');
    const stepRows = (body.match(/<tr [^>]*data-key=/g) ?? []).length;
    expect(stepRows).toBeLessThanOrEqual(STEP_ROWS);
    const eventRows = (body.match(/<tr[^>]* data-event=/g) ?? []).length;
    expect(eventRows).toBe(EVENT_ROWS);
    expect(body).toContain('data-event="2000"');
    expect(body).not.toContain('data-event="1900"');
    expect(body).toContain(`href="/executions/${NAME}/events?before=1901"`);
    // The steps' and events' inputs and outputs are fetched when opened: only the execution's input is on the page.
    expect(body.match(/&quot;helpdeskTicket&quot;/g)).toHaveLength(1);
  });

  test('a refresh tick transfers under 20 KB: the new events, the loop row with its new count, the changed graph parts', async () => {
    // Prepare
    const before = await page();
    const after = Number(/data-after="(\d+)"/.exec(before.body)![1]);
    execution.events.pop(); // the slot wait ends ...
    execution.add({ type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: JSON.stringify(STATE.slot) } });
    execution.add({ type: 'TaskStateExited', stateExitedEventDetails: { name: 'WaitForStagingSlot', output: STATE_TEXT } });
    execution.choice('IsStagingSlotAcquired');
    execution.add({ type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'WaitForStagingSlot', input: STATE_TEXT } });
    historyCalls = [];

    // Act
    const { bytes, update } = await tick(1999);

    // Assess
    console.log(`refresh tick of a 2000-event execution: ${bytes} bytes (target < ${TICK_TARGET})`);
    expect(after).toBe(2000);
    expect(bytes).toBeLessThan(TICK_TARGET);
    expect(update.after).toBe(2004);
    expect([...update.events.html.matchAll(/data-event="(\d+)"/g)].map((match) => Number(match[1]))).toEqual([2000, 2001, 2002, 2003, 2004]);
    expect(update.events.replace).toBe(false);
    expect(update.status).toBe('RUNNING');
    expect(update.refreshMs).toBe(1500);
    expect(update.io).toBeUndefined();
    const loop = update.steps.changed.find((row) => row.html.includes('class="fold'))!;
    expect(loop.html).toMatch(/WaitForStagingSlot ×\d+/);
    expect(update.steps.changed.at(-1)!.html).toContain('In progress');
    expect(update.graph.changed.map((part) => part.key)).toEqual(expect.arrayContaining(['state:WaitForStagingSlot']));
    expect(update.head).toContain('2004 events');
    // Only the newest events were read from Step Functions, newest first.
    expect(historyCalls.length).toBeGreaterThan(0);
    expect(historyCalls.every((call) => call.reverseOrder === true)).toBe(true);
  });

  test('when the execution ends, the tick says so, stops the refresh and brings its output', async () => {
    // Prepare
    await page();
    execution.add({ type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: JSON.stringify(STATE.slot) } });
    execution.add({ type: 'TaskStateExited', stateExitedEventDetails: { name: 'WaitForStagingSlot', output: STATE_TEXT } });
    execution.add({ type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: STATE_TEXT } });
    status = 'SUCCEEDED';

    // Act
    const { update, bytes } = await tick(2000);

    // Assess
    expect(bytes).toBeLessThan(TICK_TARGET);
    expect(update.status).toBe('SUCCEEDED');
    expect(update.refreshMs).toBeUndefined();
    expect(update.io).toContain('<h2>Output</h2>');
    expect(update.steps.changed.at(-1)!.html).toContain('step-succeeded');

    // Act: once it has ended, its history is not read again.
    historyCalls = [];
    await tick(2003);

    // Assess
    expect(historyCalls).toEqual([]);
  });

  test('a page that missed more than a page of events gets the newest page instead, with a link to the older ones', async () => {
    // Act
    const { update } = await tick(1000);

    // Assess
    expect(update.events.replace).toBe(true);
    expect((update.events.html.match(/data-event=/g) ?? []).length).toBe(EVENT_ROWS);
    expect(update.events.html).toContain('Show older events (1900 more)');
  });

  test('older events, a folded loop and a step come a page at a time on demand', async () => {
    // Act
    const older = await transferred(`${server.url}/executions/${NAME}/events?before=1901`);
    const loopPage = await transferred(`${server.url}/executions/${NAME}/steps?from=11&to=400`);
    const step = await transferred(`${server.url}/executions/${NAME}/steps/12`);
    const state = await transferred(`${server.url}/executions/${NAME}/states/CheckEntitlement`);
    const missing = await transferred(`${server.url}/executions/${NAME}/steps/99999`);

    // Assess
    expect([...older.body.matchAll(/data-event="(\d+)"/g)].map((match) => Number(match[1]))).toEqual(
      Array.from({ length: EVENT_ROWS }, (_, index) => 1801 + index),
    );
    expect(older.body).toContain('events?before=1801');
    expect((loopPage.body.match(/class="step-succeeded in-fold"/g) ?? []).length).toBe(STEP_ROWS);
    expect(loopPage.body).toContain(`steps?from=${11 + STEP_ROWS}&amp;to=400&amp;fold=11`);
    expect(step.body).toContain('<dt>Input</dt>');
    expect(step.body).toContain('&quot;helpdeskTicket&quot;: &quot;73001&quot;');
    expect(state.body).toContain('<h3>CheckEntitlement</h3>');
    expect(state.body).toContain('&quot;outcome&quot;: &quot;ENTITLED&quot;');
    expect(missing.status).toBe(404);
  });

  test('a number in the address that is not one gets 400 naming it, before Step Functions is asked', async () => {
    // Act
    const answers = await Promise.all(
      [`updates?after=latest`, 'updates', 'events?before=-3', 'steps?from=1&to=x'].map((part) =>
        transferred(`${server.url}/executions/${NAME}/${part}`),
      ),
    );

    // Assess
    expect(answers.map(({ status, body }) => [status, body])).toEqual([
      [400, 'after: the id of the newest event the page has, a whole number\n'],
      [400, 'after: the id of the newest event the page has, a whole number\n'],
      [400, 'before: the step or event id the rows come before, a whole number\n'],
      [400, 'to: the last step of the loop, a whole number\n'],
    ]);
    expect(sfn.calls()).toHaveLength(0);
  });
});

/**
 * The console of the local cloud, driven in a real headless browser (Debian's chromium through playwright-core)
 * as an operator would use it: the list of executions with a running, a failed and a succeeded one, its
 * filters, and each execution's page (graph with the path and the current state, input, steps, event
 * history, the error and cause of a failure), refreshing itself while the execution runs.
 *
 * Screenshots go to $CALMS_TEST_SCREENSHOTS, by default <tmp>/calms-console-screenshots.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { cliConfig } from '../../lib/config';
import { localCloudConfig } from '../../localstack/config';
import { launchChromium, SCREENSHOTS } from './support/browser';
import { executionHistory, mailsOf, statesEntered, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { type AcceptedRequest, testRequests } from './support/requests';
import { FAILING_MOUS, HANGING_MOUS } from './support/testCloud';

// The browser's globals, for the functions that run in the page (this Node project's types have no DOM).
declare const document: any;
declare const window: { notReloaded?: boolean };
declare function getComputedStyle(element: unknown): { stroke: string };

const SUCCEEDS = 'uid___A001_X3a0_X201';
/** Proprietary, and Stella is neither PI nor delegate: a quick NOT_ENTITLED reply. */
const NOT_ENTITLED = 'uid___A001_X2f1e_X101';
const HOSTILE_NAME = 'Stella <img src=x onerror="document.body.dataset.pwned=1"> "Stranger" & <b>co</b>';
/** How the console draws the current state and a state not visited (assets.ts). */
const BLUE = 'rgb(9, 114, 211)';
const GREY = 'rgb(170, 183, 184)';
const CALIBRATION_LOOP = ['WaitForCalibrationJob', 'CheckCalibrationJob', 'IsCalibrationJobRunning'];
/** One round of waiting for the calibration job: a Wait task, then the Choice that decides whether to wait again. */
const CALIBRATION_WAIT = ['WaitForCalibrationJob', 'IsCalibrationJobRunning'];

const requests = testRequests(77000);

const consoleUrl = () => `http://127.0.0.1:${localCloudConfig().ports.console}`;

/** The visible text of each cell of an execution's row in the list, or undefined if it is not listed. */
async function listedRow(page: Page, execution: AcceptedRequest): Promise<string[] | undefined> {
  const row = page.locator(`tr[data-execution="${execution.requestId}"]`);
  if ((await row.count()) === 0) return undefined;
  return row.locator('td').evaluateAll((cells) => cells.map((cell) => (cell as unknown as { innerText: string }).innerText.trim()));
}

/** Names of the executions listed, top to bottom. */
function listedNames(page: Page): Promise<string[]> {
  return page.locator('table.executions tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-execution')!));
}

/** How a state is drawn in the graph: its status attribute and the stroke colour of its shape. */
function graphNode(page: Page, state: string): Promise<{ status: string; stroke: string }> {
  return page.locator(`svg.graph g.node[data-state="${state}"]`).evaluate((node) => ({
    status: node.getAttribute('data-status')!,
    stroke: getComputedStyle(node.querySelector('.shape')!).stroke,
  }));
}

/**
 * What a running execution's page shows at one moment (read at once: the page refreshes itself): the current
 * state named in the summary, the states drawn as current in the graph with their stroke colour, and the
 * number of states entered so far ("N states entered, M events").
 */
function runningView(page: Page): Promise<{ current: string; highlighted: { state: string; stroke: string }[]; steps: number }> {
  return page.evaluate(() => ({
    current: document.getElementById('current-state')?.textContent ?? '',
    highlighted: [...document.querySelectorAll('svg.graph g.node[data-status="running"]')].map((node: any) => ({
      state: node.getAttribute('data-state')!,
      stroke: getComputedStyle(node.querySelector('.shape')!).stroke,
    })),
    steps: Number(/(\d+) states entered/.exec(document.querySelector('dl.summary')?.textContent ?? '')?.[1]),
  }));
}

/** Clicks each link matching `selector` until none is left (older rows, a loop's steps), waiting for what it brings. */
async function clickAll(page: Page, selector: string): Promise<void> {
  for (let link = await page.$(selector); link; link = await page.$(selector)) {
    await link.click();
    await page.waitForFunction(
      ([element, matching]) => {
        const shown = element as { isConnected: boolean; matches(selector: string): boolean };
        return !shown.isConnected || !shown.matches(matching);
      },
      [link, selector] as const,
    );
  }
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), timeout: 60_000 });
}

function waitUntilEntered(executionArn: string, state: string): Promise<void> {
  return eventually(
    async () => (statesEntered(await executionHistory(executionArn)).includes(state) ? true : undefined),
    `${executionArn} to enter ${state}`,
    60_000,
    200,
  ).then(() => undefined);
}

describe('the console in a headless browser', () => {
  let browser: Browser;
  let page: Page;
  let succeeded: AcceptedRequest;
  let failed: AcceptedRequest;
  let hostile: AcceptedRequest;
  let running: AcceptedRequest;
  let failure: { error?: string; cause?: string };

  beforeAll(async () => {
    fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
    page.setDefaultTimeout(30_000);

    succeeded = await requests.submit(SUCCEEDS);
    failed = await requests.submit(FAILING_MOUS);
    hostile = await requests.submit(NOT_ENTITLED, { projectCode: '2022.1.00999.S', userName: HOSTILE_NAME });
    const [success, failing, refused] = await Promise.all(
      [succeeded, failed, hostile].map((execution) => waitForExecution(execution.executionArn, 150_000)),
    );
    expect([success!.status, failing!.status, refused!.status]).toEqual(['SUCCEEDED', 'FAILED', 'SUCCEEDED']);
    failure = { error: failing!.error, cause: failing!.cause };
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
  });

  // The running execution hangs in calibration until the test cloud's maximum runtime (12 s after its job
  // started): the list and its page are looked at right after it starts.
  test('the list shows a running, a failed and a succeeded execution, newest first, with ticket, MOUS, user, start, duration and state', async () => {
    // Prepare
    running = await requests.submit(HANGING_MOUS);
    await waitUntilEntered(running.executionArn, 'EmailRequestToAog');

    // Act
    await page.goto(consoleUrl());

    // Assess
    const names = await listedNames(page);
    expect(names.slice(0, 4)).toEqual([running.requestId, hostile.requestId, failed.requestId, succeeded.requestId]);
    const user = 'Stella Stranger\nstella.stranger@example.org';
    const started = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;
    const duration = /^\d+\.\d s$|^\d+ min \d\d s$/;
    const runningRow = (await listedRow(page, running))!;
    expect(runningRow.slice(0, 5)).toEqual(['Running', 'In progress', running.ticket, HANGING_MOUS, user]);
    expect(runningRow[5]).toMatch(started);
    expect(runningRow[6]).toMatch(duration);
    expect(runningRow[7]).toMatch(/^[A-Za-z]+$/);
    expect(await listedRow(page, failed)).toEqual([
      'Failed',
      'Failed',
      failed.ticket,
      FAILING_MOUS,
      user,
      expect.stringMatching(started),
      expect.stringMatching(duration),
      'CalibrationFailed',
    ]);
    expect(await listedRow(page, succeeded)).toEqual([
      'Succeeded',
      'Delivered',
      succeeded.ticket,
      SUCCEEDS,
      user,
      expect.stringMatching(started),
      expect.stringMatching(duration),
      'Delivered',
    ]);
    expect((await listedRow(page, hostile))!.slice(0, 2)).toEqual(['Succeeded', 'Not entitled']);
    expect(await page.locator('#live .live-note').innerText()).toMatch(/refreshes itself every/);
    await screenshot(page, '1-list');
  });

  test("the running execution's page highlights its current state and refreshes itself to later states until it ends, fetching only what changed", async () => {
    // Prepare: every request the page makes after it loaded, with what it transferred.
    const fetched: { url: string; bytes: number }[] = [];
    const watch = async (request: Request) => {
      const sizes = await request.sizes();
      fetched.push({ url: request.url(), bytes: sizes.responseHeadersSize + sizes.responseBodySize });
    };

    // Act: from the list, as a person would.
    await page.locator(`tr[data-execution="${running.requestId}"] td:nth-child(3) a`).click();
    await page.waitForURL(`**/executions/${running.requestId}`);
    page.on('requestfinished', watch);

    // Assess
    expect(await page.locator('h1').innerText()).toBe(`Ticket ${running.ticket} · ${HANGING_MOUS}\nRunning`);
    expect(await page.locator('#live .live-note').innerText()).toMatch(/^Running: this page refreshes itself every/);
    const first = await runningView(page);
    expect(first.highlighted).toEqual([{ state: first.current, stroke: BLUE }]);
    expect(await graphNode(page, 'EmailRequestToAog')).toMatchObject({ status: 'succeeded' });
    expect(await graphNode(page, 'Delivered')).toEqual({ status: 'unvisited', stroke: GREY });
    await screenshot(page, '2-running');

    // The page replaces its content in place: the marker set here survives, a reload would drop it.
    await page.evaluate(() => (window.notReloaded = true));
    await waitUntilEntered(running.executionArn, 'WaitForCalibrationJob');
    await page.waitForFunction(
      ({ loop, before }) =>
        loop.includes(document.getElementById('current-state')?.textContent ?? '') &&
        Number(/(\d+) states entered/.exec(document.querySelector('dl.summary')?.textContent ?? '')?.[1]) > before,
      { loop: CALIBRATION_LOOP, before: first.steps },
      { timeout: 20_000 },
    );
    const later = await runningView(page);
    expect(later.steps).toBeGreaterThan(first.steps);
    expect(later.highlighted).toEqual([{ state: later.current, stroke: BLUE }]);
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
    await screenshot(page, '3-running-later');

    // At the maximum runtime the execution fails: the page shows it without being reloaded, and stops refreshing.
    await page.waitForSelector('#live[data-status="FAILED"]', { timeout: 60_000 });
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
    expect(await page.locator('section.failure h2').innerText()).toBe('Failed: CalibrationTimedOutError');
    expect(await page.locator('#live .live-note').count()).toBe(0);
    expect(await graphNode(page, 'CalibrationFailed')).toMatchObject({ status: 'failed' });
    page.off('requestfinished', watch);

    // Every tick asked only for what changed since the newest event the page had, and each stayed small.
    const ticks = fetched.filter(({ url }) => new URL(url).pathname === `/executions/${running.requestId}/updates`);
    expect(ticks.length).toBeGreaterThan(1);
    expect(fetched.filter(({ url }) => new URL(url).pathname === `/executions/${running.requestId}`)).toEqual([]);
    expect(Math.max(...ticks.map(({ bytes }) => bytes))).toBeLessThan(20_000);
    const afters = ticks.map(({ url }) => Number(new URL(url).searchParams.get('after')));
    expect(afters).toEqual([...afters].sort((a, b) => a - b));
    // The events table holds each event once, in order, ending with the execution's end.
    const shownEvents = await page
      .locator('table.events tbody tr[data-event]')
      .evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-event'))));
    const { events } = (await waitForExecution(running.executionArn))!;
    expect(shownEvents).toEqual(events.slice(-shownEvents.length).map((event) => event.id));
    expect(shownEvents.at(-1)).toBe(events.at(-1)!.id);
  });

  test('the live refresh answers only the events after the one named, and the page of an ended loop shows it folded', async () => {
    // Prepare
    const events = await executionHistory(running.executionArn);
    const after = events.at(-6)!.id!;

    // Act
    const answer = await fetch(`${consoleUrl()}/executions/${running.requestId}/updates?after=${after}`);
    const update = (await answer.json()) as { after: number; status: string; events: { html: string; replace: boolean } };

    // Assess
    expect(answer.status).toBe(200);
    expect(update.status).toBe('FAILED');
    expect(update.after).toBe(events.at(-1)!.id);
    expect([...update.events.html.matchAll(/data-event="(\d+)"/g)].map((match) => Number(match[1]))).toEqual(
      events.slice(-5).map((event) => event.id),
    );
    expect(update.events.replace).toBe(false);

    // Act: the calibration job was waited for in a loop, shown as one row that unfolds.
    await page.goto(`${consoleUrl()}/executions/${running.requestId}`);
    const loop = page.locator('table.steps tr.fold').first();
    const headline = await loop.locator('td:nth-child(2) strong').innerText();
    const rounds = Number(/^WaitForCalibrationJob ×(\d+)$/.exec(headline)?.[1]);
    const route = statesEntered(events);
    await loop.locator('a[data-rows]').click();
    const unfolded = page.locator(`table.steps tr.in-fold[data-fold="${await loop.getAttribute('data-key')}"]`);
    await unfolded.last().waitFor();

    // Assess
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect(await loop.locator('td:nth-child(2) small').innerText()).toBe(`Loop: ${CALIBRATION_WAIT.join(' → ')}`);
    expect(await unfolded.locator('td:nth-child(2) strong').allInnerTexts()).toEqual(Array.from({ length: rounds }, () => CALIBRATION_WAIT).flat());
    const first = Number(await unfolded.first().locator('td:first-child').innerText());
    expect(route.slice(first - 1, first - 1 + rounds * CALIBRATION_WAIT.length)).toEqual(
      Array.from({ length: rounds }, () => CALIBRATION_WAIT).flat(),
    );
    await screenshot(page, '3b-folded-loop');

    // Act: it folds again.
    await loop.locator('a[data-rows]').click();

    // Assess
    await unfolded.first().waitFor({ state: 'detached' });
    expect(await loop.locator('a[data-rows]').innerText()).toBe(`Show its ${rounds * CALIBRATION_WAIT.length} steps`);
  });

  test('the outcome filter tells Delivered, Not entitled, Failed and Cancelled apart; a cancel says why; definition and JSON export; the list refreshes itself with nothing running', async () => {
    // Prepare: a request cancelled through the CalMS API while it runs.
    const cancelled = await requests.submit(HANGING_MOUS);
    await waitUntilEntered(cancelled.executionArn, 'EmailRequestToAog');
    const { apiUrl, apiKey } = cliConfig();
    const answer = await fetch(`${apiUrl}/requests/${cancelled.requestId}/cancel`, { method: 'POST', headers: { 'x-api-key': apiKey } });
    expect(answer.status).toBe(200);
    expect((await waitForExecution(cancelled.executionArn)).status).toBe('ABORTED');

    // Act
    await page.goto(consoleUrl());
    await page.selectOption('select[name=outcome]', 'not-entitled');
    await page.waitForURL(/outcome=not-entitled/);
    const notEntitled = await listedNames(page);
    const notEntitledOutcomes = new Set(await page.locator('table.executions tbody td:nth-child(2)').allInnerTexts());
    await page.selectOption('select[name=outcome]', 'cancelled');
    await page.waitForURL(/outcome=cancelled/);
    const cancelledNames = await listedNames(page);
    const why = await page.locator(`tr[data-execution="${cancelled.requestId}"] .outcome`).getAttribute('title');
    await page.selectOption('select[name=outcome]', 'delivered');
    await page.waitForURL(/outcome=delivered/);
    const delivered = await listedNames(page);

    // Assess
    expect(notEntitled).toContain(hostile.requestId);
    expect(notEntitled).not.toContain(succeeded.requestId);
    expect(notEntitledOutcomes).toEqual(new Set(['Not entitled']));
    expect(cancelledNames).toContain(cancelled.requestId);
    expect(cancelledNames).not.toContain(failed.requestId);
    expect(why).toBe('cancelled through the CalMS API');
    expect(delivered).toContain(succeeded.requestId);
    expect(delivered).not.toContain(hostile.requestId);
    expect(await page.locator('#live').getAttribute('data-refresh-ms')).toBe('3000');
    expect(await page.locator('#live .live-note').innerText()).toMatch(/^The list refreshes itself every 3 s/);

    // The cancelled execution's page says why it was stopped.
    await page.goto(`${consoleUrl()}/executions/${cancelled.requestId}`);
    expect(await page.locator('dl.summary').innerText()).toContain('Cancelled (cancelled through the CalMS API)');

    // Its definition can be viewed, and the whole execution exported as JSON.
    const definition = await page.request.get(`${consoleUrl()}${await page.locator('#definition-link').getAttribute('href')}`);
    const exported = await page.request.get(`${consoleUrl()}${await page.locator('#export-link').getAttribute('href')}`);
    expect(JSON.parse(await definition.text())).toMatchObject({ StartAt: 'IsRedriven' });
    expect(exported.headers()['content-disposition']).toBe(`attachment; filename="${cancelled.requestId}.json"`);
    const { execution, events } = JSON.parse(await exported.text()) as { execution: { status: string; error: string }; events: { type: string }[] };
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Cancelled' });
    expect(events.at(-1)!.type).toBe('ExecutionAborted');

    // The delivered one's summary shows its token's fingerprint (never the token: README, Security) and when it expires.
    await page.goto(`${consoleUrl()}/executions/${succeeded.requestId}`);
    expect(await page.locator('#delivery-token').innerText()).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(await page.locator('dl.summary').innerText()).toMatch(/Expires\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(unless kept/);
  });

  test('the list shows a new execution by itself, without a reload, when nothing was running', async () => {
    // Prepare: the list open while no execution of this file runs.
    await page.goto(consoleUrl());
    await page.evaluate(() => (window.notReloaded = true));

    // Act
    const fresh = await requests.submit(NOT_ENTITLED, { projectCode: '2022.1.00999.S' });

    // Assess
    await page.locator(`tr[data-execution="${fresh.requestId}"]`).waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
    expect((await waitForExecution(fresh.executionArn))!.status).toBe('SUCCEEDED');
  });

  test('filters by status and by ticket or MOUS narrow the list', async () => {
    // Act: the status filter applies as soon as it is chosen.
    await page.goto(consoleUrl());
    await page.selectOption('select[name=status]', 'FAILED');
    await page.waitForURL(/status=FAILED/);

    // Assess
    const failedOnly = await listedNames(page);
    expect(failedOnly).toContain(failed.requestId);
    expect(failedOnly).toContain(running.requestId);
    expect(failedOnly).not.toContain(succeeded.requestId);
    expect(new Set(await page.locator('table.executions tbody td:first-child').allInnerTexts())).toEqual(new Set(['Failed']));

    // Act: one ticket, typed with the status filter still set, then alone.
    await page.fill('input[name=q]', succeeded.ticket);
    await page.click('form.filters button');
    await page.waitForURL(new RegExp(`q=${succeeded.ticket}`));
    expect(await page.locator('.empty').innerText()).toBe('No executions match these filters.');
    await page.selectOption('select[name=status]', '');
    await page.waitForURL((url) => !url.search.includes('status=FAILED'));

    // Assess
    expect(await listedNames(page)).toEqual([succeeded.requestId]);
    expect(await page.locator('input[name=q]').inputValue()).toBe(succeeded.ticket);
    expect(await page.locator('p.count').innerText()).toBe('1 matching execution, newest first');

    // Act: a MOUS, typed the way ALMA staff write it.
    await page.fill('input[name=q]', 'uid://A001/X3a0/X202');
    await page.press('input[name=q]', 'Enter');
    await page.waitForURL(/q=uid/);

    // Assess
    const byMous = await listedNames(page);
    expect(byMous).toContain(failed.requestId);
    expect(new Set(await page.locator('table.executions tbody td:nth-child(4)').allInnerTexts())).toEqual(new Set([FAILING_MOUS]));
    await screenshot(page, '4-filtered');
  });

  test("the failed execution's page shows the error and the cause, the step that failed and the way to the failure", async () => {
    // Act
    await page.goto(`${consoleUrl()}/?q=${failed.ticket}`);
    await page.locator(`tr[data-execution="${failed.requestId}"] a`).first().click();
    await page.waitForURL(`**/executions/${failed.requestId}`);

    // Assess
    expect(failure.error).toBe('ClusterJobFailedError');
    expect(await page.locator('h1').innerText()).toBe(`Ticket ${failed.ticket} · ${FAILING_MOUS}\nFailed`);
    expect(await page.locator('section.failure h2').innerText()).toBe(`Failed: ${failure.error}`);
    expect(await page.locator('section.failure .cause').innerText()).toBe(failure.cause);
    expect(await page.locator('#live').getAttribute('data-refresh-ms')).toBeNull();
    expect(await graphNode(page, 'CheckCalibrationJob')).toMatchObject({ status: 'caught' });
    expect(await graphNode(page, 'ReportCalibrationFailure')).toMatchObject({ status: 'succeeded' });
    expect(await graphNode(page, 'CalibrationFailed')).toMatchObject({ status: 'failed' });
    expect(await page.locator('svg.graph path.edge.catch.taken').count()).toBe(1);
    const caught = page.locator('table.steps tr.step-caught');
    expect(await caught.locator('td:nth-child(2)').innerText()).toContain(`CheckCalibrationJob\n${failure.error}: ${failure.cause}`);
    expect(await caught.locator('td.step-status').innerText()).toBe('Caught error');
    const lastEvent = page.locator('table.events tbody tr').last();
    expect(await lastEvent.locator('td:nth-child(2)').innerText()).toBe(`ExecutionFailed\n${failure.error}: ${failure.cause}`);
    await screenshot(page, '5-failed');
  });

  test("the succeeded execution's page shows the path it took, ending in Delivered, with input, steps and event history", async () => {
    // Prepare
    const { events, output } = await waitForExecution(succeeded.executionArn);
    const route = statesEntered(events);

    // Act
    await page.goto(`${consoleUrl()}/executions/${succeeded.requestId}`);
    await screenshot(page, '6-succeeded');
    await page.locator('section[aria-label="Graph"]').screenshot({ path: path.join(SCREENSHOTS, '7-succeeded-graph.png'), timeout: 60_000 });

    // Assess
    expect(await page.locator('h1').innerText()).toBe(`Ticket ${succeeded.ticket} · ${SUCCEEDS}\nSucceeded`);
    expect(await page.locator('#current-state').innerText()).toBe('Delivered');
    // Every step, once its loops are unfolded.
    await clickAll(page, 'table.steps a:is([data-rows="after"], [data-rows="replace"])');
    expect(await page.locator('table.steps tbody tr:not(.fold):not(.pager) td:nth-child(2) strong').allInnerTexts()).toEqual(route);
    expect(route.at(-1)).toBe('Delivered');
    for (const state of new Set(route)) expect(await graphNode(page, state)).toMatchObject({ status: 'succeeded' });
    expect(await graphNode(page, 'NotifyMaintainerOfFailure')).toEqual({ status: 'unvisited', stroke: GREY });
    expect(await page.locator('svg.graph g.node.last').getAttribute('data-state')).toBe('Delivered');
    expect(await page.locator('svg.graph path.edge.taken').count()).toBe(
      new Set(['Start', ...route].slice(0, -1).map((state, index) => `${state}->${route[index]}`)).size,
    );
    expect(await page.locator('svg.graph path.edge.catch.taken').count()).toBe(0);
    expect(JSON.parse(await page.locator('pre.input').innerText()).request).toMatchObject({ helpdeskTicket: succeeded.ticket, mous: SUCCEEDS });
    expect(JSON.parse(await page.locator('pre.output').innerText())).toEqual(JSON.parse(output!));
    // The events as GetExecutionHistory has them, with their timestamps; a step's input and output open on demand.
    await clickAll(page, 'table.events a[data-rows]');
    const eventRows = page.locator('table.events tbody tr');
    const eventTypes = (await eventRows.locator('td:nth-child(2)').allInnerTexts()).map((text) => text.split('\n')[0]);
    expect(eventTypes).toEqual(events.map((event) => event.type));
    expect(await eventRows.first().locator('td:nth-child(5)').innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/);
    await page.locator('#step-1 summary').click();
    expect(await page.locator('#step-1 pre').first().innerText()).toContain(`"helpdeskTicket": "${succeeded.ticket}"`);
    await screenshot(page, '8-succeeded-step');
  });

  test("choosing a state in the graph shows its last input and output, with the download token's fingerprint, never the token", async () => {
    // Prepare
    const mail = (await mailsOf(succeeded.requestId)).find((candidate) => candidate.subject.startsWith('Re: '));
    const token = mail!.text.split('\n')[1]!.split('/').at(-1)!;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    await page.goto(`${consoleUrl()}/executions/${succeeded.requestId}`);

    // Act
    await page.locator('svg.graph g.node[data-state="PublishDelivery"]').click();
    await page.locator('#state-io h3').filter({ hasText: 'PublishDelivery' }).waitFor();

    // Assess
    const shown = await page.locator('#state-io').innerText();
    expect(JSON.parse(await page.locator('#state-io pre.state-input').innerText()).request).toMatchObject({ helpdeskTicket: succeeded.ticket });
    expect(JSON.parse(await page.locator('#state-io pre.state-output').innerText()).delivery.tokenFingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(shown).not.toContain(token);
    await screenshot(page, '8b-state-input-output');

    // Act: a state the execution never entered.
    await page.locator('svg.graph g.node[data-state="NotifyMaintainerOfFailure"]').click();
    await page.locator('#state-io h3').filter({ hasText: 'NotifyMaintainerOfFailure' }).waitFor();

    // Assess
    expect(await page.locator('#state-io p.meta').innerText()).toBe('Not visited by this execution.');
  });

  test('what an execution holds is shown as text, never as markup', async () => {
    // Act
    await page.goto(`${consoleUrl()}/?q=${hostile.ticket}`);
    const listed = await listedRow(page, hostile);
    await page.goto(`${consoleUrl()}/executions/${hostile.requestId}`);

    // Assess
    expect(listed![4]).toBe(`${HOSTILE_NAME}\nstella.stranger@example.org`);
    expect(await page.locator('dl.summary').innerText()).toContain(HOSTILE_NAME);
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    expect(await page.locator('#current-state').innerText()).toBe('NotEntitled');

    // A name in the address comes back as text too.
    const response = await page.goto(`${consoleUrl()}/executions/${encodeURIComponent('<script>document.body.dataset.pwned=1</script>')}`);
    expect(response!.status()).toBe(404);
    expect(await page.locator('main p').last().innerText()).toBe('There is no execution named <script>document.body.dataset.pwned=1</script>.');
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
  });
});

/**
 * The console's actions in a real headless browser (Debian's chromium through playwright-core), as an operator
 * takes them: the API key entered once for the tab, a wrong key refused with the API's own answer and nothing
 * changed, keep and release of a delivery with its kept flag, the download email sent again, a running request
 * cancelled after confirming, a failed one re-driven; an action the API would not take is not offered. Every
 * action goes through the CalMS API (the console passes the calls on with the operator's key).
 *
 * Screenshots go to $CALMS_TEST_SCREENSHOTS/actions.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { cliConfig } from '../../lib/config';
import { localCloudConfig } from '../../localstack/config';
import { launchChromium, SCREENSHOTS } from './support/browser';
import { mailsOf, sfn, waitForExecution } from './support/clients';
import { eventually } from './support/eventually';
import { type AcceptedRequest, TEST_USER, testRequests } from './support/requests';
import { FAILING_MOUS, HANGING_MOUS } from './support/testCloud';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';

const SUCCEEDS = 'uid___A001_X3a0_X201';
const WRONG_KEY = 'not-the-key-0123456789';
const SHOTS = path.join(SCREENSHOTS, 'actions');

const requests = testRequests(86000);

const consoleUrl = () => `http://127.0.0.1:${localCloudConfig().ports.console}`;
const pageOf = (execution: AcceptedRequest) => `${consoleUrl()}/executions/${execution.requestId}`;

/** The API's own answer to a call, with the key given (the test's direct line, to compare with the page). */
async function callApi(method: string, pathAndQuery: string, apiKey = cliConfig().apiKey): Promise<{ status: number; body: any }> {
  const response = await fetch(`${cliConfig().apiUrl}/${pathAndQuery}`, { method, headers: { 'x-api-key': apiKey } });
  return { status: response.status, body: await response.json() };
}

async function statusOf(executionArn: string): Promise<string> {
  return (await sfn().send(new DescribeExecutionCommand({ executionArn }))).status!;
}

/** The actions offered, by their data-action, once the page has asked the API. */
async function offered(page: Page): Promise<string[]> {
  await page.waitForSelector('#action-buttons, #no-actions');
  return page.locator('#action-buttons button').evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-action')!));
}

async function enterKey(page: Page, key: string): Promise<void> {
  await page.fill('#api-key', key);
  await page.click('#api-key-form button');
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), timeout: 60_000 });
}

describe('the console acts through the CalMS API', () => {
  let browser: Browser;
  let page: Page;
  let delivered: AcceptedRequest;
  let failed: AcceptedRequest;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    page.setDefaultTimeout(30_000);
    delivered = await requests.submit(SUCCEEDS);
    failed = await requests.submit(FAILING_MOUS);
    const ends = await Promise.all([delivered, failed].map((execution) => waitForExecution(execution.executionArn, 150_000)));
    expect(ends.map((end) => end.status)).toEqual(['SUCCEEDED', 'FAILED']);
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
  });

  test('a wrong key gets the API’s answer as it is and changes nothing; the right one, entered once, shows the kept flag and the actions allowed', async () => {
    // Prepare: what the API itself answers a wrong key.
    const refused = await callApi('GET', `requests/${delivered.requestId}`, WRONG_KEY);
    expect(refused.status).toBe(403);

    // Act: a fresh tab has no key; a wrong one is entered.
    await page.goto(pageOf(delivered));
    const beforeKey = await page.locator('#delivery-kept').innerText();
    const buttonsWithoutKey = await page.locator('#actions button[data-action]').count();
    await enterKey(page, WRONG_KEY);
    await page.waitForSelector('#action-message.error');

    // Assess: the API's message as is, nothing offered, the key form back (the wrong key is dropped).
    expect(beforeKey).toBe('Enter the API key (Actions) to see');
    expect(buttonsWithoutKey).toBe(0);
    expect(await page.locator('#action-message').innerText()).toBe(refused.body.message);
    expect(await page.locator('#actions button[data-action]').count()).toBe(0);
    expect(await page.locator('#api-key').count()).toBe(1);

    // Act: a keep passed on with the wrong key, as a page would send it.
    const keepWithWrongKey = await page.evaluate(
      async ({ id, key }) => {
        const response = await fetch(`/actions/${id}/keep`, { method: 'POST', headers: { 'x-api-key': key } });
        return { status: response.status, body: await response.json() };
      },
      { id: delivered.requestId, key: WRONG_KEY },
    );

    // Assess: refused by the API's key check, as the API answers it, and the delivery not kept.
    expect(keepWithWrongKey).toEqual(refused);
    expect((await callApi('GET', `requests/${delivered.requestId}`)).body.delivery.kept).toBe(false);

    // Act: the right key.
    await enterKey(page, cliConfig().apiKey);

    // Assess: a delivered request may be kept and its email sent again; nothing else is offered.
    expect(await offered(page)).toEqual(['keep', 'resend']);
    expect(await page.locator('#delivery-kept').innerText()).toBe('No: it expires as usual');
    expect(await page.locator('#delivery-token').innerText()).toMatch(/^sha256:[0-9a-f]{12}$/);
    // The key is in the tab's session storage only: not in the address, not in the page.
    expect(page.url()).not.toContain(cliConfig().apiKey);
    expect(await page.content()).not.toContain(cliConfig().apiKey);
    await screenshot(page, '1-delivered');
  });

  test('keep and release change the kept flag, and the download email goes again, without entering the key again', async () => {
    // Act: another page of the same tab.
    await page.goto(pageOf(delivered));
    expect(await offered(page)).toEqual(['keep', 'resend']);
    await page.click('button[data-action="keep"]');
    await page.waitForSelector('button[data-action="release"]');
    const keptFlag = await page.locator('#delivery-kept').innerText();
    const keptMessage = await page.locator('#action-message').innerText();
    const keptByApi = (await callApi('GET', `requests/${delivered.requestId}`)).body.delivery.kept;
    await page.click('button[data-action="release"]');
    await page.waitForSelector('button[data-action="keep"]');
    const releasedFlag = await page.locator('#delivery-kept').innerText();
    const releasedByApi = (await callApi('GET', `requests/${delivered.requestId}`)).body.delivery.kept;
    const emailsBefore = (await mailsOf(delivered.requestId)).filter((mail) => mail.to.some((to) => to.address === TEST_USER.userEmail)).length;
    await page.click('button[data-action="resend"]');
    await page.waitForSelector('#action-message.done >> text=/download email went again/');

    // Assess
    expect(keptFlag).toBe('Yes: kept beyond its expiry until released');
    expect(keptMessage).toBe('Kept: the delivery stays beyond its expiry until it is released.');
    expect(keptByApi).toBe(true);
    expect(releasedFlag).toBe('No: it expires as usual');
    expect(releasedByApi).toBe(false);
    expect(await page.locator('#action-message').innerText()).toBe(`The download email went again to ${TEST_USER.userEmail} (resent 1 time).`);
    await eventually(
      async () => {
        const emails = (await mailsOf(delivered.requestId)).filter((mail) => mail.to.some((to) => to.address === TEST_USER.userEmail));
        return emails.length === emailsBefore + 1 ? true : undefined;
      },
      'the download email sent again',
      30_000,
      200,
    );
  });

  test('a running request is offered cancel alone, and is cancelled once the operator confirms', async () => {
    // Prepare
    const running = await requests.submit(HANGING_MOUS);
    await page.goto(pageOf(running));
    expect(await offered(page)).toEqual(['cancel-ask']);

    // Act: asked, declined, asked again and confirmed.
    await page.click('button[data-action="cancel-ask"]');
    const question = await page.locator('#cancel-confirm p').innerText();
    await page.click('button[data-action="cancel-no"]');
    const declinedConfirm = await page.locator('#cancel-confirm').count();
    const statusAfterDecline = await statusOf(running.executionArn);
    await page.click('button[data-action="cancel-ask"]');
    await screenshot(page, '2-cancel-confirm');
    await page.click('button[data-action="cancel"]');
    await page.waitForSelector('#action-message.done');

    // Assess: asked first, nothing done when declined; once confirmed, stopped through the API, and the page shows it.
    expect(question).toContain(`Cancel request ${running.requestId}?`);
    expect(declinedConfirm).toBe(0);
    expect(statusAfterDecline).toBe('RUNNING');
    expect(await page.locator('#action-message').innerText()).toMatch(
      /^Cancelled: the execution stopped in \w+\. .*The ARC contact arc\.staff@example\.org: CANCELLED email sent\.$/,
    );
    expect((await waitForExecution(running.executionArn)).error).toBe('Cancelled');
    await page.waitForSelector('#live[data-status="ABORTED"]');
    expect(await page.locator('dl.summary').innerText()).toContain('Cancelled (cancelled through the CalMS API)');
    // A cancelled request cannot be re-driven; cancelling it again only runs the clean-up again.
    await page.waitForFunction(() => document.querySelector('#action-buttons button[data-action="cancel-ask"]') !== null);
    expect(await offered(page)).toEqual(['cancel-ask']);
    await screenshot(page, '3-cancelled');
  });

  test('a failed request is offered cancel and re-drive, and the re-drive starts its next attempt', async () => {
    // Act
    await page.goto(pageOf(failed));
    const actions = await offered(page);
    await page.click('button[data-action="redrive"]');
    await page.waitForSelector('#action-message.done a');

    // Assess
    expect(actions).toEqual(['cancel-ask', 'redrive']);
    const attempt = `${failed.requestId}-redrive-1`;
    expect(await page.locator('#action-message').innerText()).toMatch(
      new RegExp(`^Re-driven: attempt 1 resumes at \\w+ \\(it had ended FAILED in \\w+\\): ${attempt}$`),
    );
    await page.click('#action-message a');
    await page.waitForURL(`**/executions/${attempt}`);
    expect(await page.locator('#actions').getAttribute('data-request-id')).toBe(failed.requestId);
    await waitForExecution((await callApi('GET', `requests/${failed.requestId}`)).body.executionArn, 150_000);
  }, 200_000);
});

// The browser's globals, for the functions that run in the page (this Node project's types have no DOM).
declare const document: { querySelector(selector: string): unknown };

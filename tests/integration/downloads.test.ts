/**
 * The public download route through the real local API (serverless-offline): what a user's browser gets for the
 * emailed link, its files, and links that lead nowhere.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mailsOf, s3, service, waitForExecution } from './support/clients';
import { testRequests } from './support/requests';
import { TEST_STATE_DIR } from './support/testCloud';

/** Calibrates on the emulated cluster; one calibrator only, so the MSs are small and no other test's selection. */
const MOUS = 'uid___A001_X3a0_X201';
const FIRST_MS = 'uid___A002_X11a2b3_X1f4.ms.split.cal';
const SECOND_MS = 'uid___A002_X11a7c0_X2e.ms.split.cal';
const requests = testRequests(82000, 'downloads.arc@example.org');

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name)).toBe(value);
  const policy = response.headers.get('content-security-policy') ?? '';
  expect(policy).toContain("default-src 'none'");
  expect(policy).not.toContain('script-src');
}

/** The page and message pages all start alike: the same header and stylesheet. */
const PAGE_HEADER = '<header>ALMA calibrated data</header>';

function linksOf(html: string, base: string): string[] {
  return [...html.matchAll(/href="([^"]+)"/g)].map((match) => new URL(match[1]!.replace(/&#38;/g, '&'), base).href);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * What CalMS itself logs: the Lambdas' lines (serverless-offline's log) and the Step Functions server's. The
 * stand-ins for S3 and the mail relay (s3rver.log, maildev.log) are left out: they hold the token's index object
 * and the user's email by design, as S3 and the relay do on AWS.
 */
function calmsLogs(): string {
  return ['logs/serverless-offline.log', 'local-cloud.out'].map((file) => fs.readFileSync(path.join(TEST_STATE_DIR, file), 'utf8')).join('\n');
}

describe('the download route', () => {
  let link: string;
  let requestId: string;
  let history: string;

  beforeAll(async () => {
    const accepted = await requests.submit(MOUS, { calibratorFields: ['J1337-1257'] });
    requestId = accepted.requestId;
    const execution = await waitForExecution(accepted.executionArn, 120_000);
    expect([execution.status, execution.error]).toEqual(['SUCCEEDED', undefined]);
    history = JSON.stringify(execution);
    const mail = (await mailsOf(accepted.requestId)).find((candidate) => candidate.subject.startsWith('Re: '));
    link = mail!.text.split('\n')[1]!;
    expect(link).toMatch(/\/downloads\/[0-9a-f]{64}$/);
  }, 150_000);

  // First, before any test below asks the download route for the link (which the local API logs as requested).
  test("the token is in no log line of CalMS and nowhere in the execution's input, output or history: they show its fingerprint", () => {
    // Prepare
    const token = link.split('/').at(-1)!;
    const fingerprint = `sha256:${sha256(Buffer.from(token)).slice(0, 12)}`;

    // Act
    const logs = calmsLogs();

    // Assess: the step that published the delivery logged the seed's line, with the fingerprint in the link's place
    expect(logs).toContain(`ticket #${requestId.split('-')[0]!.slice(1)} completed\\nat ${link.replace(token, `<token ${fingerprint}>`)}`);
    expect(logs).not.toContain(token);
    expect(history).toContain(fingerprint);
    expect(history).not.toContain(token);
  });

  test('every answer carries nosniff, a Content-Security-Policy without scripts and no-referrer', async () => {
    // Act
    const answers = await Promise.all([
      fetch(link),
      fetch(`${link}/`),
      fetch(`${link}/README.txt`),
      fetch(`${link}/SHA256SUMS`),
      fetch(`${link}/${FIRST_MS}.tar`, { redirect: 'manual' }),
      fetch(`${link}/nothing.tar`),
      fetch(link.replace(/[0-9a-f]{64}$/, '0'.repeat(64))),
      fetch(link.replace(/[0-9a-f]{64}$/, 'not-a-token')),
      fetch(link, { method: 'POST', body: 'x' }),
    ]);

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 302, 404, 404, 404, 405]);
    answers.forEach(expectSecurityHeaders);
  });

  test('the page works with and without a trailing slash: every link leads to its file', async () => {
    // Act
    const pages = await Promise.all([`${link}`, `${link}/`].map(async (url) => ({ url, html: await (await fetch(url)).text() })));

    // Assess
    const [without, withSlash] = pages.map(({ url, html }) => linksOf(html, url));
    expect(withSlash).toEqual(without);
    expect(without).toEqual([`${link}/README.txt`, `${link}/SHA256SUMS`, `${link}/${FIRST_MS}.tar`, `${link}/${SECOND_MS}.tar`]);
    const answers = await Promise.all(without!.map((url) => fetch(url, { redirect: 'manual' })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 302, 302]);
    expect(pages[0]!.html).toMatch(
      /Staged \d{4}-\d\d-\d\d \d\d:\d\d UTC\. It will be deleted on \d{4}-\d\d-\d\d \d\d:\d\d UTC \(28 days after staging\)\./,
    );
  });

  test('README.txt opens in the browser as UTF-8 text and lists SHA256SUMS', async () => {
    // Act
    const answer = await fetch(`${link}/README.txt`);

    // Assess
    expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(answer.headers.get('content-disposition')).toBe('inline; filename="README.txt"');
    const readme = await answer.text();
    expect(readme).toContain('Check with:    sha256sum -c SHA256SUMS');
    expect(readme).toContain('SHA256SUMS:    offered for download beside the tarballs');
    expect(readme.startsWith(`Calibrated measurement sets of MOUS ${MOUS}`)).toBe(true);
  });

  test('SHA256SUMS holds the checksum of each tarball as downloaded, as sha256sum writes it', async () => {
    // Act
    const sums = await (await fetch(`${link}/SHA256SUMS`)).text();
    const tarballs = await Promise.all(
      [FIRST_MS, SECOND_MS].map(async (ms) => {
        const redirect = await fetch(`${link}/${ms}.tar`, { redirect: 'manual' });
        return { name: `${ms}.tar`, data: Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer()) };
      }),
    );

    // Assess
    expect(sums).toBe(tarballs.map((tarball) => `${sha256(tarball.data)}  ${tarball.name}\n`).join(''));
    expect(await (await fetch(`${link}/README.txt`)).text()).toContain(`\n\n${sums}\n`);
  });

  test.each([
    ['an unknown token', 404, (base: string) => base.replace(/[0-9a-f]{64}$/, '0'.repeat(64))],
    ['an unknown file', 404, (base: string) => `${base}/nothing.tar`],
    ['a path below a file', 404, (base: string) => `${base}/README.txt/more`],
    ['a path below a file, with a slash', 404, (base: string) => `${base}/a/b/c/`],
    ['/downloads itself', 404, (base: string) => base.replace(/\/[0-9a-f]{64}$/, '')],
    ['/downloads/', 404, (base: string) => base.replace(/[0-9a-f]{64}$/, '')],
  ])("%s answers %i with a page styled like the delivery page, never the local server's list of routes", async (_, status, url) => {
    // Act
    const answer = await fetch(url(link));

    // Assess
    const html = await answer.text();
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain(PAGE_HEADER);
    expect(html).not.toMatch(/serverless-offline|existingRoutes|currentRoute/i);
    expectSecurityHeaders(answer);
  });

  test('any other method answers 405 with the methods allowed, not the list of routes', async () => {
    // Act
    const answers = await Promise.all(['POST', 'PUT', 'DELETE', 'PATCH'].map((method) => fetch(`${link}/README.txt`, { method })));

    // Assess
    expect(answers.map((answer) => [answer.status, answer.headers.get('allow')])).toEqual(Array(4).fill([405, 'GET, HEAD']));
    for (const answer of answers) expect(await answer.text()).toContain(PAGE_HEADER);
  });

  // As sent, and with the % escaped (which the local API decodes before the Lambda, as API Gateway does not).
  test.each(['%E0%A4%A', '%', '%zz', '%25E0%25A4%25A', '%25zz'])(
    'a malformed percent-escape %j in the file segment answers 404, not 502',
    async (segment) => {
      // Act
      const known = await fetch(`${link}/${segment}`, { redirect: 'manual' });
      const unknown = await fetch(`${link.replace(/[0-9a-f]{64}$/, '0'.repeat(64))}/${segment}`, { redirect: 'manual' });

      // Assess
      expect([known.status, unknown.status]).toEqual([404, 404]);
      expect(await known.text()).toContain('This delivery has no file');
      expectSecurityHeaders(known);
    },
  );

  // Last: it removes the delivery's files, as the lifecycle rule would.
  test('once the files are gone, the link answers 410 with a page styled like the delivery page', async () => {
    // Prepare
    const client = s3();
    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: service().dataBucket, Prefix: `deliveries/${requestId}/` }));
    for (const object of Contents.filter((candidate) => candidate.Key!.endsWith('.tar'))) {
      await client.send(new DeleteObjectCommand({ Bucket: service().dataBucket, Key: object.Key! }));
    }

    // Act
    const answers = await Promise.all([fetch(link), fetch(`${link}/`), fetch(`${link}/SHA256SUMS`)]);

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([410, 410, 410]);
    const html = await answers[0]!.text();
    expect(html).toContain(PAGE_HEADER);
    expect(html).toContain('<h1>Calibrated data no longer available</h1>');
    expect(html).toContain(`The calibrated data of MOUS ${MOUS} has been removed.`);
    answers.forEach(expectSecurityHeaders);
  });
});

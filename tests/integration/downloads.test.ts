/**
 * The public download route through the real local API (serverless-offline): what a user's browser gets for the
 * emailed link, its files, and links that lead nowhere.
 */
import { mailsOf, waitForExecution } from './support/clients';
import { testRequests } from './support/requests';

/** Calibrates on the emulated cluster; one calibrator only, so the MSs are small and no other test's selection. */
const MOUS = 'uid___A001_X3a0_X201';
const FIRST_MS = 'uid___A002_X11a2b3_X1f4.ms.split.cal';
const requests = testRequests(79000, 'downloads.arc@example.org');

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

describe('the download route', () => {
  let link: string;

  beforeAll(async () => {
    const accepted = await requests.submit(MOUS, { calibratorFields: ['J1337-1257'] });
    const execution = await waitForExecution(accepted.executionArn, 120_000);
    expect([execution.status, execution.error]).toEqual(['SUCCEEDED', undefined]);
    const mail = (await mailsOf(accepted.requestId)).find((candidate) => candidate.subject.startsWith('Re: '));
    link = mail!.text.split('\n')[1]!;
    expect(link).toMatch(/\/downloads\/[0-9a-f]{64}$/);
  }, 150_000);

  test('every answer carries nosniff, a Content-Security-Policy without scripts and no-referrer', async () => {
    // Act
    const answers = await Promise.all([
      fetch(link),
      fetch(`${link}/${FIRST_MS}.tar`, { redirect: 'manual' }),
      fetch(`${link}/nothing.tar`),
      fetch(link.replace(/[0-9a-f]{64}$/, '0'.repeat(64))),
      fetch(link.replace(/[0-9a-f]{64}$/, 'not-a-token')),
    ]);

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([200, 302, 404, 404, 404]);
    answers.forEach(expectSecurityHeaders);
  });

  // The local API (hapi) decodes path parameters before the Lambda sees them, as API Gateway passes them on
  // undecoded: escaping the % makes the Lambda receive the malformed escape either way.
  test.each(['%25E0%25A4%25A', '%25', '%25zz'])('a malformed percent-escape %j in the file segment answers 404, not 502', async (segment) => {
    // Act
    const known = await fetch(`${link}/${segment}`, { redirect: 'manual' });
    const unknown = await fetch(`${link.replace(/[0-9a-f]{64}$/, '0'.repeat(64))}/${segment}`, { redirect: 'manual' });

    // Assess
    expect([known.status, unknown.status]).toEqual([404, 404]);
    expect(await known.text()).toContain('This delivery has no file');
    expectSecurityHeaders(known);
  });
});

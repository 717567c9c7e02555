import { createHash, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type DeliveryManifest, deliveryReadme, tarballKey } from '../../../lib/domain/delivery';
import { StorageUnavailableError } from '../../../lib/errors';
import { makeDownloadHandler } from '../../../lib/handlers/downloads';
import { InMemoryDeliveryStore, RecordingLogger } from '../fakes';

const REQUEST = 't18704-uid___A001_X14d7_X160-20261124T232053Z-7b7db4ff';
const MS = 'uid___A002_Xe48598_X8a3.ms.split.cal';
const STAGED = new Date('2026-11-24T23:21:06Z');
const EXPIRES = new Date('2026-12-22T23:21:06Z');

function published(store: InMemoryDeliveryStore): DeliveryManifest {
  const content = Buffer.alloc(1024, 7);
  store.putObject(tarballKey(REQUEST, MS), content);
  const manifest: DeliveryManifest = {
    requestId: REQUEST,
    mous: 'uid___A001_X14d7_X160',
    projectCode: '2019.1.00337.S',
    helpdeskTicket: '18704',
    calibratorFields: [],
    stagedAt: STAGED.toISOString(),
    expiresAt: EXPIRES.toISOString(),
    retentionDays: 28,
    token: randomBytes(32).toString('hex'),
    tarballs: [{ name: `${MS}.tar`, bytes: content.length, sha256: 'a'.repeat(64), source: 'cluster' }],
  };
  void store.publish(manifest, deliveryReadme(manifest), 'all');
  return manifest;
}

function harness(now = STAGED) {
  const store = new InMemoryDeliveryStore();
  const log = new RecordingLogger();
  const manifest = published(store);
  const handler = makeDownloadHandler({ store, log, now: () => now, linkSeconds: 3600, baseUrl: 'https://calms.example.org/prod' });
  const send = (method: string, proxy: string | undefined): Promise<APIGatewayProxyResult> =>
    handler({ httpMethod: method, pathParameters: proxy === undefined ? null : { proxy } } as unknown as APIGatewayProxyEvent);
  const get = (token: string, file?: string) => send('GET', file === undefined ? token : `${token}/${file}`);
  return { store, log, manifest, get, send };
}

/** The directives of a Content-Security-Policy header, by name. */
function directives(policy: string): Map<string, string> {
  return new Map(
    policy.split(';').map(
      (part) =>
        part
          .trim()
          .split(/\s+(.*)/s)
          .slice(0, 2) as [string, string],
    ),
  );
}

describe('the download route', () => {
  it('sends nosniff, a Content-Security-Policy and no-referrer with every kind of answer', async () => {
    // Prepare
    const { manifest, get, store } = harness();
    const expired = harness(EXPIRES);

    // Act
    const answers = [
      await get(manifest.token),
      await get(manifest.token, `${MS}.tar`),
      await get(manifest.token, 'nothing.tar'),
      await get('0'.repeat(64)),
      await get('not-a-token'),
      await expired.get(expired.manifest.token),
    ];
    store.failures.failNext('lookupToken', new StorageUnavailableError('S3 did not answer'));
    answers.push(await get(manifest.token));

    // Assess
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 302, 404, 404, 404, 410, 503]);
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': expect.stringContaining("default-src 'none'"),
        'cache-control': 'no-store',
      });
    }
  });

  it('shows README.txt and SHA256SUMS in the browser as UTF-8 text, under their own names', async () => {
    // Prepare
    const { manifest, get } = harness();

    // Act
    const answers = [await get(manifest.token, 'README.txt'), await get(manifest.token, 'SHA256SUMS')];

    // Assess
    expect(answers.map((answer) => [answer.statusCode, answer.headers!['content-type'], answer.headers!['content-disposition']])).toEqual([
      [200, 'text/plain; charset=utf-8', 'inline; filename="README.txt"'],
      [200, 'text/plain; charset=utf-8', 'inline; filename="SHA256SUMS"'],
    ]);
    expect(answers[1]!.body).toBe(`${'a'.repeat(64)}  ${MS}.tar\n`);
    expect(answers.every((answer) => answer.headers!['x-content-type-options'] === 'nosniff')).toBe(true);
  });

  it('answers a method other than GET and HEAD with 405 and the methods it allows, and /downloads itself with 404', async () => {
    // Prepare
    const { manifest, send } = harness();

    // Act
    const post = await send('POST', manifest.token);
    const bare = await send('GET', undefined);

    // Assess
    expect([post.statusCode, post.headers!.allow, bare.statusCode]).toEqual([405, 'GET, HEAD', 404]);
    expect(bare.body).toContain('Unknown download link');
  });

  it("allows the pages' own stylesheet by its hash and nothing else: no script, no inline style of another text, no framing", async () => {
    // Prepare
    const { manifest, get } = harness();

    // Act
    const page = await get(manifest.token);
    const missing = await get(manifest.token, 'nothing.tar');

    // Assess
    const policy = directives(String(page.headers!['content-security-policy']));
    for (const html of [page.body, missing.body]) {
      const style = /<style>([^<]*)<\/style>/.exec(html)?.[1];
      expect(style).toBeDefined();
      expect(policy.get('style-src')).toBe(`'sha256-${createHash('sha256').update(style!).digest('base64')}'`);
      expect(html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    }
    expect(policy.get('default-src')).toBe("'none'");
    expect(policy.get('frame-ancestors')).toBe("'none'");
    expect(policy.get('base-uri')).toBe("'none'");
    expect(policy.has('script-src')).toBe(false);
  });

  it.each(['%E0%A4%A', '%', '%zz', `${MS}.tar%`])('answers 404, not an error, to the malformed escape %j in the file segment', async (segment) => {
    // Prepare
    const { manifest, get, store } = harness();

    // Act
    const answer = await get(manifest.token, segment);

    // Assess
    expect(answer.statusCode).toBe(404);
    expect(answer.body).toContain('This delivery has no file');
    expect(store.callsOf('presignDownload')).toEqual([]);
  });

  it('still decodes a well-formed escape in the file segment', async () => {
    // Prepare
    const { manifest, get } = harness();

    // Act
    const answer = await get(manifest.token, encodeURIComponent(`${MS}.tar`).replace(/\./g, '%2E'));

    // Assess
    expect(answer.statusCode).toBe(302);
  });

  it('answers 503 when the data bucket does not answer, and logs why without the token', async () => {
    // Prepare
    const { manifest, get, store, log } = harness();
    store.failures.failNext('lookupToken', new StorageUnavailableError(`could not read downloads/${manifest.token}.json: timeout`));

    // Act
    const answer = await get(manifest.token);

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toContain('Please try the same link again in a few minutes.');
    expect(log.lines.map((line) => line.message)).toContain('download failed');
    expect(JSON.stringify(log.lines)).toContain('StorageUnavailableError: could not read downloads/<token>.json: timeout');
    expect(JSON.stringify(log.lines)).not.toContain(manifest.token);
  });
});

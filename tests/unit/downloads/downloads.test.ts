import { randomBytes } from 'node:crypto';
import { type DeliveryManifest, deliveryReadme, sha256Sums, tarballKey } from '../../../lib/domain/delivery';
import { download, downloadRequest, messagePage } from '../../../lib/downloads/downloads';
import { InMemoryDeliveryStore, RecordingLogger } from '../fakes';

const REQUEST = 't18704-uid___A001_X14d7_X160-20261124T232053Z-7b7db4ff';
const MS = 'uid___A002_Xe48598_X8a3.ms.split.cal';
const STAGED = new Date('2026-11-24T23:21:06Z');
const EXPIRES = new Date('2026-12-22T23:21:06Z');
const BASE_URL = 'https://calms.example.org/prod';

function published(store: InMemoryDeliveryStore, mous = 'uid___A001_X14d7_X160'): DeliveryManifest {
  const content = Buffer.alloc(143_360, 7);
  store.putObject(tarballKey(REQUEST, MS), content);
  const manifest: DeliveryManifest = {
    requestId: REQUEST,
    mous,
    projectCode: '2019.1.00337.S',
    helpdeskTicket: '18704',
    calibratorFields: ['J0217-0820', 'J0238+1636'],
    stagedAt: STAGED.toISOString(),
    expiresAt: EXPIRES.toISOString(),
    retentionDays: 28,
    token: randomBytes(32).toString('hex'),
    tarballs: [{ name: `${MS}.tar`, bytes: content.length, sha256: 'a'.repeat(64), source: 'cluster' }],
  };
  void store.publish(manifest, deliveryReadme(manifest), 'fields-x');
  return manifest;
}

function deps(store: InMemoryDeliveryStore, now: Date) {
  return { store, now: () => now, linkSeconds: 3600, log: new RecordingLogger(), baseUrl: BASE_URL };
}

describe('the download link', () => {
  it('opens a page listing the README and each tarball with its size, each a link under the token', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    const response = await download(deps(store, STAGED), manifest.token);

    expect(response).toMatchObject({ kind: 'page', status: 200 });
    const html = (response as { html: string }).html;
    const link = `${BASE_URL}/downloads/${manifest.token}`;
    expect(html).toContain(`<a href="${link}/README.txt">README.txt</a>`);
    expect(html).toContain(`<a href="${link}/SHA256SUMS">SHA256SUMS</a>`);
    expect(html).toContain(`<a href="${link}/${MS}.tar">${MS}.tar</a>`);
    expect(html).toContain('140.0 KiB');
    expect(html).toContain(`<td class="size" title="${Buffer.byteLength(sha256Sums(manifest))} bytes">`);
    expect(html).toContain('Staged 2026-11-24 23:21 UTC. It will be deleted on 2026-12-22 23:21 UTC (28 days after staging).');
    expect(html).not.toMatch(/\d{2}:\d{2}:\d{2}/);
  });

  it('links its files by absolute URLs, so they work with and without a trailing slash', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    const withSlash = await downloadRequest(deps(store, STAGED), 'GET', `${manifest.token}/`);
    const without = await downloadRequest(deps(store, STAGED), 'GET', manifest.token);

    expect(withSlash).toEqual(without);
    const hrefs = [...(without as { html: string }).html.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!);
    expect(hrefs).toHaveLength(3);
    for (const href of hrefs) {
      const file = new URL(href, `${BASE_URL}/downloads/${manifest.token}/`).href;
      expect(file).toBe(new URL(href, `${BASE_URL}/downloads/${manifest.token}`).href);
      expect(file.startsWith(`${BASE_URL}/downloads/${manifest.token}/`)).toBe(true);
    }
  });

  it('gives README.txt and SHA256SUMS as text, made from the manifest as PublishDelivery wrote them', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    const readme = await download(deps(store, STAGED), manifest.token, 'README.txt');
    const sums = await downloadRequest(deps(store, STAGED), 'GET', `${manifest.token}/SHA256SUMS/`);

    expect(readme).toEqual({
      kind: 'text',
      status: 200,
      name: 'README.txt',
      text: store.objects.get(`deliveries/${REQUEST}/README.txt`)!.toString('utf8'),
    });
    expect(sums).toEqual({ kind: 'text', status: 200, name: 'SHA256SUMS', text: `${'a'.repeat(64)}  ${MS}.tar\n` });
    expect(store.callsOf('presignDownload')).toEqual([]);
  });

  it('answers 404 for paths below a file and for /downloads itself, and 405 for anything but GET and HEAD', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    const answers = await Promise.all([
      downloadRequest(deps(store, STAGED), 'GET', `${manifest.token}/README.txt/more`),
      downloadRequest(deps(store, STAGED), 'GET', undefined),
      downloadRequest(deps(store, STAGED), 'GET', ''),
      downloadRequest(deps(store, STAGED), 'HEAD', manifest.token),
      downloadRequest(deps(store, STAGED), 'POST', manifest.token),
      downloadRequest(deps(store, STAGED), 'DELETE', `${manifest.token}/${MS}.tar`),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 200, 405, 405]);
    expect(answers[0]).toMatchObject({ title: 'Unknown file' });
    expect(answers[1]).toMatchObject({ title: 'Unknown download link' });
  });

  it('redirects a file to a URL presigned at that moment, for the configured lifetime', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    const response = await download(deps(store, STAGED), manifest.token, `${MS}.tar`);

    expect(response).toEqual({
      kind: 'redirect',
      status: 302,
      location: `https://data.calms.test/${tarballKey(REQUEST, MS)}?expires=3600&filename=${encodeURIComponent(`${MS}.tar`)}`,
    });
  });

  it('answers 410 once the delivery is past its expiry date, before the lifecycle rule has removed it', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    const page = await download(deps(store, EXPIRES), manifest.token);
    const file = await download(deps(store, EXPIRES), manifest.token, `${MS}.tar`);

    expect(page).toMatchObject({ status: 410, message: expect.stringContaining('expired on 2026-12-22 23:21 UTC and has been deleted') });
    expect(file).toMatchObject({ status: 410 });
    expect(store.callsOf('presignDownload')).toEqual([]);
  });

  it('keeps serving a kept delivery past its expiry date, and says it is kept', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);
    await store.setKept(REQUEST, true);

    const response = await download(deps(store, new Date(EXPIRES.getTime() + 86_400_000)), manifest.token);

    expect(response).toMatchObject({ kind: 'page', status: 200 });
    expect((response as { html: string }).html).toContain('kept beyond its usual expiry');
  });

  it('answers 410 when the lifecycle rule removed the delivery, and when a tarball is gone', async () => {
    const removedStore = new InMemoryDeliveryStore();
    const removed = published(removedStore);
    removedStore.expire(REQUEST);
    const incompleteStore = new InMemoryDeliveryStore();
    const incomplete = published(incompleteStore);
    incompleteStore.objects.delete(tarballKey(REQUEST, MS));

    expect(await download(deps(removedStore, STAGED), removed.token)).toMatchObject({
      status: 410,
      message: expect.stringContaining('has been deleted'),
    });
    expect(await download(deps(incompleteStore, STAGED), incomplete.token)).toMatchObject({
      status: 410,
      message: expect.stringContaining('has been removed'),
    });
  });

  it('answers 404 for a token it never issued, a malformed token and a file the delivery does not have, without looking anything up for a malformed one', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);

    expect(await download(deps(store, STAGED), randomBytes(32).toString('hex'))).toMatchObject({ status: 404 });
    expect(await download(deps(store, STAGED), '../../etc/passwd')).toMatchObject({ status: 404 });
    expect(await download(deps(store, STAGED), manifest.token, '../calms-delivery.json')).toMatchObject({ status: 404, title: 'Unknown file' });
    expect(store.callsOf('lookupToken')).toHaveLength(2);
  });

  it('escapes what it shows', async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store, 'uid___A001_X1<b>_X2');

    const response = await download(deps(store, STAGED), manifest.token);

    expect((response as { html: string }).html).toContain('uid___A001_X1&#60;b&#62;_X2');
    expect((response as { html: string }).html).not.toContain('X1<b>');
  });

  it("shows the 404, 410 and 503 pages with the delivery page's header and stylesheet", async () => {
    const store = new InMemoryDeliveryStore();
    const manifest = published(store);
    const page = (await download(deps(store, STAGED), manifest.token)) as { html: string };
    const head = (html: string) => html.slice(0, html.indexOf('<h1>'));

    const pages = ['Unknown download link', 'Calibrated data no longer available', 'Download temporarily unavailable'].map((title) =>
      messagePage(title, 'why'),
    );

    for (const html of pages) expect(head(html).replace(/<title>.*<\/title>/, '')).toBe(head(page.html).replace(/<title>.*<\/title>/, ''));
    expect(pages[0]).toContain('<h1>Unknown download link</h1>\n<p>why</p>');
  });
});

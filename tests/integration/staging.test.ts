/**
 * Staging on the local cloud, end to end: a request is calibrated on the emulated cluster, its MSs streamed as
 * tarballs into S3 in several invocations (the test cloud stops each staging step after one 5 MiB part), the
 * delivery published and the user emailed the seed's text with a link that downloads tarballs unpacking to
 * the MS directories the cluster produced. A second request re-uses them without the cluster; another field
 * selection does not.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mailsOf, rawMail, s3, service, statesEntered, triggerExists, waitForExecution, type CaughtMail } from './support/clients';
import { TEST_USER, testRequests } from './support/requests';

const MOUS = 'uid___A001_X3a0_X205';
const FIRST_MS = 'uid___A002_X11c1a0_X11.ms.split.cal';
const SECOND_MS = 'uid___A002_X11c6f2_X8e.ms.split.cal';
/** CALMS_CASA_EMULATOR_BYTES of the test cloud: three parts of 5 MiB with the tar headers. */
const MS_BYTES = 11 * 1024 * 1024;
const PARTS_PER_TARBALL = 3;
const USER = TEST_USER.userEmail;
const ARC = 'arc.staff@example.org';

const requests = testRequests(74000, ARC);

async function deliver(overrides: Record<string, unknown> = {}) {
  const accepted = await requests.submit(MOUS, overrides);
  const execution = await waitForExecution(accepted.executionArn, 120_000);
  expect([execution.status, execution.error, execution.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
  const mail = (await mailsOf(accepted.requestId)).find((candidate) => candidate.subject.startsWith('Re: '));
  if (!mail) throw new Error(`no email to the user for ${accepted.requestId}`);
  return { accepted, execution, states: statesEntered(execution.events), mail, output: JSON.parse(execution.output!) };
}

function linkIn(mail: CaughtMail): string {
  const link = mail.text.split('\n')[1]!;
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:13000\/local\/downloads\/[0-9a-f]{64}$/);
  return link;
}

async function download(url: string): Promise<Buffer> {
  const redirect = await fetch(url, { redirect: 'manual' });
  expect(redirect.status).toBe(302);
  const file = await fetch(redirect.headers.get('location')!);
  expect(file.status).toBe(200);
  return Buffer.from(await file.arrayBuffer());
}

function unpack(tarball: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-unpack-'));
  const result = spawnSync('tar', ['xf', '-', '-C', dir], { input: tarball });
  expect(result.status).toBe(0);
  return dir;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('staging a calibrated MOUS into S3 and telling the user', () => {
  let first: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    first = await deliver();
  }, 150_000);

  test('the MSs are streamed part by part, one part per invocation, then published, cleaned up and announced', () => {
    const { states, output } = first;
    expect(states).toContain('ChooseClusterNode');
    expect(states.filter((state) => state === 'StageMeasurementSets')).toHaveLength(2 * PARTS_PER_TARBALL);
    expect(states.slice(-7)).toEqual([
      'AreMeasurementSetsStaged',
      'ReleaseStagingSlot',
      'PublishDelivery',
      'WasCalibratedOnCluster',
      'RemoveWorkDirectory',
      'EmailDownloadLink',
      'Delivered',
    ]);
    expect(output.staging.reused).toBe(false);
    expect(output.staging.tarballs.map((tarball: { key: string }) => tarball.key)).toEqual([
      `deliveries/${first.accepted.requestId}/${FIRST_MS}.tar`,
      `deliveries/${first.accepted.requestId}/${SECOND_MS}.tar`,
    ]);
    expect(output.workDirectory).toEqual({ removed: output.calibration.job.workDir });
  });

  test('the user gets the seed email: To the user, BCC ARC contact, maintainer and AOG, Reply-To no-reply', async () => {
    const { mail, accepted } = first;
    const settings = service();
    expect(mail.to.map((to) => to.address)).toEqual([USER]);
    expect(mail.envelope.to.map((to) => to.address).sort()).toEqual([USER, ARC, settings.mail.maintainer, settings.mail.aog].sort());
    expect(mail.cc ?? []).toEqual([]);
    expect(await rawMail(mail)).toMatch(new RegExp(`^Reply-To: ${settings.mail.noReply.replace(/\./g, '\\.')}\r?$`, 'm'));
    expect(mail.subject).toBe(`Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS ${MOUS}, helpdesk ticket ${accepted.requestId.split('-')[0]!.slice(1)}`);
    expect(mail.text).toBe(
      ['Your calibrated data is ready for download from', linkIn(mail), '', 'It will be deleted 28 days from now.', '', 'Kind regards,', '', 'The ESO ALMA Team', ''].join('\n'),
    );
    expect(mail.headers['in-reply-to']).toBe(`<${accepted.requestId}@${settings.mail.from.split('@')[1]}>`);
    expect(await triggerExists(accepted.triggerName)).toBe(false);
  });

  test('the link opens a page listing README and tarballs with sizes; the tarballs unpack to the MSs the cluster made', async () => {
    const link = linkIn(first.mail);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const name of ['README.txt', `${FIRST_MS}.tar`, `${SECOND_MS}.tar`]) expect(html).toContain(`>${name}</a>`);

    const readme = (await download(`${link}/README.txt`)).toString('utf8');
    for (const measurementSet of [FIRST_MS, SECOND_MS]) {
      const tarball = await download(`${link}/${measurementSet}.tar`);
      expect(readme).toContain(`${sha256(tarball)}  ${measurementSet}.tar`);
      expect(readme).toContain(`${measurementSet}.tar  ${tarball.length} bytes`);
      const dir = unpack(tarball);
      expect(fs.readdirSync(dir)).toEqual([measurementSet]);
      expect(fs.readdirSync(path.join(dir, measurementSet)).sort()).toEqual(['table.f0', 'table.info']);
      const data = fs.readFileSync(path.join(dir, measurementSet, 'table.f0'));
      expect(data.length).toBe(MS_BYTES);
      expect(data.every((byte) => byte === 0x2a)).toBe(true);
      expect(fs.readFileSync(path.join(dir, measurementSet, 'table.info'), 'utf8')).toContain(`Execution block ${measurementSet.replace('.ms.split.cal', '')}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a second request for the MOUS re-uses the staged tarballs: no cluster, copies in S3, its own delivery and link', async () => {
    const second = await deliver();

    expect(second.states).not.toContain('ChooseClusterNode');
    expect(second.states).not.toContain('RemoveWorkDirectory');
    // The test cloud's staging steps have no time budget: one copy per step.
    expect(second.states.filter((state) => state.endsWith('MeasurementSets'))).toEqual([
      'LookForStagedMeasurementSets',
      'CopyStagedMeasurementSets',
      'CopyStagedMeasurementSets',
    ]);
    expect(second.output.staging.reused).toBe(true);
    expect(second.output.staging.tarballs.map((tarball: { source: { key: string } }) => tarball.source.key)).toEqual([
      `deliveries/${first.accepted.requestId}/${FIRST_MS}.tar`,
      `deliveries/${first.accepted.requestId}/${SECOND_MS}.tar`,
    ]);
    const link = linkIn(second.mail);
    expect(link).not.toBe(linkIn(first.mail));
    const tarball = await download(`${link}/${FIRST_MS}.tar`);
    expect(sha256(tarball)).toBe(sha256(await download(`${linkIn(first.mail)}/${FIRST_MS}.tar`)));
  }, 150_000);

  test('another calibrator-field selection is not a re-use: it is calibrated and staged anew', async () => {
    const selected = await deliver({ calibratorFields: ['J1337-1257'] });

    expect(selected.states).toContain('ChooseClusterNode');
    expect(selected.output.staging.tarballs.map((tarball: { measurementSet: string }) => tarball.measurementSet)).toEqual([FIRST_MS]);
  }, 150_000);

  test('once its files are gone (as the lifecycle rule removes them), the link answers 410 with a clear message', async () => {
    const link = linkIn(first.mail);
    const prefix = `deliveries/${first.accepted.requestId}/`;
    const client = s3();
    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: service().dataBucket, Prefix: prefix }));
    expect(Contents.length).toBe(4);
    for (const object of Contents) await client.send(new DeleteObjectCommand({ Bucket: service().dataBucket, Key: object.Key! }));

    const page = await fetch(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('has been deleted');
    const file = await fetch(`${link}/${FIRST_MS}.tar`, { redirect: 'manual' });
    expect(file.status).toBe(410);
    const unknown = await fetch(link.replace(/[0-9a-f]{8}$/, '00000000'));
    expect(unknown.status).toBe(404);
  });
});

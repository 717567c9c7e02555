import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DeliveryManifest,
  deliveryPrefix,
  deliveryReadme,
  SHA256SUMS_NAME,
  sha256Sums,
  utcMinute,
  downloadEmail,
  downloadLink,
  executionBlockOf,
  expectedMeasurementSets,
  expiryDate,
  fieldSelectionKey,
  formatBytes,
  lifetimeOf,
  reuseMessages,
  stagingCompletedText,
  tarballKey,
  tarballName,
} from '../../../lib/domain/delivery';
import { calibrator, execBlock, mousRecord, seedMousRequest, target } from '../fakes';

const EB = 'uid___A002_Xd33a12_X15be';
const MS = `${EB}.ms.split.cal`;

describe('names', () => {
  it('names a tarball after its MS, and finds the execution block in either name', () => {
    // Act
    const name = tarballName(MS);

    // Assess
    expect(name).toBe('uid___A002_Xd33a12_X15be.ms.split.cal.tar');
    expect(executionBlockOf(name)).toBe(EB);
    expect(executionBlockOf(MS)).toBe(EB);
    expect(executionBlockOf('README.txt')).toBe('README.txt');
  });

  it('keeps every delivery under its own request id', () => {
    // Act
    const key = tarballKey('t16140-uid___A001_X1296_X675-20190902T140027Z-ab12', MS);

    // Assess
    expect(deliveryPrefix('r1')).toBe('deliveries/r1/');
    expect(key).toBe('deliveries/t16140-uid___A001_X1296_X675-20190902T140027Z-ab12/uid___A002_Xd33a12_X15be.ms.split.cal.tar');
  });
});

describe('expectedMeasurementSets', () => {
  const mous = mousRecord({
    execBlocks: [
      execBlock({ uid: 'uid___A002_X2_X9', qa0: 'Pass', fields: [calibrator('J0510+1800'), target('HL_Tau')] }),
      execBlock({ uid: 'uid___A002_X1_X1', qa0: 'Fail', fields: [calibrator('J0510+1800'), target('HL_Tau')] }),
      execBlock({ uid: 'uid___A002_X1_X2', qa0: 'SemiPass', fields: [calibrator('J0510+1800'), target('HL_Tau')] }),
      execBlock({ uid: 'uid___A002_X1_X3', qa0: 'Pass', fields: [calibrator('J0321+1234'), target('HL_Tau')] }),
    ],
  });

  it('expects one MS per QA0 Pass execution block, in archive order', () => {
    // Act
    const expected = expectedMeasurementSets(mous, []);

    // Assess
    expect(expected).toEqual(['uid___A002_X2_X9.ms.split.cal', 'uid___A002_X1_X3.ms.split.cal']);
  });

  it.each<[string[], string[]]>([
    [['J0321+1234'], ['uid___A002_X1_X3.ms.split.cal']],
    [
      ['J0510+1800', 'J0321+1234'],
      ['uid___A002_X2_X9.ms.split.cal', 'uid___A002_X1_X3.ms.split.cal'],
    ],
    [['J9999+9999'], []],
  ])('with calibrator fields %j expects only the blocks that observed one of them', (fields, expected) => {
    // Act
    const measurementSets = expectedMeasurementSets(mous, fields);

    // Assess
    expect(measurementSets).toEqual(expected);
  });
});

describe('fieldSelectionKey', () => {
  it('names the whole MOUS "all"', () => {
    // Act
    const key = fieldSelectionKey([]);

    // Assess
    expect(key).toBe('all');
  });

  it('names a selection independently of order and repetition, and a different selection differently', () => {
    // Act
    const key = fieldSelectionKey(['J0510+1800', 'J0321+1234']);

    // Assess
    expect(fieldSelectionKey(['J0321+1234', 'J0510+1800'])).toBe(key);
    expect(fieldSelectionKey(['J0321+1234', 'J0510+1800', 'J0321+1234'])).toBe(key);
    expect(fieldSelectionKey(['J0510+1800'])).not.toBe(key);
    expect(fieldSelectionKey(['J0510+1800', 'J0321+1234', 'J0431+2037'])).not.toBe(key);
    expect(key).not.toBe('all');
  });

  it('is short and safe in an S3 key, however many fields', () => {
    // Act
    const key = fieldSelectionKey(Array.from({ length: 64 }, (_, index) => `J${String(index).padStart(4, '0')}+1800_with_a_long_name`));

    // Assess
    expect(key).toMatch(/^fields-[0-9a-f]{32}$/);
  });
});

describe('dates and links', () => {
  it('expires a delivery the retention after it was staged', () => {
    // Act
    const expiry = expiryDate(new Date('2019-09-27T14:04:04Z'), 28);

    // Assess
    expect(expiry.toISOString()).toBe('2019-10-25T14:04:04.000Z');
  });

  it('links to the download page of the token', () => {
    // Act
    const link = downloadLink('https://calms.example.org/prod', '8672af71dac32e0ad9703dae3438fcac');

    // Assess
    expect(link).toBe('https://calms.example.org/prod/downloads/8672af71dac32e0ad9703dae3438fcac');
  });

  it.each([
    [0, '0 bytes'],
    [1023, '1023 bytes'],
    [1024, '1.0 KiB'],
    [5_764_321_280, '5.4 GiB'],
    [3 * 1024 ** 5, '3072.0 TiB'],
  ])('writes %i bytes as %s', (bytes, text) => {
    // Act
    const formatted = formatBytes(bytes);

    // Assess
    expect(formatted).toBe(text);
  });
});

describe('deliveryReadme', () => {
  const tarballs = { 'uid___A002_X1_X1.ms.split.cal.tar': 'first tarball\n', 'uid___A002_X1_X2.ms.split.cal.tar': 'second one\n' };
  const manifest = (calibratorFields: string[]): DeliveryManifest => ({
    requestId: 'r1',
    mous: 'uid___A001_X1296_X675',
    projectCode: '2017.1.00727.S',
    helpdeskTicket: '16140',
    calibratorFields,
    stagedAt: '2019-09-27T14:04:04.000Z',
    expiresAt: '2019-10-25T14:04:04.000Z',
    retentionDays: 28,
    token: 'a'.repeat(32),
    tarballs: Object.entries(tarballs).map(([name, content]) => ({
      name,
      bytes: Buffer.byteLength(content),
      sha256: createHash('sha256').update(content).digest('hex'),
      source: 'cluster',
    })),
  });

  it('says what the delivery is, until when it stays, and how to unpack it', () => {
    // Act
    const readme = deliveryReadme(manifest([]));

    // Assess
    expect(readme.split('\n').slice(0, 4)).toEqual([
      'Calibrated measurement sets of MOUS uid___A001_X1296_X675',
      'Project 2017.1.00727.S, helpdesk ticket 16140',
      '',
      'Staged 2019-09-27T14:04:04.000Z; it will be deleted after 2019-10-25T14:04:04.000Z (28 days).',
    ]);
    expect(readme).toContain('Unpack with:   tar xf <name>.ms.split.cal.tar\n');
    expect(readme).toContain('uid___A002_X1_X1.ms.split.cal.tar  14 bytes (14 bytes)\n');
    expect(readme).not.toContain('Only data for field');
  });

  it('names the calibrator fields of a selection', () => {
    // Act
    const readme = deliveryReadme(manifest(['J0510+1800', 'J0321+1234']));

    // Assess
    expect(readme.split('\n')[2]).toBe('Only data for field J0510+1800,J0321+1234 was kept.');
  });

  it('lists the SHA256SUMS file, and in it the same checksum lines the file holds', () => {
    // Act
    const readme = deliveryReadme(manifest([]));
    const sums = sha256Sums(manifest([]));

    // Assess
    expect(readme).toContain(
      'Check with:    sha256sum -c SHA256SUMS   (the lines below, saved as SHA256SUMS)\nSHA256SUMS:    offered for download beside the tarballs\n',
    );
    expect(sums.split('\n')).toHaveLength(3);
    expect(readme).toContain(`\n\n${sums}\nSizes:\n`);
  });

  it('writes a SHA256SUMS that sha256sum -c accepts for the tarballs, and rejects for a changed one', () => {
    // Prepare
    const directory = mkdtempSync(join(tmpdir(), 'calms-readme-'));
    try {
      for (const [name, content] of Object.entries(tarballs)) writeFileSync(join(directory, name), content);
      const sums = sha256Sums(manifest([])).trimEnd().split('\n');
      writeFileSync(join(directory, SHA256SUMS_NAME), sha256Sums(manifest([])));

      // Act
      const intact = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: directory });
      writeFileSync(join(directory, 'uid___A002_X1_X2.ms.split.cal.tar'), 'second One\n');
      const changed = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: directory });

      // Assess
      expect(sums).toHaveLength(2);
      expect(intact.status).toBe(0);
      expect(intact.stdout.toString()).toBe('uid___A002_X1_X1.ms.split.cal.tar: OK\nuid___A002_X1_X2.ms.split.cal.tar: OK\n');
      expect(changed.status).not.toBe(0);
      expect(changed.stdout.toString()).toContain('uid___A002_X1_X2.ms.split.cal.tar: FAILED');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('downloadEmail', () => {
  const addresses = { aog: 'aog@eso.org', maintainer: 'dpetry@eso.org', noReply: 'no_reply_eu_data_delivery@eso.org' };

  it("is AOG's email of the seed: to the user, BCC ARC contact, maintainer and AOG, reply-to no-reply, threaded", () => {
    // Prepare
    const request = seedMousRequest({ mous: ['uid___A001_X133d_X1244'], helpdeskTicket: '16267' });
    const link = 'http://almascience.eso.org/arcdistribution/preview/cdb386950af8ee148b3a9bc633942c6a';

    // Act
    const mail = downloadEmail(request, link, { daysLeft: 28 }, addresses, '<delivered.x@calms.test>');

    // Assess
    expect(mail).toEqual({
      to: ['judits@phys.ethz.ch'],
      bcc: ['evkampe@eso.org', 'dpetry@eso.org', 'aog@eso.org'],
      replyTo: 'no_reply_eu_data_delivery@eso.org',
      subject: 'Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X133d_X1244, helpdesk ticket 16267',
      text: `Your calibrated data is ready for download from
http://almascience.eso.org/arcdistribution/preview/cdb386950af8ee148b3a9bc633942c6a

It will be deleted 28 days from now.

Kind regards,

The ESO ALMA Team
`,
      messageId: '<delivered.x@calms.test>',
      inReplyTo: request.requestMessageId,
      references: [request.requestMessageId],
    });
    expect(mail.cc).toBeUndefined();
  });

  it.each([
    [{ daysLeft: 14 }, 'It will be deleted 14 days from now.'],
    [{ daysLeft: 1 }, 'It will be deleted 1 day from now.'],
    [{ kept: true } as const, 'It will be kept until further notice.'],
  ])('says the life left to the data (%o)', (lifetime, sentence) => {
    // Act
    const mail = downloadEmail(seedMousRequest(), 'https://calms.test/downloads/t', lifetime, addresses, '<m@calms.test>');

    // Assess
    expect(mail.text).toContain(`\n${sentence}\n`);
  });
});

describe('lifetimeOf', () => {
  const EXPIRES = '2026-12-22T12:00:00.000Z';

  it.each([
    ['right after staging, 28 days before the expiry', '2026-11-24T12:00:00.000Z', 28],
    ['a second after staging', '2026-11-24T12:00:01.000Z', 28],
    ['ten and a half days later', '2026-12-04T23:59:59.000Z', 18],
    ['an hour before the expiry', '2026-12-22T11:00:00.000Z', 1],
    ['after the expiry (an email is not sent then; never fewer than one day)', '2026-12-23T12:00:00.000Z', 1],
  ])('counts whole days left, a part day as one: %s', (_when, now, daysLeft) => {
    // Act
    const lifetime = lifetimeOf({ expiresAt: EXPIRES }, new Date(now));

    // Assess
    expect(lifetime).toEqual({ daysLeft });
  });

  it('says kept for a kept delivery, whatever its expiry', () => {
    // Act
    const lifetime = lifetimeOf({ expiresAt: EXPIRES, kept: true }, new Date('2027-03-01T00:00:00Z'));

    // Assess
    expect(lifetime).toEqual({ kept: true });
  });
});

describe("stagecalms's messages", () => {
  it("are the seed's lines, with a server-side copy instead of a hard link", () => {
    // Act
    const lines = [
      reuseMessages.checking,
      reuseMessages.found('deliveries/r0/uid___A002_Xd15514_X8bfa.ms.split.cal.tar'),
      reuseMessages.notFound('uid___A002_X9aa6ef_X15a1'),
      reuseMessages.regenerate,
    ];

    // Assess
    expect(lines).toEqual([
      'Checking for pre-existing MSs for the following EBs ...',
      'Found pre-existing deliveries/r0/uid___A002_Xd15514_X8bfa.ms.split.cal.tar .\n   Will try to use this instead of recreating it (server-side copy) ...',
      'MS for uid___A002_X9aa6ef_X15a1 was not found among the already staged MSs. Will not search further ...',
      'None or not all of the needed MSs found: Will regenerate all the MSs ...',
    ]);
  });

  it("close with the seed's completion lines, the link in place of the web directory", () => {
    // Prepare
    const request = seedMousRequest({ projectCode: '2018.1.01406.S', mous: ['uid___A001_X133d_X3cf3'], helpdeskTicket: '16267' });

    // Act
    const text = stagingCompletedText(request, 'https://calms.test/downloads/8672af71', new Date('2019-09-27T14:04:04Z'), 28);

    // Assess
    expect(text).toBe(
      [
        'Staging of calibrated MS(s) for 2018.1.01406.S uid___A001_X133d_X3cf3 helpdesk ticket #16267 completed',
        'at https://calms.test/downloads/8672af71',
        'Data will be deleted 28 days from Fri, 27 Sep 2019 14:04:04 GMT unless it is kept.',
      ].join('\n'),
    );
  });
});

describe('utcMinute', () => {
  it.each([
    ['2027-01-03T00:02:41.512Z', '2027-01-03 00:02 UTC'],
    ['2026-12-31T23:59:59.999Z', '2026-12-31 23:59 UTC'],
    ['2027-01-03T01:02:00+01:00', '2027-01-03 00:02 UTC'],
  ])('shows %s as %s', (iso, shown) => {
    // Act
    const text = utcMinute(iso);

    // Assess
    expect(text).toBe(shown);
  });
});

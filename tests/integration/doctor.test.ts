/**
 * `calms doctor` (issue 18 §6) against a local cloud of this file's own (support/faultCloud.ts), through the real
 * CLI bundle and the real GET /doctor: all green, then with the SMTP relay stopped and one cluster node down, the
 * two lines fail with their fix, the others still pass and the exit status says so; then green again. Likewise a
 * bucket whose lifecycle rules were deleted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeleteBucketLifecycleCommand, PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { dataBucketLifecycleRules } from '../../lib/storage/lifecycle';
import { calms } from './support/calms';
import { s3, service } from './support/clients';
import { FAULT_CLUSTER_DIR, FaultCloud, signalMailDev } from './support/faultCloud';

const cloud = new FaultCloud();
/** The node taken down: not the first, so the lines around it show the others are still checked. */
const DOWN_NODE = 1;
const DOWN_FILE = path.join(FAULT_CLUSTER_DIR, 'down', `node${DOWN_NODE}`);

beforeAll(async () => {
  (require('../../bin/build-cli.cjs') as { buildCli: () => string }).buildCli();
  await cloud.start();
}, 180_000);
afterAll(async () => {
  signalMailDev('SIGCONT');
  fs.rmSync(DOWN_FILE, { force: true });
  await cloud.stop();
}, 60_000);

/** The lines `calms doctor` printed, as [mark, what was checked, the rest]. */
async function doctor(): Promise<{ code: number | null; lines: string[][]; stderr: string }> {
  const run = await calms(['doctor']);
  const lines = run.stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [, mark, name, rest] = /^(ok|FAIL)\s+(.+?): (.*)$/.exec(line) ?? [undefined, '?', line, ''];
      return [mark!, name!, rest!];
    });
  return { code: run.code, lines, stderr: run.stderr };
}

const nodes = () => process.env.CALMS_CLUSTER_NODES!.split(',');
const smtpName = () => `SMTP relay ${process.env.CALMS_SMTP_HOST}:${process.env.CALMS_SMTP_PORT}`;
const expectedNames = () => [
  `API ${process.env.CALMS_API_URL}`,
  'state machine',
  `data bucket ${process.env.CALMS_DATA_BUCKET}`,
  'archive',
  smtpName(),
  ...nodes().map((node) => `SSH ${node}`),
];

test('on a healthy local cloud every check passes, one line each, and calms doctor exits 0', async () => {
  // Act
  const { code, lines, stderr } = await doctor();

  // Assess
  expect(lines.map(([mark, name]) => [mark, name])).toEqual(expectedNames().map((name) => ['ok', name]));
  expect([code, stderr]).toEqual([0, '']);
});

test('with the SMTP relay stopped and a cluster node down, those two lines fail with their fix, the others pass, exit 1', async () => {
  // Prepare: MailDev stopped (it accepts connections but never greets: only the time limit reveals it), node 1 off the network.
  expect(signalMailDev('SIGSTOP')).toBeGreaterThan(0);
  fs.writeFileSync(DOWN_FILE, '');
  let broken;
  try {
    // Act
    broken = await doctor();
  } finally {
    signalMailDev('SIGCONT');
    fs.rmSync(DOWN_FILE, { force: true });
  }

  // Assess
  const failedNode = `SSH ${nodes()[DOWN_NODE]}`;
  expect(broken.lines.map(([mark, name]) => [mark, name])).toEqual(
    expectedNames().map((name) => [name === smtpName() || name === failedNode ? 'FAIL' : 'ok', name]),
  );
  const lineOf = (name: string) => broken.lines.find(([, checked]) => checked === name)![2]!;
  expect(lineOf(smtpName())).toMatch(
    /(did not accept a session: Greeting never received|no answer within [\d.]+ s) Fix: Check that the relay runs .*CALMS_SMTP_HOST/,
  );
  expect(lineOf(failedNode)).toMatch(new RegExp(`Fix: Start the node or its sshd, or open the way to ${nodes()[DOWN_NODE]!.replace(/\./g, '\\.')}`));
  expect(broken.code).toBe(1);

  // Assess: the failures were the faults': with them gone, all is green again.
  const healed = await doctor();
  expect([healed.code, healed.lines.every(([mark]) => mark === 'ok')]).toEqual([0, true]);
});

test('a data bucket without its lifecycle rules fails its line, naming both rules, until they are put back', async () => {
  // Prepare
  const bucket = service().dataBucket;
  await s3().send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
  let broken;
  try {
    // Act
    broken = await doctor();
  } finally {
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: dataBucketLifecycleRules(service().retentionDays) },
      }),
    );
  }

  // Assess
  expect(broken.lines.filter(([mark]) => mark === 'FAIL')).toEqual([
    [
      'FAIL',
      `data bucket ${bucket}`,
      expect.stringMatching(/^its lifecycle rules differ: no rule expire-deliveries; no rule abort-incomplete-uploads Fix: Deploy the stack again/),
    ],
  ]);
  expect(broken.code).toBe(1);
  expect((await doctor()).code).toBe(0);
});

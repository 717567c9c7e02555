/**
 * The real `calms` command (the bundle dist/calms.cjs, as `npx calms` runs it) against the local cloud that globalSetup
 * started; it finds the API through CALMS_API_URL and CALMS_API_KEY, which globalSetup put in process.env.
 * stdin is a pipe, never a terminal, so the CLI must not ask. Tickets 71001..71099 belong to this file.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CYCLE0_MESSAGE } from '../../lib/intake/submitRequest';
import { CALMS, calms, type CalmsRun } from './support/calms';

const ARC_CONTACT = ['--arc-contact', 'cli-test@alma.local'];

/**
 * `calms queue --json` once a second until nobody holds or waits for a staging slot, or `ms` have passed: the
 * executions of test files that ran before this one give their slot back when they end, and at the latest
 * when their lease (60 s locally) lapses.
 */
async function queueOnceEmpty(ms: number): Promise<CalmsRun> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = await calms(['queue', '--json']);
    const view = run.code === 0 ? (JSON.parse(run.stdout) as { holders: unknown[]; waiting: unknown[] }) : undefined;
    if (!view || (view.holders.length === 0 && view.waiting.length === 0) || Date.now() > deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('calms (the CLI) against the local cloud', () => {
  beforeAll(() => {
    if (!process.env.CALMS_API_URL || !process.env.CALMS_API_KEY) {
      throw new Error('globalSetup did not export CALMS_API_URL and CALMS_API_KEY');
    }
  });

  it('prints its usage with --help', async () => {
    // Prepare: nothing beyond the command

    // Act
    const run = await calms(['request', '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('calms request <proj code> "<user name>" "<user email>" <ticket> <MOUS UID> ["<calibrator fields>"]');
  });

  // Before the requests below, whose executions take staging slots.
  it('runs as the one bundled file with no node_modules anywhere, and takes the ARC contact from its config file', async () => {
    // Prepare: the bundle alone in an empty directory, as `npm link` would put it on PATH, and a home whose
    // config file names the ARC contact; no --arc-contact on the command line.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-bundle-'));
    const bundle = path.join(dir, 'calms');
    fs.copyFileSync(CALMS, bundle);
    fs.mkdirSync(path.join(dir, 'home/.config/calms'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'home/.config/calms/config'), '# as ARC staff would write it\nCALMS_ARC_CONTACT=config-file@alma.local\n');
    const env = {
      PATH: process.env.PATH,
      HOME: path.join(dir, 'home'),
      CALMS_API_URL: process.env.CALMS_API_URL,
      CALMS_API_KEY: process.env.CALMS_API_KEY,
    };
    const run = (args: string[]) =>
      new Promise<CalmsRun>((resolve, reject) => {
        const child = spawn(process.execPath, [bundle, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });

    // Act
    const help = await run(['--help']);
    const request = await run([
      'request',
      '2022.1.00999.S',
      'Paula Principal',
      'Paula.Principal@Example.org',
      '71007',
      'uid://A001/X2f1e/X105',
      '--force',
    ]);
    const requestId = /request id: (\S+)/.exec(request.stdout)?.[1];
    const status = await run(['status', String(requestId), '--json']);

    // Assess
    expect(fs.readdirSync(dir).sort()).toEqual(['calms', 'home']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('CALMS_ARC_CONTACT')]);
    expect({ code: request.code, stderr: request.stderr }).toEqual({ code: 0, stderr: '' });
    expect(request.stdout).toContain('CC config-file@alma.local');
    expect(JSON.parse(status.stdout)).toMatchObject({ requestId, arcContact: 'config-file@alma.local' });
  });

  it('refuses the old --yes with a hint, and suggests the command meant by a typo', async () => {
    // Act
    const yes = await calms([
      'request',
      '2017.1.00727.S',
      'Judit Szulagyi',
      'judits@phys.ethz.ch',
      '71008',
      'uid://A001/X1296/X675',
      ...ARC_CONTACT,
      '--yes',
    ]);
    const typo = await calms(['stauts', '--ticket', '71001']);

    // Assess
    expect(yes.code).toBe(2);
    expect(yes.stderr).toContain('--yes is gone, as it meant "abort if this is a duplicate"');
    expect(typo).toEqual({
      code: 2,
      stdout: '',
      stderr: 'calms: unknown command "stauts". Did you mean "calms status"?\nRun "calms --help" for usage.\n',
    });
  });

  it('shows the staging queue, free, as a table and with --json', async () => {
    // Prepare
    const json = await queueOnceEmpty(90_000);

    // Act
    const table = await calms(['queue']);

    // Assess
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual({ slots: 2, holders: [], waiting: [] });
    expect(table).toEqual({ code: 0, stdout: 'Staging slots: 0 of 2 in use\nNone waiting.\n', stderr: '' });
  });

  it('accepts the seed example, then aborts an identical second request, naming the active trigger', async () => {
    // Prepare: the seed's request. Other test files may already hold an active trigger for this MOUS (the
    // duplicate check is per MOUS, not per ticket), so the first request goes with --force to be accepted
    // whatever ran before; the second one is exactly the old script's command line.
    const seed = ['request', '2017.1.00727.S', 'Judit Szulagyi', 'judits@phys.ethz.ch', '71001', 'uid://A001/X1296/X675', ...ARC_CONTACT];

    // Act
    const first = await calms([...seed, '--force']);
    const second = await calms(seed);

    // Assess
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toContain('Request accepted for MOUS uid___A001_X1296_X675 (project 2017.1.00727.S, helpdesk ticket 71001).');
    const trigger = /^ {2}trigger: +(trigger-uid___A001_X1296_X675-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.txt)$/m.exec(first.stdout)?.[1];
    expect(trigger).toBeDefined();
    expect(first.stdout).toMatch(/^ {2}request id: t71001-uid___A001_X1296_X675-\S+$/m);
    expect(first.stdout).toMatch(/^ {2}execution: +arn:aws:states:\S+:execution:\S+$/m);

    expect(second.code).toBe(3);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(
      new RegExp(
        `^A request for MOUS uid___A001_X1296_X675 is still active: trigger ${trigger!.replace(/\./g, '\\.')}, made \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\.$`,
        'm',
      ),
    );
    expect(second.stderr).toContain('Aborted: stdin is not a terminal');
    expect(second.stderr).not.toContain('Abort this duplicate request?');
  });

  it('refuses a Cycle 0 project with the server message, exit 1', async () => {
    // Prepare
    const args = ['request', '2011.0.00012.S', 'Ernest Early', 'ernest.early@alma.local', '71002', 'uid://A002/X3c7a84/X1c', ...ARC_CONTACT];

    // Act
    const run = await calms(args);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(CYCLE0_MESSAGE);
    expect(run.stdout).toBe('');
  });

  it("prints the seed's two NO_QA0_PASS lines for a MOUS without QA0 Pass data, exit 1", async () => {
    // Prepare
    const args = ['request', '2022.1.00999.S', 'Paula Principal', 'paula.principal@alma.local', '71003', 'uid://A001/X2f1e/X106', ...ARC_CONTACT];

    // Act
    const run = await calms(args);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').slice(0, 2)).toEqual([
      'ERROR: No QA0_PASS data found for this MOUS. Please double-check MOUS UID.',
      'If confirmed, please inform the user that ALMA cannot offer calibrated data for this MOUS.',
    ]);
    expect(run.stdout).toBe('');
  });

  it('prints the field and message of a value the server finds invalid, exit 2', async () => {
    // Prepare
    const args = ['request', '2017.1.00727.S', 'Judit Szulagyi', 'judits-at-phys.ethz.ch', '71004', 'uid://A001/X1296/X675', ...ARC_CONTACT];

    // Act
    const run = await calms(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Invalid request: <user email> \(userEmail\): .+/);
  });

  it('says so when the API key is wrong, exit 4', async () => {
    // Prepare
    const env = { ...process.env, CALMS_API_KEY: 'not-the-key-of-this-cloud' };
    const args = ['request', '2017.1.00727.S', 'Judit Szulagyi', 'judits@phys.ethz.ch', '71005', 'uid://A001/X1296/X675', ...ARC_CONTACT];

    // Act
    const run = await calms(args, env);

    // Assess
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`The CalMS API at ${process.env.CALMS_API_URL}/requests refused the API key`);
  });

  it('says so when the API key for the queue is wrong, exit 4', async () => {
    // Prepare
    const env = { ...process.env, CALMS_API_KEY: 'not-the-key-of-this-cloud' };

    // Act
    const run = await calms(['queue'], env);

    // Assess
    expect(run).toEqual({
      code: 4,
      stdout: '',
      stderr: `The CalMS API at ${process.env.CALMS_API_URL}/queue refused the API key (HTTP 403). Check CALMS_API_KEY.\n`,
    });
  });

  it('names the URL when nothing answers there, exit 4', async () => {
    // Prepare
    const url = `http://127.0.0.1:${await closedPort()}/local`;
    const args = ['request', '2017.1.00727.S', 'Judit Szulagyi', 'judits@phys.ethz.ch', '71006', 'uid://A001/X1296/X675', ...ARC_CONTACT];

    // Act
    const run = await calms(args, { ...process.env, CALMS_API_URL: url });

    // Assess
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`Could not reach the CalMS API at ${url}/requests: fetch failed (connect ECONNREFUSED`);
  });
});

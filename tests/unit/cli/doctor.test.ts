/** `calms doctor` against a fake fetch: its arguments, the lines it prints and its exit status. */
import { parseCommandLine } from '../../../lib/cli/args';
import { ExitCode } from '../../../lib/cli/main';
import type { DoctorReport } from '../../../lib/domain/doctor';
import { API_KEY, ENV, fakeFetch, run } from './harness';

const ALL_WELL: DoctorReport = {
  checks: [
    { name: 'state machine', ok: true, detail: 'calms-dev exists (ACTIVE)' },
    { name: 'archive', ok: true, detail: 'answers a lookup' },
    { name: 'SSH node1:22', ok: true, detail: 'lets the cluster user in, with the pinned host key' },
  ],
};

describe('parseCommandLine: calms doctor', () => {
  it.each([
    [['doctor'], { ok: true, command: { kind: 'doctor', json: false } }],
    [['doctor', '--json'], { ok: true, command: { kind: 'doctor', json: true } }],
    [['doctor', '--help'], { ok: true, command: { kind: 'help', topic: 'doctor' } }],
    [['help', 'doctor'], { ok: true, command: { kind: 'help', topic: 'doctor' } }],
    [['doctor', 'now'], { ok: false, message: 'calms doctor: takes no arguments, got "now"', topic: 'doctor' }],
    [['doctr'], { ok: false, message: 'calms: unknown command "doctr". Did you mean "calms doctor"?', topic: 'main' }],
  ])('%j', (argv, expected) => {
    expect(parseCommandLine(argv)).toEqual(expected);
  });
});

describe('calms doctor', () => {
  it('all well: GET /doctor with the key, the API line then one line per server-side check, exit 0', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch({ status: 200, body: ALL_WELL });

    // Act
    const { code, stdout, stderr } = await run(['doctor'], fetch);

    // Assess
    expect(calls).toEqual([{ url: `${ENV.CALMS_API_URL}/doctor`, method: 'GET', headers: { 'x-api-key': API_KEY } }]);
    expect(stdout.split('\n')).toEqual([
      `ok    API ${ENV.CALMS_API_URL}: answers with the API key`,
      'ok    state machine: calms-dev exists (ACTIVE)',
      'ok    archive: answers a lookup',
      'ok    SSH node1:22: lets the cluster user in, with the pinned host key',
      '',
    ]);
    expect([code, stderr]).toEqual([ExitCode.OK, '']);
  });

  it('a failed server-side check: its line with the fix, the others as they are, exit 1', async () => {
    // Prepare
    const report = {
      checks: [...ALL_WELL.checks.slice(0, 2), { name: 'SSH node1:22', ok: false, detail: 'node1:22: ECONNREFUSED', fix: 'Start the node.' }],
    };

    // Act
    const { code, stdout } = await run(['doctor'], fakeFetch({ status: 200, body: report }).fetch);

    // Assess
    expect(stdout.split('\n').slice(1, 4)).toEqual([
      'ok    state machine: calms-dev exists (ACTIVE)',
      'ok    archive: answers a lookup',
      'FAIL  SSH node1:22: node1:22: ECONNREFUSED Fix: Start the node.',
    ]);
    expect(code).toBe(ExitCode.REFUSED);
  });

  it.each([
    ['refused key', { status: 403, body: { message: 'Forbidden' } }, 'refused the API key (HTTP 403) Fix: Check CALMS_API_KEY'],
    [
      'unreachable',
      new TypeError('fetch failed'),
      `Could not reach the CalMS API at ${ENV.CALMS_API_URL}/doctor: fetch failed Fix: Check CALMS_API_URL`,
    ],
    ['failing function', { status: 502, text: 'Internal server error' }, 'the server-side checks did not run (HTTP 502: Internal server error)'],
  ] as const)('an API that does not answer (%s): one failed line, exit 4', async (_case, answer, expected) => {
    // Act
    const { code, stdout } = await run(['doctor'], fakeFetch(answer).fetch);

    // Assess
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stdout).toContain(`FAIL  API ${ENV.CALMS_API_URL}: ${expected}`);
    expect(code).toBe(ExitCode.UNAVAILABLE);
  });

  it('--json prints every check, the API included', async () => {
    // Act
    const { code, stdout } = await run(['doctor', '--json'], fakeFetch({ status: 200, body: ALL_WELL }).fetch);

    // Assess
    expect(JSON.parse(stdout)).toEqual({
      checks: [{ name: `API ${ENV.CALMS_API_URL}`, ok: true, detail: 'answers with the API key' }, ...ALL_WELL.checks],
    });
    expect(code).toBe(ExitCode.OK);
  });
});

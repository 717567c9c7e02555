/**
 * `calms queue`: the table it prints (formatQueue) and the whole command against a fake fetch. The answer
 * follows QueueView of lib/slots/StagingQueue.ts.
 */
import { ExitCode } from '../../../lib/cli/main';
import { formatQueue, readableTime } from '../../../lib/cli/queueTable';
import type { QueueView } from '../../../lib/slots/StagingQueue';
import { API_KEY, fakeFetch, run } from './harness';

const FIRST_HOLDER = {
  requestId: 't16140-uid___A001_X1296_X675-20261124T232106Z-ab12',
  helpdeskTicket: '16140',
  mous: 'uid___A001_X1296_X675',
  arrivedAt: '2026-11-24T23:21:00.000Z',
  acquiredAt: '2026-11-24T23:21:06.000Z',
  leaseUntil: '2026-11-24T23:51:06.000Z',
};
const SECOND_HOLDER = {
  requestId: 't16267-uid___A001_X133d_X3cf3-20261124T232109Z-cd34',
  helpdeskTicket: '16267',
  mous: 'uid___A001_X133d_X3cf3',
  arrivedAt: '2026-11-24T23:21:01.000Z',
  acquiredAt: '2026-11-24T23:21:09.500Z',
  leaseUntil: '2026-11-24T23:51:09.500Z',
};
const FULL: QueueView = {
  slots: 2,
  // As the store may keep them: not in the order they took their slot.
  holders: [SECOND_HOLDER, FIRST_HOLDER],
  waiting: [
    {
      requestId: 't12345-uid___A001_X159a_X6b-20261124T232120Z-ef56',
      helpdeskTicket: '12345',
      mous: 'uid___A001_X159a_X6b',
      arrivedAt: '2026-11-24T23:21:20.000Z',
      position: 1,
    },
    {
      requestId: 't9-uid___A002_X3c7a84_X1c-20261124T232131Z-gh78',
      helpdeskTicket: '9',
      mous: 'uid___A002_X3c7a84_X1c',
      arrivedAt: '2026-11-24T23:21:31.000Z',
      position: 2,
    },
  ],
};
const EMPTY: QueueView = { slots: 2, holders: [], waiting: [] };

describe('formatQueue', () => {
  it('lists the holders in the order they took their slot, then who waits by position, in aligned columns', () => {
    // Prepare: FULL

    // Act
    const table = formatQueue(FULL);

    // Assess
    expect(table).toBe(
      [
        'Staging slots: 2 of 2 in use',
        '  1  uid___A001_X1296_X675   helpdesk ticket 16140  since 2026-11-24 23:21:06Z  (lease until 2026-11-24 23:51:06Z)  request t16140-uid___A001_X1296_X675-20261124T232106Z-ab12',
        '  2  uid___A001_X133d_X3cf3  helpdesk ticket 16267  since 2026-11-24 23:21:09Z  (lease until 2026-11-24 23:51:09Z)  request t16267-uid___A001_X133d_X3cf3-20261124T232109Z-cd34',
        'Waiting (oldest first):',
        '  1  uid___A001_X159a_X6b    helpdesk ticket 12345  arrived 2026-11-24 23:21:20Z  request t12345-uid___A001_X159a_X6b-20261124T232120Z-ef56',
        '  2  uid___A002_X3c7a84_X1c  helpdesk ticket 9      arrived 2026-11-24 23:21:31Z  request t9-uid___A002_X3c7a84_X1c-20261124T232131Z-gh78',
        '',
      ].join('\n'),
    );
  });

  it('says when the slots are free and nobody waits', () => {
    // Prepare: EMPTY

    // Act
    const table = formatQueue(EMPTY);

    // Assess
    expect(table).toBe('Staging slots: 0 of 2 in use\nNone waiting.\n');
  });

  it('right-aligns positions of ten and more', () => {
    // Prepare
    const entry = FULL.waiting[0]!;
    const waiting = Array.from({ length: 10 }, (_, index) => ({ ...entry, position: index + 1 }));

    // Act
    const lines = formatQueue({ ...EMPTY, waiting }).split('\n');

    // Assess
    expect(lines[2]).toMatch(/^ {3}1 {2}uid/);
    expect(lines[11]).toMatch(/^ {2}10 {2}uid/);
  });
});

describe('readableTime', () => {
  it.each([
    ['2026-11-24T23:21:06.123Z', '2026-11-24 23:21:06Z'],
    ['2026-11-24T23:21:06Z', '2026-11-24 23:21:06Z'],
    ['yesterday', 'yesterday'],
  ])('%s → %s', (iso, readable) => {
    // Prepare: nothing beyond the time

    // Act
    const result = readableTime(iso);

    // Assess
    expect(result).toBe(readable);
  });
});

describe('calms queue', () => {
  it('GETs <CALMS_API_URL>/queue with the API key and prints the table, exit 0', async () => {
    // Prepare
    const api = fakeFetch({ status: 200, body: FULL });

    // Act
    const result = await run(['queue'], api.fetch);

    // Assess
    expect(api.calls).toEqual([{ url: 'http://calms.test/dev/queue', method: 'GET', headers: { 'x-api-key': API_KEY } }]);
    expect(result).toEqual({ code: ExitCode.OK, stdout: formatQueue(FULL), stderr: '' });
  });

  it('prints the answer as JSON with --json', async () => {
    // Prepare
    const api = fakeFetch({ status: 200, body: FULL });

    // Act
    const result = await run(['queue', '--json'], api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(JSON.parse(result.stdout)).toEqual(FULL);
  });

  it('says the API key was refused on 403, exit 4', async () => {
    // Prepare
    const api = fakeFetch({ status: 403, body: { message: 'Forbidden' } });

    // Act
    const result = await run(['queue'], api.fetch);

    // Assess
    expect(result).toEqual({
      code: ExitCode.UNAVAILABLE,
      stdout: '',
      stderr: 'The CalMS API at http://calms.test/dev/queue refused the API key (HTTP 403). Check CALMS_API_KEY.\n',
    });
  });

  it('prints the server message of an error answer, exit 4', async () => {
    // Prepare
    const api = fakeFetch({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'S3 did not answer' } } });

    // Act
    const result = await run(['queue'], api.fetch);

    // Assess
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: ExitCode.UNAVAILABLE, stderr: 'S3 did not answer\n' });
  });

  it('names the URL and the reason when the API cannot be reached, exit 4', async () => {
    // Prepare
    const api = fakeFetch(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:3000') }));

    // Act
    const result = await run(['queue'], api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe(
      'Could not reach the CalMS API at http://calms.test/dev/queue: fetch failed (connect ECONNREFUSED 127.0.0.1:3000)\n' +
        'Check CALMS_API_URL and that the CalMS service is running.\n',
    );
  });

  it('prints its help without calling the API, and the main help names it', async () => {
    // Prepare
    const api = fakeFetch(new Error('not to be called'));

    // Act
    const queueHelp = await run(['queue', '--help'], api.fetch);
    const mainHelp = await run(['--help'], api.fetch);

    // Assess
    expect(queueHelp.code).toBe(ExitCode.OK);
    expect(queueHelp.stdout).toContain('calms queue [--json]');
    expect(queueHelp.stdout).toContain('Exit status:');
    expect(mainHelp.stdout).toContain('calms queue [--json]');
    expect(api.calls).toHaveLength(0);
  });

  it('points a usage error at the queue help, exit 2', async () => {
    // Prepare
    const api = fakeFetch(new Error('not to be called'));

    // Act
    const result = await run(['queue', '--all'], api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/^calms queue: .*--all.*\nRun "calms queue --help" for usage\.\n$/);
    expect(api.calls).toHaveLength(0);
  });
});

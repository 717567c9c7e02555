/** `calms stats`: its arguments, the table and the CSV it prints, and the whole command against a fake fetch. */
import { parseCommandLine } from '../../../lib/cli/args';
import { ExitCode } from '../../../lib/cli/main';
import { formatStatistics, readableBytes, readableDuration } from '../../../lib/cli/statisticsTable';
import { RequestOutcome, statisticsCsv, summarise } from '../../../lib/domain/statistics';
import { outcomeRecordOf } from '../fakes';
import { API_KEY, fakeFetch, run } from './harness';

const STATISTICS = summarise(
  [
    outcomeRecordOf('a', '2026-09-01T00:00:00Z', RequestOutcome.Delivered, 1894, { delivered: 11 * 1024 * 1024 }),
    outcomeRecordOf('b', '2026-09-02T00:00:00Z', RequestOutcome.Delivered, 3720, { delivered: 11 * 1024 * 1024, reused: 11 * 1024 * 1024 }),
    outcomeRecordOf('c', '2026-09-03T00:00:00Z', RequestOutcome.NotEntitled, 5),
  ],
  [{ requestId: 'd', createdAt: '2026-10-01T00:00:00Z' }],
  { currentMonth: '2026-10' },
);

describe('parseCommandLine: calms stats', () => {
  it.each([
    [['stats'], { kind: 'stats', csv: false, json: false }],
    [['stats', '--from', '2026-01', '--to', '2026-06', '--csv'], { kind: 'stats', from: '2026-01', to: '2026-06', csv: true, json: false }],
    [['stats', '--json', '--to', '2026-06'], { kind: 'stats', to: '2026-06', csv: false, json: true }],
  ])('reads %j', (argv, command) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command });
  });

  it.each([
    [['stats', '2026-01'], 'calms stats: takes no arguments, got "2026-01"'],
    [['stats', '--csv', '--json'], 'calms stats: --csv and --json are two ways to print; choose one'],
  ])('refuses %j pointing at the stats help', (argv, message) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: false, topic: 'stats', message });
  });
});

describe('the text of calms stats', () => {
  it('formatStatistics: a row per month and overall, figures right-aligned, and what the columns mean', () => {
    // Prepare: STATISTICS

    // Act
    const text = formatStatistics(STATISTICS);

    // Assess
    expect(text.split('\n').slice(0, 5)).toEqual([
      'Requests by the month they were made (UTC), 2026-09 to 2026-10',
      'month    requests  in progress  delivered  not entitled  invalid  not delivered  failed  cancelled   median     p90  re-use  bytes delivered  saved by re-use',
      '2026-09         3            0          2             1        0              0       0          0  31m 34s  1h 02m     50%         22.0 MiB         11.0 MiB',
      '2026-10         1            1          0             0        0              0       0          0        -       -       -              0 B              0 B',
      'overall         4            1          2             1        0              0       0          0  31m 34s  1h 02m     50%         22.0 MiB         11.0 MiB',
    ]);
    expect(text).toContain('(nearest-rank percentiles)');
  });

  it.each([
    [null, '-'],
    [44.6, '45s'],
    [754, '12m 34s'],
    [11040, '3h 04m'],
    [190800, '2d 05h'],
  ])('readableDuration(%j) is %j', (seconds, text) => {
    // Prepare: the seconds

    // Act
    const readable = readableDuration(seconds);

    // Assess
    expect(readable).toBe(text);
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [11 * 1024 * 1024, '11.0 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ])('readableBytes(%j) is %j', (bytes, text) => {
    // Prepare: the bytes

    // Act
    const readable = readableBytes(bytes);

    // Assess
    expect(readable).toBe(text);
  });
});

describe('calms stats against the API', () => {
  it('asks GET /statistics with the API key and prints the table', async () => {
    // Prepare
    const api = fakeFetch({ status: 200, body: STATISTICS });

    // Act
    const result = await run(['stats'], api.fetch);

    // Assess
    expect(api.calls).toEqual([{ url: 'http://calms.test/dev/statistics', method: 'GET', headers: { 'x-api-key': API_KEY } }]);
    expect(result).toEqual({ code: ExitCode.OK, stdout: formatStatistics(STATISTICS), stderr: '' });
  });

  it('passes the months in the query and prints the CSV with --csv, the answer with --json', async () => {
    // Prepare
    const api = fakeFetch({ status: 200, body: STATISTICS });

    // Act
    const csv = await run(['stats', '--from', '2026-09', '--to', '2026-10', '--csv'], api.fetch);
    const json = await run(['stats', '--json'], api.fetch);

    // Assess
    expect(api.calls[0]!.url).toBe('http://calms.test/dev/statistics?from=2026-09&to=2026-10');
    expect(csv).toEqual({ code: ExitCode.OK, stdout: statisticsCsv(STATISTICS), stderr: '' });
    expect(csv.stdout.split('\r\n')[3]).toBe('overall,4,1,2,1,0,0,0,0,1894,3720,0.5,23068672,11534336');
    expect(JSON.parse(json.stdout)).toEqual(STATISTICS);
  });

  it('prints a month the server refused as invalid, exit 2', async () => {
    // Prepare
    const api = fakeFetch({
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', field: 'from', message: 'from must be a month as YYYY-MM, e.g. 2026-11; got "11/2026"' } },
    });

    // Act
    const result = await run(['stats', '--from', '11/2026'], api.fetch);

    // Assess
    expect(api.calls[0]!.url).toBe('http://calms.test/dev/statistics?from=11%2F2026');
    expect(result).toEqual({
      code: ExitCode.USAGE,
      stdout: '',
      stderr: 'Invalid from: from must be a month as YYYY-MM, e.g. 2026-11; got "11/2026"\n',
    });
  });

  it('prints its help without calling the API, and the main help names it', async () => {
    // Prepare
    const api = fakeFetch({ status: 500, body: {} });

    // Act
    const help = await run(['stats', '--help'], api.fetch);
    const main = await run(['--help'], api.fetch);

    // Assess
    expect(help.code).toBe(ExitCode.OK);
    expect(help.stdout).toContain('calms stats [--from YYYY-MM] [--to YYYY-MM] [--csv | --json]');
    expect(main.stdout).toContain('calms stats ');
    expect(api.calls).toHaveLength(0);
  });
});

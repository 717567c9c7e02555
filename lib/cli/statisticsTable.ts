/** What `calms stats` prints without --csv: the answer of `GET /statistics` as a table a person reads. Pure. */
import type { PeriodStatistics, Statistics } from '../domain/statistics';

const COLUMNS: readonly (readonly [string, (period: PeriodStatistics) => string])[] = [
  ['month', (period) => period.month],
  ['requests', (period) => String(period.requests)],
  ['in progress', (period) => String(period.inProgress)],
  ['delivered', (period) => String(period.delivered)],
  ['not entitled', (period) => String(period.notEntitled)],
  ['invalid', (period) => String(period.invalidMousUid)],
  ['not delivered', (period) => String(period.mousNotDelivered)],
  ['failed', (period) => String(period.failed)],
  ['cancelled', (period) => String(period.cancelled)],
  ['median', (period) => readableDuration(period.medianTurnaroundSeconds)],
  ['p90', (period) => readableDuration(period.p90TurnaroundSeconds)],
  ['re-use', (period) => (period.reuseRate === null ? '-' : `${(period.reuseRate * 100).toFixed(0)}%`)],
  ['bytes delivered', (period) => readableBytes(period.bytesDelivered)],
  ['saved by re-use', (period) => readableBytes(period.bytesSavedByReuse)],
];

/**
 * ```
 * Requests by the month they were made (UTC), 2026-10 to 2026-11
 * month    requests  in progress  delivered  …  median   p90      re-use  bytes delivered  saved by re-use
 * 2026-10         0            0          0  …       -        -       -              0 B              0 B
 * 2026-11         4            1          2  …  31m 34s  1h 02m      50%         22.0 MiB         11.0 MiB
 * overall         4            1          2  …  31m 34s  1h 02m      50%         22.0 MiB         11.0 MiB
 * ```
 * followed by what the columns mean. The month left-aligned, the figures right-aligned.
 */
export function formatStatistics(statistics: Statistics): string {
  const rows = [
    COLUMNS.map(([title]) => title),
    ...[...statistics.months, statistics.overall].map((period) => COLUMNS.map(([, cell]) => cell(period))),
  ];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '),
  );
  return [
    `Requests by the month they were made (UTC), ${statistics.from} to ${statistics.to}`,
    ...lines,
    '',
    'invalid: INVALID MOUS UID; not delivered: MOUS NOT DELIVERED (to the PI yet); in progress: not ended, or failed and awaiting a re-drive.',
    `median, p90: turnaround from the request to the user's email, over delivered requests (${statistics.percentileMethod} percentiles).`,
    're-use: deliveries copied from earlier ones without the cluster; saved by re-use: the bytes so copied.',
    '',
  ].join('\n');
}

/** 45 → `45s`, 754 → `12m 34s`, 11040 → `3h 04m`, 190800 → `2d 05h`; null → `-`. */
export function readableDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const whole = Math.round(seconds);
  const two = (value: number) => String(value).padStart(2, '0');
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${two(whole % 60)}s`;
  if (whole < 86_400) return `${Math.floor(whole / 3600)}h ${two(Math.floor(whole / 60) % 60)}m`;
  return `${Math.floor(whole / 86_400)}d ${two(Math.floor(whole / 3600) % 24)}h`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 0 → `0 B`, 11534336 → `11.0 MiB`: binary units, one decimal above bytes. */
export function readableBytes(bytes: number): string {
  let unit = 0;
  while (bytes >= 1024 ** (unit + 1) && unit < UNITS.length - 1) unit += 1;
  return unit === 0 ? `${bytes} B` : `${(bytes / 1024 ** unit).toFixed(1)} ${UNITS[unit]}`;
}

/**
 * The stats sheet: how many requests came in per month, how they ended, how long deliveries took, how much
 * data went out and how much of it re-use spared the cluster. Pure: the outcome of each request is recorded
 * where it happens (lib/processing, lib/operations/cancel.ts) and summed up here.
 */
import type { DeliveryManifest } from './delivery';
import { EntitlementOutcome } from './entitlement';
import type { MousRequest } from './request';

/** How a request ended: AOG's three replies, and delivered, failed or cancelled. */
export const RequestOutcome = {
  Delivered: 'DELIVERED',
  NotEntitled: EntitlementOutcome.NotEntitled,
  InvalidMousUid: EntitlementOutcome.InvalidMousUid,
  MousNotDelivered: EntitlementOutcome.MousNotDelivered,
  Failed: 'FAILED',
  Cancelled: 'CANCELLED',
} as const;
export type RequestOutcome = (typeof RequestOutcome)[keyof typeof RequestOutcome];

/** The outcome of one request, as the statistics store keeps it (one per request id, the latest wins). */
export interface OutcomeRecord {
  readonly requestId: string;
  readonly helpdeskTicket: string;
  readonly mous: string;
  readonly projectCode: string;
  /** ISO 8601, UTC: when intake accepted the request; its month is the request's month. */
  readonly requestedAt: string;
  /** ISO 8601, UTC. */
  readonly endedAt: string;
  readonly outcome: RequestOutcome;
  /** Delivered entirely from copies of earlier deliveries, without the cluster. */
  readonly reused: boolean;
  readonly bytesDelivered: number;
  /** The delivered bytes that were copied from earlier deliveries instead of calibrated again. */
  readonly bytesReused: number;
}

/** The record of a request that ended without a delivery. */
export function outcomeRecord(request: MousRequest, outcome: Exclude<RequestOutcome, 'DELIVERED'>, endedAt: Date): OutcomeRecord {
  return { ...recordOf(request, endedAt), outcome, reused: false, bytesDelivered: 0, bytesReused: 0 };
}

/** The record of a delivered request: its bytes from the delivery's manifest. */
export function deliveredRecord(request: MousRequest, manifest: DeliveryManifest, endedAt: Date): OutcomeRecord {
  const copied = manifest.tarballs.filter((tarball) => tarball.source !== 'cluster');
  return {
    ...recordOf(request, endedAt),
    outcome: RequestOutcome.Delivered,
    reused: manifest.tarballs.length > 0 && copied.length === manifest.tarballs.length,
    bytesDelivered: sum(manifest.tarballs.map((tarball) => tarball.bytes)),
    bytesReused: sum(copied.map((tarball) => tarball.bytes)),
  };
}

function recordOf(request: MousRequest, endedAt: Date) {
  return {
    requestId: request.requestId,
    helpdeskTicket: request.helpdeskTicket,
    mous: request.mous,
    projectCode: request.projectCode,
    requestedAt: request.requestedAt,
    endedAt: endedAt.toISOString(),
  };
}

/**
 * A failed request keeps its trigger until the maintainer re-drives it (or it is cancelled): it may still end
 * otherwise. Every other outcome is final.
 */
export function isFinal(outcome: RequestOutcome): boolean {
  return outcome !== RequestOutcome.Failed;
}

/** `YYYY-MM` of an ISO 8601 instant, in UTC. */
export function monthOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 7);
}

/** Whether `text` is a month as the API and `calms stats` take it: `YYYY-MM`. */
export function isMonth(text: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(text);
}

/** Months as the query gives them, both ends included; either may be open. */
export interface MonthRange {
  readonly from?: string;
  readonly to?: string;
}

/** What an active trigger says of a request still in work. */
export interface ActiveRequest {
  readonly requestId: string;
  /** ISO 8601, UTC: the request's requestedAt. */
  readonly createdAt: string;
}

/** The figures of one month, or of all months of the range (`month: "overall"`). */
export interface PeriodStatistics {
  readonly month: string;
  /** Requests made in the period: those with an outcome and those still in work. */
  readonly requests: number;
  /** Requests with an active trigger and no final outcome (failed ones awaiting a re-drive included). */
  readonly inProgress: number;
  readonly delivered: number;
  readonly notEntitled: number;
  readonly invalidMousUid: number;
  readonly mousNotDelivered: number;
  readonly failed: number;
  readonly cancelled: number;
  /** From request to the user's email, over delivered requests; null without any. Nearest-rank. */
  readonly medianTurnaroundSeconds: number | null;
  readonly p90TurnaroundSeconds: number | null;
  /** Re-used deliveries / deliveries, between 0 and 1; null without deliveries. */
  readonly reuseRate: number | null;
  readonly bytesDelivered: number;
  readonly bytesSavedByReuse: number;
}

export interface Statistics {
  /** The first and last month shown. */
  readonly from: string;
  readonly to: string;
  readonly percentileMethod: 'nearest-rank';
  /** Every month of the range, oldest first, those without requests included. */
  readonly months: readonly PeriodStatistics[];
  readonly overall: PeriodStatistics;
}

const OUTCOME_FIELDS = {
  [RequestOutcome.Delivered]: 'delivered',
  [RequestOutcome.NotEntitled]: 'notEntitled',
  [RequestOutcome.InvalidMousUid]: 'invalidMousUid',
  [RequestOutcome.MousNotDelivered]: 'mousNotDelivered',
  [RequestOutcome.Failed]: 'failed',
  [RequestOutcome.Cancelled]: 'cancelled',
} as const satisfies Record<RequestOutcome, keyof PeriodStatistics>;

/**
 * The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest value such that at least p % of
 * the values are at or below it, i.e. the ⌈p·n/100⌉-th smallest. Always one of the values (so the median of
 * an even count is the lower of the middle two). Undefined for no values.
 */
export function nearestRankPercentile(values: readonly number[], p: number): number | undefined {
  if (!(p > 0 && p <= 100)) throw new RangeError(`a percentile must be in (0, 100], got ${p}`);
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p * sorted.length) / 100) - 1];
}

/**
 * The statistics of `records` and of the requests still in work, per month of their request (UTC) and over
 * the range. The range runs from `from` (else the first month with a request, else `currentMonth`) to `to`
 * (else the later of `currentMonth` and the last month with a request); outside it nothing counts.
 */
export function summarise(
  records: readonly OutcomeRecord[],
  activeRequests: readonly ActiveRequest[],
  range: MonthRange & { readonly currentMonth: string },
): Statistics {
  const recorded = new Map(records.map((record) => [record.requestId, record]));
  const unrecorded = activeRequests.filter((active) => !recorded.has(active.requestId));
  const awaitingRedrive = new Set(
    activeRequests
      .map((active) => recorded.get(active.requestId))
      .filter((record): record is OutcomeRecord => record !== undefined && !isFinal(record.outcome))
      .map((record) => record.requestId),
  );
  const requested = [...records.map((record) => monthOf(record.requestedAt)), ...unrecorded.map((active) => monthOf(active.createdAt))].sort();
  const latest = requested.at(-1);
  const from = range.from ?? requested[0] ?? range.currentMonth;
  const to = range.to ?? (latest !== undefined && latest > range.currentMonth ? latest : range.currentMonth);
  const inRange = (month: string) => month >= from && month <= to;

  const shown = records.filter((record) => inRange(monthOf(record.requestedAt)));
  const waiting = unrecorded.filter((active) => inRange(monthOf(active.createdAt)));
  const period = (month: string, matches: (requestMonth: string) => boolean) =>
    periodOf(
      month,
      shown.filter((record) => matches(monthOf(record.requestedAt))),
      waiting.filter((active) => matches(monthOf(active.createdAt))).length,
      awaitingRedrive,
    );
  return {
    from,
    to,
    percentileMethod: 'nearest-rank',
    months: monthsBetween(from, to).map((month) => period(month, (requestMonth) => requestMonth === month)),
    overall: period('overall', () => true),
  };
}

function periodOf(month: string, records: readonly OutcomeRecord[], unrecorded: number, awaitingRedrive: ReadonlySet<string>): PeriodStatistics {
  const delivered = records.filter((record) => record.outcome === RequestOutcome.Delivered);
  const turnarounds = delivered.map((record) => (Date.parse(record.endedAt) - Date.parse(record.requestedAt)) / 1000);
  const counts = Object.fromEntries(
    Object.entries(OUTCOME_FIELDS).map(([outcome, field]) => [field, records.filter((record) => record.outcome === outcome).length]),
  ) as Record<(typeof OUTCOME_FIELDS)[RequestOutcome], number>;
  return {
    month,
    requests: records.length + unrecorded,
    inProgress: unrecorded + records.filter((record) => awaitingRedrive.has(record.requestId)).length,
    ...counts,
    medianTurnaroundSeconds: nearestRankPercentile(turnarounds, 50) ?? null,
    p90TurnaroundSeconds: nearestRankPercentile(turnarounds, 90) ?? null,
    reuseRate: delivered.length === 0 ? null : delivered.filter((record) => record.reused).length / delivered.length,
    bytesDelivered: sum(delivered.map((record) => record.bytesDelivered)),
    bytesSavedByReuse: sum(delivered.map((record) => record.bytesReused)),
  };
}

/** `2026-11`, `2027-02` → `2026-11`, `2026-12`, `2027-01`, `2027-02`; none when `from` is after `to`. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let [year, month] = from.split('-').map(Number) as [number, number];
  for (let current = from; current <= to; current = `${year}-${String(month).padStart(2, '0')}`) {
    months.push(current);
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  return months;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** The columns of the CSV, in order: the fields of {@link PeriodStatistics}. */
export const CSV_COLUMNS = [
  'month',
  'requests',
  'inProgress',
  'delivered',
  'notEntitled',
  'invalidMousUid',
  'mousNotDelivered',
  'failed',
  'cancelled',
  'medianTurnaroundSeconds',
  'p90TurnaroundSeconds',
  'reuseRate',
  'bytesDelivered',
  'bytesSavedByReuse',
] as const satisfies readonly (keyof PeriodStatistics)[];

/** One CSV field as RFC 4180 writes it: quoted, quotes doubled, when it holds a quote, comma, CR or LF. */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180: a header line, one line per month, then `overall`; CRLF after every line; null as an empty field. */
export function statisticsCsv(statistics: Statistics): string {
  const rows = [CSV_COLUMNS, ...[...statistics.months, statistics.overall].map((period) => CSV_COLUMNS.map((column) => period[column]))];
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

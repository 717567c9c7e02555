/** What `calms queue` prints: the answer of `GET /queue` as a table an operator reads at a glance. Pure. */
import type { QueueView } from '../slots/StagingQueue';

/**
 * ```
 * Staging slots: 1 of 2 in use
 *   1  uid___A001_X1296_X675  helpdesk ticket 16140  since 2026-11-24 23:21:06Z  (lease until 2026-11-24 23:22:06Z)  request t16140-…
 * Waiting (oldest first):
 *   1  uid___A001_X133d_X3cf3  helpdesk ticket 16267  arrived 2026-11-24 23:21:20Z  request t16267-…
 * ```
 * Holders in the order they took their slot; "None waiting." when nobody waits.
 */
export function formatQueue(view: QueueView): string {
  const holders = [...view.holders].sort((a, b) => a.acquiredAt.localeCompare(b.acquiredAt));
  const lines = [
    `Staging slots: ${holders.length} of ${view.slots} in use`,
    ...alignColumns(
      holders.map((holder, index) => [
        `${index + 1}`,
        holder.mous,
        `helpdesk ticket ${holder.helpdeskTicket}`,
        `since ${readableTime(holder.acquiredAt)}`,
        `(lease until ${readableTime(holder.leaseUntil)})`,
        `request ${holder.requestId}`,
      ]),
    ),
  ];
  if (view.waiting.length === 0) {
    lines.push('None waiting.');
  } else {
    lines.push(
      'Waiting (oldest first):',
      ...alignColumns(
        view.waiting.map((entry) => [
          `${entry.position}`,
          entry.mous,
          `helpdesk ticket ${entry.helpdeskTicket}`,
          `arrived ${readableTime(entry.arrivedAt)}`,
          `request ${entry.requestId}`,
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `2026-11-24T23:21:06.123Z` → `2026-11-24 23:21:06Z`; anything else as it is. */
export function readableTime(iso: string): string {
  return iso.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/, '$1 $2Z');
}

/** Indented rows, two spaces between columns: the first (a number) right-aligned, the others left-aligned. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]!.length))) ?? [];
  return rows.map(
    (row) =>
      `  ${row
        .map((cell, column) => (column === 0 ? cell.padStart(widths[column]!) : column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')}`,
  );
}

/**
 * The stats sheet (`calms stats`): per month and overall, how many requests came, how they ended, how long
 * deliveries took, and how much data went out and was spared by re-use. Read only.
 */
import { isMonth, monthOf, type MonthRange, type Statistics, summarise } from '../domain/statistics';
import type { Logger } from '../log';
import type { StatisticsStore } from '../storage/StatisticsStore';
import type { TriggerStore } from '../storage/TriggerStore';
import { failed, ok, type OperationResult } from './results';

export interface StatisticsDeps {
  readonly statistics: StatisticsStore;
  /** The active triggers: requests still in work count too. */
  readonly triggers: TriggerStore;
  readonly now: () => Date;
  readonly log: Logger;
}

/** `GET /statistics?from=YYYY-MM&to=YYYY-MM`, both optional. */
export async function requestStatistics(deps: StatisticsDeps, query: MonthRange): Promise<OperationResult<Statistics>> {
  for (const field of ['from', 'to'] as const) {
    const value = query[field];
    if (value !== undefined && !isMonth(value)) {
      return failed(400, 'VALIDATION_ERROR', `${field} must be a month as YYYY-MM, e.g. 2026-11; got "${value}"`, field);
    }
  }
  if (query.from && query.to && query.from > query.to) {
    return failed(400, 'VALIDATION_ERROR', `to (${query.to}) must not be before from (${query.from})`, 'to');
  }
  const [records, triggers] = await Promise.all([deps.statistics.list(query), deps.triggers.listActive()]);
  return ok(summarise(records, triggers, { ...query, currentMonth: monthOf(deps.now().toISOString()) }));
}

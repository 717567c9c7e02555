import { monthOf, type MonthRange, type OutcomeRecord } from '../../../lib/domain/statistics';
import type { StatisticsStore } from '../../../lib/storage/StatisticsStore';
import { Failures } from './failures';

/** An in-memory `StatisticsStore`: the latest record of each request. */
export class InMemoryStatisticsStore implements StatisticsStore {
  readonly records = new Map<string, OutcomeRecord>();
  readonly failures = new Failures<'record' | 'list'>();

  async record(record: OutcomeRecord): Promise<void> {
    this.failures.check('record');
    this.records.set(record.requestId, record);
  }

  async list(range: MonthRange): Promise<OutcomeRecord[]> {
    this.failures.check('list');
    return [...this.records.values()].filter((record) => {
      const month = monthOf(record.requestedAt);
      return (!range.from || month >= range.from) && (!range.to || month <= range.to);
    });
  }
}

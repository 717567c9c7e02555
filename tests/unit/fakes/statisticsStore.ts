import { monthOf, type MonthRange, type OutcomeRecord, type RequestOutcome } from '../../../lib/domain/statistics';
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

/**
 * A request of the seed's ticket made at `requestedAt` that ended `seconds` later as `outcome`; re-used when
 * every byte delivered was copied.
 */
export function outcomeRecordOf(
  requestId: string,
  requestedAt: string,
  outcome: RequestOutcome,
  seconds = 60,
  bytes: { readonly delivered?: number; readonly reused?: number } = {},
): OutcomeRecord {
  const delivered = bytes.delivered ?? 0;
  const reused = bytes.reused ?? 0;
  return {
    requestId,
    helpdeskTicket: '16140',
    mous: 'uid___A001_X1296_X675',
    projectCode: '2017.1.00727.S',
    requestedAt,
    endedAt: new Date(Date.parse(requestedAt) + seconds * 1000).toISOString(),
    outcome,
    reused: delivered > 0 && reused === delivered,
    bytesDelivered: delivered,
    bytesReused: reused,
  };
}

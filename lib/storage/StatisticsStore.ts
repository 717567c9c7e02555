/**
 * The outcome of every request, for the stats sheet. Kept beyond the deliveries' retention, and one per
 * request: a request re-driven after a failure ends with its final outcome, and a retried step counts once.
 */
import type { MonthRange, OutcomeRecord } from '../domain/statistics';

/** The port. Implementations throw `StorageUnavailableError` when the store does not answer. */
export interface StatisticsStore {
  /** Records the request's outcome, replacing an earlier one of the same request. */
  record(record: OutcomeRecord): Promise<void>;
  /** The outcomes of the requests made in the range's months (UTC), both ends included. */
  list(range: MonthRange): Promise<OutcomeRecord[]>;
}

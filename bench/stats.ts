/** Figures of a latency measurement. */

/**
 * Nearest-rank percentile: the smallest sample such that at least `p` % of all samples are at most it. Always
 * one of the samples, never an interpolation, so a p95 of 240 ms means some request really took 240 ms.
 * @param p in (0, 100]; 100 gives the maximum.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Completed requests per second of wall-clock time. */
  readonly throughputPerSecond: number;
}

/** Summarises latencies of requests that together took `elapsedMs` of wall-clock time. */
export function summariseLatencies(latenciesMs: readonly number[], elapsedMs: number): LatencySummary {
  return {
    count: latenciesMs.length,
    p50Ms: percentile(latenciesMs, 50),
    p95Ms: percentile(latenciesMs, 95),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: percentile(latenciesMs, 100),
    throughputPerSecond: latenciesMs.length / (elapsedMs / 1000),
  };
}

/** Figures of the transfer benchmark: pure, so that what a verdict rests on is tested without a cloud. */

/** The middle sample (of an even count, the mean of the two middle ones). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Megabytes (10^6 bytes) per second. */
export function megabytesPerSecond(bytes: number, seconds: number): number {
  if (!(seconds > 0)) throw new RangeError(`a throughput needs a positive duration, got ${seconds} s`);
  return bytes / 1e6 / seconds;
}

/** getrusage's ru_maxrss (KiB on Linux) in megabytes (10^6 bytes). */
export const kibToMegabytes = (kib: number): number => (kib * 1024) / 1e6;

/**
 * How far apart two positive figures are, as a fraction of the smaller one: 0.1 means the larger is 10 %
 * above the smaller. Symmetric, and stricter than measuring against the larger.
 */
export function relativeSpread(a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`a relative spread needs positive figures, got ${a} and ${b}`);
  return Math.abs(a - b) / Math.min(a, b);
}

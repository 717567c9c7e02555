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

/**
 * The least time the streamed transfer's parts can take when each part fills in `fillSeconds` from the one tar
 * stream and uploads in `uploadSeconds` on a connection of its own, at most `partsInFlight` at a time: a part
 * starts filling once the one before it has gone up (the filler waits for room holding it), and goes up once it
 * is full and fewer than `partsInFlight` are uploading. Set-up and completion are left out. With few parts the
 * start (the first parts fill one after the other) and the end (the last ones upload) weigh heavily: what the
 * network targets can reach at a given size.
 */
export function bestStreamedSeconds(parts: number, fillSeconds: number, uploadSeconds: number, partsInFlight: number): number {
  if (!(parts >= 1 && partsInFlight >= 1)) throw new RangeError(`a schedule needs parts and parts in flight, got ${parts} and ${partsInFlight}`);
  const landed: number[] = [];
  let sentBefore = 0;
  for (let part = 0; part < parts; part++) {
    const full = sentBefore + fillSeconds;
    // Uploads all take as long, so they land in the order they went up: room once the one `partsInFlight` back has.
    const sent = part < partsInFlight ? full : Math.max(full, landed[part - partsInFlight]!);
    landed.push(sent + uploadSeconds);
    sentBefore = sent;
  }
  return Math.max(...landed);
}

/**
 * The least wall time of work that took `cpuSeconds` of CPU, spread over `cpus` CPUs with nothing else
 * running: no overlap of its processes can beat it.
 */
export function cpuBoundSeconds(cpuSeconds: number, cpus: number): number {
  if (!(cpus >= 1)) throw new RangeError(`a CPU bound needs at least one CPU, got ${cpus}`);
  return cpuSeconds / cpus;
}

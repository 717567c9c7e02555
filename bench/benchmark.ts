/** What a benchmark under `bench/` gives `bench/run.ts`, which starts the local cloud it runs against. */

export interface BenchmarkContext {
  /** Every setting of the running local cloud: `lib/config.ts` reads its endpoints and API key from it. */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted on Ctrl-C: stop sending work and reject. */
  readonly signal: AbortSignal;
}

/** A criterion checked in the run itself, e.g. `p95 < 250 ms`. */
export interface Target {
  readonly criterion: string;
  /** The figure the verdict rests on, as printed. */
  readonly measured: string;
  readonly met: boolean;
}

export interface BenchmarkReport {
  /** The figures, one row per workload, the baseline of the same run among them; cells already formatted. */
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** What a reader needs to judge the figures: the load, the baseline, the work left running in the background. */
  readonly notes: readonly string[];
  readonly targets: readonly Target[];
}

export interface Benchmark {
  /** What `npm run bench -- <name>` selects it by. */
  readonly name: string;
  readonly title: string;
  /**
   * Settings the local cloud must start with for this benchmark (e.g. the stand-in casa's output size), on
   * top of the bench cloud's ports and state directory; each benchmark gets a cloud of its own.
   */
  readonly cloudEnv?: Readonly<Record<string, string>>;
  /** false: it needs no local cloud (the CLI's start-up), and its context's `env` is empty. */
  readonly cloud?: false;
  run(context: BenchmarkContext): Promise<BenchmarkReport>;
}

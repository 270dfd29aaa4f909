/**
 * The settings of `npm run bench` (environment variables BENCH_*), the app's
 * health defaults it relies on, and the targets the table checks.
 */

/** A number from the environment; unset or empty gives `fallback`. */
export const envNumber = (name: string, fallback: number): number => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
};

export const SETTINGS = {
  connections: envNumber('BENCH_CONNECTIONS', 32),
  /** Measured seconds per endpoint and round, split over the slices. */
  durationSec: envNumber('BENCH_DURATION_SEC', 10),
  warmupSec: envNumber('BENCH_WARMUP_SEC', 2),
  slices: Math.max(1, envNumber('BENCH_SLICES', 5)),
  rounds: Math.max(2, envNumber('BENCH_ROUNDS', 5)),
  /** Boots in all (default rounds + 1: the first boot, on a fresh database and cold caches, only measures the boot). */
  boots: envNumber('BENCH_BOOTS', 0),
  /** How long a dependency stays SIGSTOPped in the fault figure. */
  pauseSec: envNumber('BENCH_PAUSE_SEC', 4),
  /** Seconds of the platform-jitter figure before and after the run; 0 skips it. */
  jitterSec: envNumber('BENCH_JITTER_SEC', 5),
  faultLoad: { connections: 4, rate: 1000 },
  pollIntervalMs: 20,
  bootPollIntervalMs: 10,
  /** BENCH_OBSERVABILITY=0 skips the logging/metrics cost. */
  observability: process.env.BENCH_OBSERVABILITY !== '0',
};
export type Settings = typeof SETTINGS;

/** The app's defaults (src/config/environment.ts), which the bench does not override. */
export const HEALTH_DEFAULTS = {
  intervalMs: 1000,
  failureIntervalMs: 500,
  checkTimeoutMs: 500,
  readinessBudgetMs: 800,
};

export const TARGETS = {
  // Probe req/s ÷ the trivial Nest controller's, in the same slices; below the minimum is a failure.
  throughputRatio: 0.85,
  throughputRatioMinimum: 0.6,
  // Readiness p99 ÷ the trivial Nest controller's p99, in the same slices.
  readinessP99Ratio: 1.5,
  callsPerCheckPerInterval: 1,
  pausedWorstMs: 1000,
  first503Ms: 1500,
  back200Ms: 1500,
  // Spawn → readiness 200 ÷ the trivial Nest app's spawn → first 200, boot by boot (median).
  bootReadyRatio: 2,
  // RSS ÷ the docs-style Terminus app's (bench/terminus-reference-app.ts), same flags, same run.
  rssIdleRatio: 1.1,
  rssAfterLoadRatio: 1.0,
};

/** A progress line on stderr (stdout carries the table). */
export const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

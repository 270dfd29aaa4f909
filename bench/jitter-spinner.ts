/**
 * One spinner of the platform-jitter figure (bench/jitter.ts): spins for
 * DURATION seconds reading a monotonic clock and counts the gaps between
 * consecutive reads (a gap is time the spinning thread did not run).
 *
 *   node dist-bench/bench/jitter-spinner.js DURATION_SEC   → one JSON line (JitterSample) on stdout
 *
 * `runQueueWaitMs` (from /proc/self/schedstat) is the part of the stalls
 * spent waiting behind other tasks of this machine; the rest is time the
 * virtual CPU itself did not run (the hypervisor's scheduling), which the
 * guest cannot see as steal time on every host.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** What one spinner prints. */
export interface JitterSample {
  seconds: number;
  /** Stalls per second at or above 0.5 / 1 / 2 / 5 ms. */
  stallsPerSec: { ['ge0.5ms']: number; ge1ms: number; ge2ms: number; ge5ms: number };
  worstMs: number;
  stalledPct: number;
  runQueueWaitMs: number | null;
}

const THRESHOLDS_MS = [0.5, 1, 2, 5] as const;
/** Gaps at or above this count as a stall (a clock read takes well under 1 µs). */
const STALL_MS = 0.05;

/** Nanoseconds this thread has waited on a run queue (second field of schedstat), or null. */
function runQueueWaitNs(): number | null {
  try {
    return Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);
  } catch {
    return null;
  }
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

function spin(durationMs: number): JitterSample {
  const waitedBefore = runQueueWaitNs();
  const counts = THRESHOLDS_MS.map(() => 0);
  let stalledMs = 0;
  let worstMs = 0;
  const start = performance.now();
  let last = start;
  for (;;) {
    const t = performance.now();
    const gap = t - last;
    last = t;
    if (t - start >= durationMs) break;
    if (gap < STALL_MS) continue;
    stalledMs += gap;
    if (gap > worstMs) worstMs = gap;
    for (let i = 0; i < THRESHOLDS_MS.length; i++) if (gap >= THRESHOLDS_MS[i]) counts[i]++;
  }
  const waitedAfter = runQueueWaitNs();
  const seconds = (last - start) / 1000;
  const perSec = (i: number): number => round(counts[i] / seconds, 2);
  return {
    seconds: round(seconds, 2),
    stallsPerSec: { 'ge0.5ms': perSec(0), ge1ms: perSec(1), ge2ms: perSec(2), ge5ms: perSec(3) },
    worstMs: round(worstMs, 2),
    stalledPct: round((stalledMs / (seconds * 1000)) * 100, 2),
    runQueueWaitMs: waitedBefore === null || waitedAfter === null ? null : round((waitedAfter - waitedBefore) / 1e6, 1),
  };
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(spin(Number(process.argv[2] ?? 5) * 1000))}\n`);
}

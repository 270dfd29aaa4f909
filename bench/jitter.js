'use strict';
/**
 * Platform jitter: how often, and for how long, this machine takes a CPU away
 * from a process that wants it. Spins for DURATION seconds reading a
 * monotonic clock and counts the gaps between consecutive reads (a gap is
 * time the spinning thread did not run). Run one per CPU, pinned
 * (support.js `platformJitter`), on an otherwise idle machine.
 *
 *   node bench/jitter.js DURATION_SEC   → one JSON line on stdout
 *
 * `runQueueWaitMs` (from /proc/self/schedstat) is the part of the stalls
 * spent waiting behind other tasks of this machine; the rest is time the
 * virtual CPU itself did not run (the hypervisor's scheduling), which the
 * guest cannot see as steal time on every host.
 *
 * Why it is in the bench: a record of how noisy the machine was on the day
 * of a run, so runs from different days can be compared. A stall of d ms on
 * the server's CPU adds d ms to every request in flight; what that does and
 * does not explain of the p99 under load is measured in docs/BENCHMARKS.md,
 * "Platform jitter, and what it does not explain".
 */
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');

const durationMs = Number(process.argv[2] ?? 5) * 1000;
const THRESHOLDS_MS = [0.5, 1, 2, 5];
/** Gaps at or above this count as a stall (a clock read takes well under 1 µs). */
const STALL_MS = 0.05;

/** Nanoseconds this thread has waited on a run queue (second field of schedstat), or null. */
function runQueueWaitNs() {
  try {
    return Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);
  } catch {
    return null;
  }
}

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
const round = (n, digits) => Math.round(n * 10 ** digits) / 10 ** digits;
process.stdout.write(
  `${JSON.stringify({
    seconds: round(seconds, 2),
    stallsPerSec: Object.fromEntries(THRESHOLDS_MS.map((ms, i) => [`ge${ms}ms`, round(counts[i] / seconds, 2)])),
    worstMs: round(worstMs, 2),
    stalledPct: round((stalledMs / (seconds * 1000)) * 100, 2),
    runQueueWaitMs: waitedBefore === null || waitedAfter === null ? null : round((waitedAfter - waitedBefore) / 1e6, 1),
  })}\n`,
);

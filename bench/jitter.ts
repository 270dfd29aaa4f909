/**
 * Platform jitter: how often, and for how long, this machine takes a CPU away
 * from a process that wants it. One spinner per CPU (bench/jitter-spinner.ts),
 * pinned with `taskset` when it is installed, all at once, on an otherwise
 * idle machine: `npm run bench` takes it before and after the run.
 *
 * Why it is in the bench: a record of how noisy the machine was on the day
 * of a run, so runs from different days can be compared. A stall of d ms on
 * the server's CPU adds d ms to every request in flight; what that does and
 * does not explain of the p99 under load is measured in docs/BENCHMARKS.md,
 * "Platform jitter, and what it does not explain".
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import type { JitterSample } from './jitter-spinner';
import { SCRIPTS_DIR } from './lib/paths';
import { runForJson } from './lib/processes';
import { log, SETTINGS } from './settings';

/** One CPU's spinner; `cpu` is null when the spinners were not pinned. */
export type JitterResult = { cpu: number | null } & JitterSample;

/**
 * Spins one process per CPU for `seconds`. Returns one result per CPU: stalls
 * per second at or above 0.5 / 1 / 2 / 5 ms, the worst stall, the share of
 * time stalled and how much of it was spent behind other tasks of this
 * machine (the rest is the host's). Run it only while nothing else of the
 * bench is running: the spinners take every CPU.
 */
export async function platformJitter(seconds: number): Promise<JitterResult[]> {
  const pin = spawnSync('taskset', ['-V']).error ? null : 'taskset';
  const script = join(SCRIPTS_DIR, 'jitter-spinner.js');
  const runs = os
    .cpus()
    .map((_, cpu) =>
      pin
        ? runForJson<JitterSample>(pin, ['-c', String(cpu), process.execPath, script, String(seconds)], 'jitter')
        : runForJson<JitterSample>(process.execPath, [script, String(seconds)], 'jitter'),
    );
  return (await Promise.all(runs)).map((result, cpu) => ({ cpu: pin ? cpu : null, ...result }));
}

/** The figure in `npm run bench` (BENCH_JITTER_SEC=0 skips it). */
export async function measureJitter(when: string): Promise<JitterResult[] | null> {
  if (SETTINGS.jitterSec <= 0) return null;
  log(`platform jitter ${when}: one spinner per CPU for ${SETTINGS.jitterSec} s`);
  return platformJitter(SETTINGS.jitterSec);
}

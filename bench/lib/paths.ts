import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The checkout's root: the nearest directory above this file with a package.json. The bench runs
 * compiled from dist-bench/bench/ (see tsconfig.bench.json), so a fixed number of `..` would
 * depend on where it was compiled to.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
/** bench/ in the checkout: wrk-report.lua and results/ live here. */
export const BENCH_DIR = join(ROOT, 'bench');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
/** The directory of the running (compiled) bench scripts, for the ones spawned as their own process. */
export const SCRIPTS_DIR = resolve(__dirname, '..');

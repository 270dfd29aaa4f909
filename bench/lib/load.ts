/**
 * Load generators as their own processes (wrk when installed, else
 * autocannon) and the interleaved slices every throughput figure is taken in.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, ROOT } from './paths';
import { runForJson } from './processes';
import { mean, median, mergeHistograms, percentileOfHistogram, round, roundOrNull, type Histogram } from './stats';
import { cpuMeter, type CpuWindow } from './system';

const AUTOCANNON_CLI = require.resolve('autocannon/autocannon.js', { paths: [ROOT] });
const WRK_REPORT = join(BENCH_DIR, 'wrk-report.lua');

export interface LoadGenerator {
  name: 'wrk' | 'autocannon';
  /** Name and version of the closed-loop generator in use. */
  version: string;
  /** autocannon's name and version (rate-limited runs always use it). */
  autocannon: string;
}

let chosen: LoadGenerator | undefined;
/**
 * The closed-loop load generator: `wrk` when it is on PATH (Debian package
 * `wrk`), else autocannon from devDependencies; BENCH_LOAD=wrk|autocannon
 * forces one. wrk is preferred: written in C, it drives the ceiling at the
 * same rate with ≈ 70 % of a core where autocannon needs all of one (a quarter
 * of its user time; the rest is the kernel's loopback work), and on 2 shared
 * cores every cycle the generator burns is taken from the server it measures.
 * It also reports latency in microseconds, autocannon in whole milliseconds.
 * Rate-limited runs (`rate`) always use autocannon: wrk has no fixed-rate mode.
 */
export function loadGenerator(): LoadGenerator {
  if (chosen) return chosen;
  const forced = process.env.BENCH_LOAD;
  if (forced && forced !== 'wrk' && forced !== 'autocannon')
    throw new Error(`BENCH_LOAD must be wrk or autocannon, not ${forced}`);
  // `wrk -v` prints its banner ("wrk debian/4.1.0-3+b2 [epoll] …") and exits non-zero.
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  const banner = probe.error ? '' : probe.stdout.split('\n')[0];
  const wrk = banner.startsWith('wrk') ? banner.split(' ').slice(0, 2).join(' ') : null;
  if (forced === 'wrk' && !wrk) throw new Error('BENCH_LOAD=wrk but wrk is not installed (apt-get install wrk)');
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as {
    version: string;
  };
  const autocannon = `autocannon ${version}`;
  const name = wrk && forced !== 'autocannon' ? 'wrk' : 'autocannon';
  chosen = { name, version: name === 'wrk' && wrk ? wrk : autocannon, autocannon };
  return chosen;
}

export interface LoadOptions {
  connections: number;
  durationSec: number;
  /** Requests per second over all connections (autocannon only). */
  rate?: number;
}

/** One load run, in one shape for both generators. Latencies in ms. */
export interface LoadRun {
  url: string;
  tool: 'wrk' | 'autocannon';
  connections: number;
  durationSec: number;
  requests: number;
  rps: number;
  latencyMs: { mean: number; p50: number | null; p99: number | null; max: number };
  /** By status code (autocannon); wrk counts only `<400` and `>=400`. */
  statusCodes: Record<string, number>;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** wrk only: the whole latency histogram, µs. */
  histogramUs?: Histogram;
}

/**
 * One closed-loop load run against `url` (see loadGenerator), as its own
 * process; a run with a `rate` always uses autocannon.
 */
export function cannon(url: string, options: LoadOptions): Promise<LoadRun> {
  return options.rate || loadGenerator().name === 'autocannon' ? autocannonRun(url, options) : wrkRun(url, options);
}

/** What `autocannon --json` prints (the fields read here). */
interface AutocannonJson {
  duration: number;
  requests: { total: number };
  latency: { mean: number; p50: number; p99: number; max: number };
  statusCodeStats?: Record<string, { count: number }>;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** autocannon (`autocannon.js --json`). Its latencies are whole milliseconds. */
async function autocannonRun(url: string, { connections, durationSec, rate }: LoadOptions): Promise<LoadRun> {
  const args = [AUTOCANNON_CLI, '-c', String(connections), '-d', String(durationSec), '-j', '-n'];
  if (rate) args.push('-R', String(rate));
  args.push(url);
  const raw = await runForJson<AutocannonJson>(process.execPath, args, 'autocannon');
  const seconds = raw.duration || durationSec;
  return {
    url,
    tool: 'autocannon',
    connections,
    durationSec: round(seconds, 2),
    requests: raw.requests.total,
    rps: round(raw.requests.total / seconds, 1),
    latencyMs: { mean: raw.latency.mean, p50: raw.latency.p50, p99: raw.latency.p99, max: raw.latency.max },
    statusCodes: Object.fromEntries(Object.entries(raw.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
    non2xx: raw.non2xx,
    errors: raw.errors,
    timeouts: raw.timeouts,
  };
}

/** What bench/wrk-report.lua prints. */
interface WrkJson {
  requests: number;
  durationUs: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; max: number; histogram: Histogram };
}

const usToMs = (us: number | null): number | null => (us === null ? null : round(us / 1000, 3));

/**
 * wrk, one thread (it keeps 32 connections busy with a fraction of a core),
 * with bench/wrk-report.lua printing its summary and latency histogram as JSON.
 * wrk counts statuses only as "≥ 400 or not", hence the two status keys.
 */
async function wrkRun(url: string, { connections, durationSec }: LoadOptions): Promise<LoadRun> {
  const args = ['-t1', '-c', String(connections), '-d', `${durationSec}s`, '-s', WRK_REPORT, url];
  const raw = await runForJson<WrkJson>('wrk', args, 'wrk');
  const seconds = raw.durationUs / 1e6;
  const histogramUs = raw.latencyUs.histogram;
  const failed = raw.errors.status;
  return {
    url,
    tool: 'wrk',
    connections,
    durationSec: round(seconds, 2),
    requests: raw.requests,
    rps: round(raw.requests / seconds, 1),
    latencyMs: {
      mean: round(raw.latencyUs.mean / 1000, 3),
      p50: usToMs(percentileOfHistogram(histogramUs, 50)),
      p99: usToMs(percentileOfHistogram(histogramUs, 99)),
      max: round(raw.latencyUs.max / 1000, 3),
    },
    statusCodes: failed ? { '<400': raw.requests - failed, '>=400': failed } : { '<400': raw.requests },
    non2xx: failed,
    errors: raw.errors.connect + raw.errors.read + raw.errors.write,
    timeouts: raw.errors.timeout,
    histogramUs,
  };
}

// ------------------------------------------------------------------ interleaved load

/** One target of interleaved(): `pid` is the server process whose CPU is measured. */
export interface LoadTarget {
  name: string;
  url: string;
  pid: number;
}

export interface InterleavedOptions {
  connections: number;
  warmupSec: number;
  /** Measured seconds per target, split over the slices. */
  durationSec: number;
  slices: number;
}

/** Latency over a target's slices; `of` says how the percentiles were taken. */
export interface AggregateLatency {
  p50: number | null;
  p99: number | null;
  max: number;
  of: string;
}

/** One target's aggregate over its slices. */
export interface TargetRun {
  url: string;
  requests: number;
  durationSec: number;
  rps: number;
  sliceRps: number[];
  latencyMs: AggregateLatency;
  sliceP99Ms: Array<number | null>;
  statusCodes: Record<string, number>;
  cpu: { serverCpuMs: number; serverUserMs: number; serverSysMs: number; foreignPct: number | null };
  serverCpuUsPerRequest: number;
  serverUserUsPerRequest: number;
  serverSysUsPerRequest: number;
}

type Slice = LoadRun & { cpu: CpuWindow };

/**
 * Interleaved load on several targets: one warm-up each, `between()`, then
 * `load.slices` cycles in which every target gets durationSec / slices
 * seconds in turn. The host's speed drifts from minute to minute (see
 * docs/BENCHMARKS.md, "Machine"); interleaving makes every target see the
 * same drift, and a ratio is taken per cycle, between slices seconds apart.
 * Returns, per target name, the aggregate over its slices (requests, req/s,
 * CPU per request, latency) and the req/s and p99 of each slice. Latency: with
 * wrk, percentiles of every request of every slice (merged histograms); with
 * autocannon, which gives no histogram, p50 = the median and p99 = the worst
 * of the slices' values.
 */
export async function interleaved<Name extends string>(
  targets: ReadonlyArray<LoadTarget & { name: Name }>,
  load: InterleavedOptions,
  between?: () => Promise<void>,
): Promise<Record<Name, TargetRun>> {
  for (const t of targets) await cannon(t.url, { connections: load.connections, durationSec: load.warmupSec });
  if (between) await between();
  const sliceSec = Math.max(1, Math.round(load.durationSec / load.slices));
  const slices = new Map<Name, Slice[]>(targets.map((t) => [t.name, []]));
  for (let cycle = 0; cycle < load.slices; cycle++) {
    for (const t of targets) {
      const meter = cpuMeter(t.pid);
      const run = await cannon(t.url, { connections: load.connections, durationSec: sliceSec });
      slices.get(t.name)?.push({ ...run, cpu: meter() });
    }
  }
  const result = {} as Record<Name, TargetRun>;
  for (const t of targets) {
    const runs = slices.get(t.name) ?? [];
    const requests = runs.reduce((a, r) => a + r.requests, 0);
    const seconds = runs.reduce((a, r) => a + r.durationSec, 0);
    const sum = (field: 'serverCpuMs' | 'serverUserMs' | 'serverSysMs'): number =>
      runs.reduce((a, r) => a + (r.cpu[field] ?? 0), 0);
    const perRequest = (ms: number): number => round((ms * 1000) / Math.max(requests, 1), 1);
    result[t.name] = {
      url: t.url,
      requests,
      durationSec: round(seconds, 2),
      rps: round(requests / seconds, 1),
      sliceRps: runs.map((r) => r.rps),
      latencyMs: aggregateLatency(runs),
      sliceP99Ms: runs.map((r) => r.latencyMs.p99),
      statusCodes: runs.reduce<Record<string, number>>((acc, r) => {
        for (const [code, n] of Object.entries(r.statusCodes)) acc[code] = (acc[code] ?? 0) + n;
        return acc;
      }, {}),
      cpu: {
        serverCpuMs: sum('serverCpuMs'),
        serverUserMs: sum('serverUserMs'),
        serverSysMs: sum('serverSysMs'),
        foreignPct: roundOrNull(mean(runs.map((r) => r.cpu.foreignPct ?? 0)), 0),
      },
      serverCpuUsPerRequest: perRequest(sum('serverCpuMs')),
      serverUserUsPerRequest: perRequest(sum('serverUserMs')),
      serverSysUsPerRequest: perRequest(sum('serverSysMs')),
    };
  }
  return result;
}

/** Latency over the slices of one target: exact percentiles when every slice has a histogram (wrk). */
function aggregateLatency(runs: readonly LoadRun[]): AggregateLatency {
  const max = Math.max(...runs.map((r) => r.latencyMs.max));
  const histograms = runs.flatMap((r) => (r.histogramUs ? [r.histogramUs] : []));
  if (histograms.length === runs.length) {
    const merged = mergeHistograms(histograms);
    return {
      p50: usToMs(percentileOfHistogram(merged, 50)),
      p99: usToMs(percentileOfHistogram(merged, 99)),
      max,
      of: 'all requests',
    };
  }
  const known = (values: Array<number | null>): number[] => values.filter((v): v is number => v !== null);
  return {
    p50: median(known(runs.map((r) => r.latencyMs.p50))),
    p99: Math.max(...known(runs.map((r) => r.latencyMs.p99))),
    max,
    of: 'slices: median p50, worst p99',
  };
}

/** Median over cycles of `target` req/s ÷ `base` req/s in the same cycle. */
export function pairedRatio(target: TargetRun, base: TargetRun): number {
  return round(median(target.sliceRps.map((rps, i) => rps / base.sliceRps[i])), 3);
}

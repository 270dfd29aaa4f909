/**
 * Throughput cost of logging and metrics.
 *
 * Starts the built app (NODE_ENV=production) once per variant, all four side
 * by side on one throwaway Redis:
 *
 *   variant        LOG_LEVEL  METRICS_ENABLED
 *   bare           silent     false            neither
 *   logs           info       false            JSON access line per request (probes excluded)
 *   metrics        silent     true             onResponse histogram hook + default process metrics
 *   logs+metrics   info       true             production default
 *
 * Requests: `GET /jobs/:id` of one existing job (a cheap jobs request, so the
 * relative cost is at its largest) and `GET /health/ready` (a probe: never
 * logged, so only the metrics hook applies).
 *
 * Method: `cycles` times, every variant is driven with autocannon for
 * `sliceSec`, in a shuffled order. A variant's cost is the median, over the
 * cycles, of its throughput relative to `bare` in the same cycle: pairing
 * slices that are seconds apart cancels most of the drift of a shared host.
 * The app's CPU time per request (Linux /proc) is reported too: it is the
 * steadier figure on a shared host. Stdout is a pipe that this process
 * drains, as under a container runtime; its byte count gives the log volume
 * per request.
 *
 * In `npm run bench`: observabilityRun(). As a library: benchObservability({ redisUrl }).
 * CLI (after `npm run bench:build`):
 *   node dist-bench/bench/observability.js [--redis-url URL] [--connections N] [--slice S] [--cycles N] [--json]
 * Without --redis-url it starts its own redis-server (the test harness's). PostgreSQL is not
 * needed (readiness then answers 503 from the snapshot: the same code path as 200). Build first.
 */
import autocannon from 'autocannon';
import { freePort } from '../test/support/ports';
import { startRedis, type RedisFixture } from '../test/support/redis-server';
import { parseArgs, runMain, stringArg } from './lib/cli';
import { waitFor200 } from './lib/http-probe';
import { spawnApp, type AppHandle } from './lib/processes';
import { median, round } from './lib/stats';
import { cpuTimeMs } from './lib/system';
import { log, SETTINGS } from './settings';

interface Variant {
  name: 'bare' | 'logs' | 'metrics' | 'logs+metrics';
  LOG_LEVEL: string;
  METRICS_ENABLED: string;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'bare', LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' },
  { name: 'logs', LOG_LEVEL: 'info', METRICS_ENABLED: 'false' },
  { name: 'metrics', LOG_LEVEL: 'silent', METRICS_ENABLED: 'true' },
  { name: 'logs+metrics', LOG_LEVEL: 'info', METRICS_ENABLED: 'true' },
];

type Endpoint = 'job' | 'probe';

/** One variant on one endpoint, over the cycles. */
export interface EndpointCost {
  /** Median req/s over the cycles. */
  requestsPerSec: number;
  p99Ms: number;
  /** Throughput lost against `bare`, in percent (median of per-cycle ratios; negative = noise). */
  costPct: number;
  /** Spread of the per-cycle costs (min..max), to judge the noise. */
  costRangePct: [number, number];
  /**
   * App CPU time per request (µs, median over cycles) and its excess over `bare`:
   * steadier than throughput on a shared host, since other processes' load
   * lengthens wall time but not the CPU a request needs.
   */
  cpuUsPerRequest: number | null;
  cpuCostUsPerRequest: number | null;
  /** Non-2xx answers and errors over every cycle. */
  bad: number;
}

export interface VariantResult extends Variant {
  job: EndpointCost & { logBytesPerRequest: number };
  probe: EndpointCost;
}

export interface ObservabilityResult {
  name: 'observability';
  connections: number;
  sliceSec: number;
  cycles: number;
  request: string;
  probe: string;
  variants: VariantResult[];
}

interface Drive {
  requests: number;
  requestsPerSec: number;
  cpuUsPerRequest: number | null;
  p99: number;
  bad: number;
}

/** Drives `url` for durationSec; with `pid`, also the app's CPU time per request (µs). */
async function drive(
  url: string,
  { connections, durationSec, pid }: { connections: number; durationSec: number; pid?: number },
): Promise<Drive> {
  const cpuBefore = pid ? cpuTimeMs(pid) : null;
  const result = await autocannon({ url, connections, duration: durationSec });
  const cpuAfter = pid ? cpuTimeMs(pid) : null;
  const requests = result.requests.total;
  return {
    requests,
    requestsPerSec: requests / (result.duration || durationSec),
    cpuUsPerRequest:
      cpuBefore !== null && cpuAfter !== null && requests > 0 ? ((cpuAfter - cpuBefore) * 1000) / requests : null,
    p99: result.latency.p99,
    bad: result.non2xx + result.errors,
  };
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Prepared {
  variant: Variant;
  app: AppHandle;
  urls: Record<Endpoint, string>;
}

/** Boots one variant (its output drained and counted), waits until it serves /jobs, creates the job its GET /jobs/:id reads. */
async function prepare(variant: Variant, redisUrl: string): Promise<Prepared> {
  const app = await spawnApp({
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: variant.LOG_LEVEL,
      METRICS_ENABLED: variant.METRICS_ENABLED,
      REDIS_URL: redisUrl,
      // No PostgreSQL: the jobs API does not use it.
      DATABASE_URL: `postgres://bench@127.0.0.1:${await freePort()}/bench`,
      SHUTDOWN_DRAIN_MS: '0',
    },
  });
  try {
    await waitFor200(`${app.baseUrl}/jobs?limit=1`, `the app (${variant.name}) to serve /jobs`);
    const created = await fetch(`${app.baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'bench.observability', payload: { n: 1 } }),
    });
    if (created.status !== 201) throw new Error(`POST /jobs answered ${created.status}`);
    const { id } = (await created.json()) as { id: string };
    return { variant, app, urls: { job: `${app.baseUrl}/jobs/${id}`, probe: `${app.baseUrl}/health/ready` } };
  } catch (error) {
    await app.stop();
    throw error;
  }
}

export interface ObservabilityOptions {
  /** Without one, a throwaway redis-server is started. */
  redisUrl?: string;
  connections?: number;
  sliceSec?: number;
  cycles?: number;
  warmupSec?: number;
}

/**
 * Measures every variant and reports its median throughput and its cost
 * relative to `bare` (median of per-cycle ratios).
 */
export async function benchObservability({
  redisUrl,
  connections = 50,
  sliceSec = 2,
  cycles = 5,
  warmupSec = 2,
}: ObservabilityOptions = {}): Promise<ObservabilityResult> {
  const own: RedisFixture | null = redisUrl ? null : await startRedis();
  const targets: Prepared[] = [];
  try {
    for (const variant of VARIANTS) targets.push(await prepare(variant, redisUrl ?? own?.url() ?? ''));
    for (const t of targets) await drive(t.urls.job, { connections, durationSec: warmupSec });

    type Row = Record<Variant['name'], Drive>;
    const slices: Record<Endpoint, Row[]> = { job: [], probe: [] };
    const logBytes = new Map(VARIANTS.map((v) => [v.name, { bytes: 0, requests: 0 }]));
    for (let cycle = 0; cycle < cycles; cycle++) {
      for (const endpoint of ['job', 'probe'] as const) {
        const row = {} as Row;
        for (const t of shuffle(targets)) {
          const before = t.app.output.bytes;
          row[t.variant.name] = await drive(t.urls[endpoint], { connections, durationSec: sliceSec, pid: t.app.pid });
          const counted = logBytes.get(t.variant.name);
          if (endpoint === 'job' && counted) {
            counted.bytes += t.app.output.bytes - before;
            counted.requests += row[t.variant.name].requests;
          }
        }
        slices[endpoint].push(row);
      }
    }

    const cpu = (rows: Row[], name: Variant['name']): number | null => {
      const values = rows.map((r) => r[name].cpuUsPerRequest);
      return values.every((v) => v !== null) ? round(median(values), 1) : null;
    };
    const summarize = (endpoint: Endpoint, name: Variant['name']): EndpointCost => {
      const rows = slices[endpoint];
      const costs = rows.map((r) => (1 - r[name].requestsPerSec / r.bare.requestsPerSec) * 100);
      const variantCpu = cpu(rows, name);
      const bareCpu = cpu(rows, 'bare');
      return {
        requestsPerSec: round(median(rows.map((r) => r[name].requestsPerSec)), 1),
        p99Ms: median(rows.map((r) => r[name].p99)),
        costPct: round(median(costs), 1),
        costRangePct: [round(Math.min(...costs), 1), round(Math.max(...costs), 1)],
        cpuUsPerRequest: variantCpu,
        cpuCostUsPerRequest: variantCpu === null || bareCpu === null ? null : round(variantCpu - bareCpu, 1),
        bad: rows.reduce((n, r) => n + r[name].bad, 0),
      };
    };
    const variants = VARIANTS.map(({ name, LOG_LEVEL, METRICS_ENABLED }): VariantResult => {
      const counted = logBytes.get(name) ?? { bytes: 0, requests: 0 };
      return {
        name,
        LOG_LEVEL,
        METRICS_ENABLED,
        job: { ...summarize('job', name), logBytesPerRequest: round(counted.bytes / Math.max(counted.requests, 1), 1) },
        probe: summarize('probe', name),
      };
    });
    return {
      name: 'observability',
      connections,
      sliceSec,
      cycles,
      request: 'GET /jobs/:id',
      probe: 'GET /health/ready',
      variants,
    };
  } finally {
    await Promise.all(targets.map((t) => t.app.stop()));
    await own?.stop();
  }
}

/** The figure in `npm run bench`: BENCH_OBSERVABILITY=0 skips it. */
export async function observabilityRun(redisUrl: string): Promise<ObservabilityResult | { skipped: string }> {
  if (!SETTINGS.observability) return { skipped: 'BENCH_OBSERVABILITY=0' };
  log('observability: bench/observability.ts (each variant boots its own app)');
  // Its own defaults for slices and cycles (it pairs short slices to cancel a shared host's drift).
  return benchObservability({ redisUrl, connections: SETTINGS.connections, warmupSec: SETTINGS.warmupSec });
}

// ---------------------------------------------------------------------------- CLI

function format(result: ObservabilityResult): string {
  const pad = (s: string | number | null, n: number): string => String(s).padEnd(n);
  const cost = (x: EndpointCost): string => `${x.costPct}% [${x.costRangePct[0]}..${x.costRangePct[1]}]`;
  const cpuCol = (x: EndpointCost): string =>
    x.cpuUsPerRequest === null ? 'n/a' : `${x.cpuUsPerRequest} (+${x.cpuCostUsPerRequest})`;
  const lines = [
    `observability bench: ${result.connections} connections, ${result.cycles} cycles of ${result.sliceSec} s slices per variant and request`,
    `  ${pad('variant', 14)}${pad('GET /jobs/:id req/s', 21)}${pad('cost [range]', 22)}${pad('CPU µs/req (+bare)', 20)}${pad('p99 ms', 8)}${pad('log B/req', 11)}${pad('GET /health/ready req/s', 25)}${pad('cost [range]', 22)}CPU µs/req (+bare)`,
  ];
  for (const v of result.variants) {
    lines.push(
      `  ${pad(v.name, 14)}${pad(v.job.requestsPerSec, 21)}${pad(cost(v.job), 22)}${pad(cpuCol(v.job), 20)}${pad(v.job.p99Ms, 8)}${pad(v.job.logBytesPerRequest, 11)}${pad(v.probe.requestsPerSec, 25)}${pad(cost(v.probe), 22)}${cpuCol(v.probe)}`,
    );
  }
  const bad = result.variants.filter((v) => v.job.bad > 0);
  if (bad.length > 0)
    lines.push(`  WARNING: non-2xx or errors on GET /jobs/:id in ${bad.map((v) => v.name).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const result = await benchObservability({
    redisUrl: stringArg(args, 'redisUrl'),
    connections: Number(stringArg(args, 'connections') ?? process.env.BENCH_CONNECTIONS ?? 50),
    sliceSec: Number(stringArg(args, 'slice') ?? 2),
    cycles: Number(stringArg(args, 'cycles') ?? 5),
  });
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : format(result));
}

if (require.main === module) runMain('observability bench', main);

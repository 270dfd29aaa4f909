'use strict';
/**
 * Throughput cost of logging and metrics.
 *
 * Starts the built app (`node dist/main.js`, NODE_ENV=production) once per
 * variant, all four side by side on one throwaway Redis:
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
 * Library: `const { benchObservability } = require('./bench/observability'); await benchObservability({ redisUrl })`.
 * CLI:     `node bench/observability.js [--redis-url URL] [--connections N] [--slice S] [--cycles N] [--json]`
 *          Without --redis-url it starts its own redis-server. PostgreSQL is not needed
 *          (readiness then answers 503 from the snapshot: the same code path as 200).
 *          Build first (`npx nest build`).
 */
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { freePort, median, waitUntil, stopChild } = require('./support');

const ROOT = join(__dirname, '..');
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every mainstream Linux). */
const CLOCK_TICKS = 100;

const VARIANTS = [
  { name: 'bare', LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' },
  { name: 'logs', LOG_LEVEL: 'info', METRICS_ENABLED: 'false' },
  { name: 'metrics', LOG_LEVEL: 'silent', METRICS_ENABLED: 'true' },
  { name: 'logs+metrics', LOG_LEVEL: 'info', METRICS_ENABLED: 'true' },
];

/** CPU time (user + system) the process `pid` has used, in ms; null where /proc is missing. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A throwaway redis-server on a free port. */
async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-obs-redis-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      () =>
        new Promise((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      10_000,
      'redis-server',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** The built app with `variant`'s settings; stdout/stderr are drained and counted. */
async function startApp(variant, redisUrl) {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js not found: run `npx nest build` first');
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: variant.LOG_LEVEL,
      METRICS_ENABLED: variant.METRICS_ENABLED,
      REDIS_URL: redisUrl,
      // No PostgreSQL: the jobs API does not use it.
      DATABASE_URL: `postgres://bench@127.0.0.1:${await freePort()}/bench`,
      SHUTDOWN_DRAIN_MS: '0',
    },
  });
  const counter = { bytes: 0 };
  child.stdout.on('data', (chunk) => (counter.bytes += chunk.length));
  child.stderr.on('data', (chunk) => (counter.bytes += chunk.length));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(
      async () => (await fetch(`${baseUrl}/jobs?limit=1`)).status === 200,
      20_000,
      `the app (${variant.name}) to serve /jobs`,
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { baseUrl, pid: child.pid, logBytes: () => counter.bytes, stop: () => stopChild(child) };
}

/** Drives `url` for durationSec; with `pid`, also the app's CPU time per request (µs). */
async function drive(url, { connections, durationSec, pid }) {
  const cpuBefore = pid ? cpuMs(pid) : null;
  const result = await autocannon({ url, connections, duration: durationSec });
  const cpuAfter = pid ? cpuMs(pid) : null;
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

function shuffle(items) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Boots one variant and creates the job its GET /jobs/:id reads. */
async function prepare(variant, redisUrl) {
  const app = await startApp(variant, redisUrl);
  try {
    const created = await fetch(`${app.baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'bench.observability', payload: { n: 1 } }),
    });
    if (created.status !== 201) throw new Error(`POST /jobs answered ${created.status}`);
    const { id } = await created.json();
    return { variant, app, urls: { job: `${app.baseUrl}/jobs/${id}`, probe: `${app.baseUrl}/health/ready` } };
  } catch (error) {
    await app.stop();
    throw error;
  }
}

/**
 * Measures every variant and reports its median throughput and its cost
 * relative to `bare` (median of per-cycle ratios).
 * @param {{ redisUrl?: string, connections?: number, sliceSec?: number, cycles?: number, warmupSec?: number }} options
 */
async function benchObservability({ redisUrl, connections = 50, sliceSec = 2, cycles = 5, warmupSec = 2 } = {}) {
  const own = redisUrl ? null : await startRedis();
  const targets = [];
  try {
    for (const variant of VARIANTS) targets.push(await prepare(variant, redisUrl ?? own.url));
    for (const t of targets) await drive(t.urls.job, { connections, durationSec: warmupSec });

    const slices = { job: [], probe: [] }; // per cycle: { [variant]: result }
    const logBytes = Object.fromEntries(VARIANTS.map((v) => [v.name, { bytes: 0, requests: 0 }]));
    for (let cycle = 0; cycle < cycles; cycle++) {
      for (const endpoint of ['job', 'probe']) {
        const row = {};
        for (const t of shuffle(targets)) {
          const before = t.app.logBytes();
          row[t.variant.name] = await drive(t.urls[endpoint], { connections, durationSec: sliceSec, pid: t.app.pid });
          if (endpoint === 'job') {
            logBytes[t.variant.name].bytes += t.app.logBytes() - before;
            logBytes[t.variant.name].requests += row[t.variant.name].requests;
          }
        }
        slices[endpoint].push(row);
      }
    }

    const cpu = (rows, name) =>
      rows.every((r) => r[name].cpuUsPerRequest !== null)
        ? round(median(rows.map((r) => r[name].cpuUsPerRequest)))
        : null;
    const summarize = (endpoint, name) => {
      const rows = slices[endpoint];
      return {
        requestsPerSec: round(median(rows.map((r) => r[name].requestsPerSec))),
        p99Ms: median(rows.map((r) => r[name].p99)),
        /** Throughput lost against `bare`, in percent (median of per-cycle ratios; negative = noise). */
        costPct: round(median(rows.map((r) => (1 - r[name].requestsPerSec / r.bare.requestsPerSec) * 100))),
        /** Spread of the per-cycle costs (min..max), to judge the noise. */
        costRangePct: [
          round(Math.min(...rows.map((r) => (1 - r[name].requestsPerSec / r.bare.requestsPerSec) * 100))),
          round(Math.max(...rows.map((r) => (1 - r[name].requestsPerSec / r.bare.requestsPerSec) * 100))),
        ],
        /**
         * App CPU time per request (µs, median over cycles) and its excess over `bare`:
         * steadier than throughput on a shared host, since other processes' load
         * lengthens wall time but not the CPU a request needs.
         */
        cpuUsPerRequest: cpu(rows, name),
        cpuCostUsPerRequest:
          cpu(rows, name) === null || cpu(rows, 'bare') === null ? null : round(cpu(rows, name) - cpu(rows, 'bare')),
        bad: rows.reduce((n, r) => n + r[name].bad, 0),
      };
    };
    const variants = VARIANTS.map(({ name, LOG_LEVEL, METRICS_ENABLED }) => ({
      name,
      LOG_LEVEL,
      METRICS_ENABLED,
      job: {
        ...summarize('job', name),
        logBytesPerRequest: round(logBytes[name].bytes / Math.max(logBytes[name].requests, 1)),
      },
      probe: summarize('probe', name),
    }));
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
    if (own) await own.stop();
  }
}

// ---------------------------------------------------------------------------- CLI

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') out.json = true;
    else if (arg.startsWith('--')) out[arg.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[++i];
  }
  return out;
}

function format(result) {
  const pad = (s, n) => String(s).padEnd(n);
  const cost = (x) => `${x.costPct}% [${x.costRangePct[0]}..${x.costRangePct[1]}]`;
  const cpuCol = (x) => (x.cpuUsPerRequest === null ? 'n/a' : `${x.cpuUsPerRequest} (+${x.cpuCostUsPerRequest})`);
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

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const result = await benchObservability({
    redisUrl: args.redisUrl,
    connections: Number(args.connections ?? process.env.BENCH_CONNECTIONS ?? 50),
    sliceSec: Number(args.slice ?? 2),
    cycles: Number(args.cycles ?? 5),
  });
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : format(result));
}

module.exports = { benchObservability, VARIANTS };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

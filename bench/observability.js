'use strict';
/**
 * Throughput cost of logging and metrics (issue 7's closing note).
 *
 * Starts the built app (`node dist/main.js`, NODE_ENV=production) once per
 * variant and drives the same requests against each with autocannon:
 *
 *   variant        LOG_LEVEL  METRICS_ENABLED
 *   bare           silent     false            neither
 *   logs           info       false            JSON access line per request (probes excluded)
 *   metrics        silent     true             onResponse histogram hook + default process metrics
 *   logs+metrics   info       true             production default
 *
 * Requests: `GET /jobs/:id` of one existing job (a cheap jobs request, so the
 * relative cost is at its largest) and `GET /health/ready` (a probe: never
 * logged, so only the metrics hook applies). Stdout is a pipe that this
 * process drains, as under a container runtime; its byte count gives the log
 * volume per request. Variants run interleaved, `rounds` times; the median
 * round is reported. Compare runs from the same idle host only.
 *
 * Library: `const { benchObservability } = require('./bench/observability'); await benchObservability({ redisUrl })`.
 * CLI:     `node bench/observability.js [--redis-url URL] [--connections N] [--duration S] [--rounds R] [--json]`
 *          Without --redis-url it starts its own redis-server. PostgreSQL is not needed
 *          (readiness then answers 503 from the snapshot: the same code path as 200).
 *          Build first (`npx nest build`).
 */
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const autocannon = require('autocannon');

const ROOT = join(__dirname, '..');

const VARIANTS = [
  { name: 'bare', LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' },
  { name: 'logs', LOG_LEVEL: 'info', METRICS_ENABLED: 'false' },
  { name: 'metrics', LOG_LEVEL: 'silent', METRICS_ENABLED: 'true' },
  { name: 'logs+metrics', LOG_LEVEL: 'info', METRICS_ENABLED: 'true' },
];

const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A throwaway redis-server on a free port. */
async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-obs-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
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
    await waitUntil(async () => (await fetch(`${baseUrl}/jobs?limit=1`)).status === 200, 20_000, `the app (${variant.name}) to serve /jobs`);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { baseUrl, logBytes: () => counter.bytes, stop: () => stopChild(child) };
}

async function drive(url, { connections, durationSec }) {
  const result = await autocannon({ url, connections, duration: durationSec });
  return {
    requests: result.requests.total,
    requestsPerSec: round(result.requests.total / (result.duration || durationSec)),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** One variant: boot, create a job, warm up, then measure both endpoints. */
async function runVariant(variant, { redisUrl, connections, durationSec, warmupSec }) {
  const app = await startApp(variant, redisUrl);
  try {
    const created = await fetch(`${app.baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'bench.observability', payload: { n: 1 } }),
    });
    if (created.status !== 201) throw new Error(`POST /jobs answered ${created.status}`);
    const { id } = await created.json();
    const job = `${app.baseUrl}/jobs/${id}`;
    await drive(job, { connections, durationSec: warmupSec });
    const bytesBefore = app.logBytes();
    const jobResult = await drive(job, { connections, durationSec });
    const logBytesPerRequest = round((app.logBytes() - bytesBefore) / Math.max(jobResult.requests, 1));
    const probeResult = await drive(`${app.baseUrl}/health/ready`, { connections, durationSec });
    return { job: { ...jobResult, logBytesPerRequest }, probe: probeResult };
  } finally {
    await app.stop();
  }
}

/**
 * Measures every variant `rounds` times (interleaved) and reports, per
 * variant, the median round and its cost relative to `bare`.
 * @param {{ redisUrl?: string, connections?: number, durationSec?: number, warmupSec?: number, rounds?: number }} options
 */
async function benchObservability({ redisUrl, connections = 50, durationSec = 10, warmupSec = 2, rounds = 1 } = {}) {
  const own = redisUrl ? null : await startRedis();
  const url = redisUrl ?? own.url;
  const runs = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const variant of VARIANTS) runs[variant.name].push(await runVariant(variant, { redisUrl: url, connections, durationSec, warmupSec }));
    }
  } finally {
    if (own) await own.stop();
  }
  const pick = (name, key) => {
    const results = runs[name];
    const m = median(results.map((x) => x[key].requestsPerSec));
    return results.find((x) => x[key].requestsPerSec === m)[key];
  };
  const bare = { job: pick('bare', 'job'), probe: pick('bare', 'probe') };
  const costPct = (value, base) => (base > 0 ? round((1 - value / base) * 100) : null);
  const variants = VARIANTS.map(({ name, LOG_LEVEL, METRICS_ENABLED }) => {
    const job = pick(name, 'job');
    const probe = pick(name, 'probe');
    return {
      name,
      LOG_LEVEL,
      METRICS_ENABLED,
      job,
      probe,
      /** Throughput lost against `bare`, in percent (negative: faster, i.e. noise). */
      jobCostPct: costPct(job.requestsPerSec, bare.job.requestsPerSec),
      probeCostPct: costPct(probe.requestsPerSec, bare.probe.requestsPerSec),
    };
  });
  return { name: 'observability', connections, durationSec, rounds, request: 'GET /jobs/:id', probe: 'GET /health/ready', variants };
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
  const lines = [
    `observability bench: ${result.connections} connections, ${result.durationSec} s per measurement, median of ${result.rounds} round(s)`,
    `  ${pad('variant', 14)}${pad('GET /jobs/:id req/s', 21)}${pad('cost', 9)}${pad('p99 ms', 8)}${pad('log B/req', 11)}${pad('GET /health/ready req/s', 25)}cost`,
  ];
  for (const v of result.variants) {
    lines.push(
      `  ${pad(v.name, 14)}${pad(v.job.requestsPerSec, 21)}${pad(`${v.jobCostPct}%`, 9)}${pad(v.job.latencyMs.p99, 8)}${pad(v.job.logBytesPerRequest, 11)}${pad(v.probe.requestsPerSec, 25)}${v.probeCostPct}%`,
    );
  }
  const bad = result.variants.filter((v) => v.job.non2xx > 0 || v.job.errors > 0);
  if (bad.length > 0) lines.push(`  WARNING: non-2xx or errors in ${bad.map((v) => v.name).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const result = await benchObservability({
    redisUrl: args.redisUrl,
    connections: Number(args.connections ?? process.env.BENCH_CONNECTIONS ?? 50),
    durationSec: Number(args.duration ?? process.env.BENCH_DURATION_SEC ?? 10),
    rounds: Number(args.rounds ?? process.env.BENCH_ROUNDS ?? 1),
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

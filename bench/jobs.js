'use strict';
/**
 * Jobs API throughput against raw Redis, in the same run.
 *
 *   1. API:   every autocannon connection loops POST /jobs → GET /jobs/:id (the id from the POST).
 *   2. Redis: as many concurrent loops on one ioredis client doing SET → GET of a
 *             job-sized JSON value, on the same Redis, for the same duration.
 *
 * The ratio says what HTTP, validation, JSON and the Lua script (index + history)
 * cost over the bare round trips. Both phases share the machine with Redis and the
 * app, so run it on an otherwise idle host and compare runs from the same host only.
 *
 * Library: `const { benchJobs } = require('./bench/jobs'); await benchJobs({ baseUrl, redisUrl })`.
 * CLI:     `node bench/jobs.js [--base-url URL --redis-url URL] [--connections N] [--duration S] [--json]`
 *          Without --base-url/--redis-url it starts its own redis-server and `node dist/main.js`
 *          (build first) on free ports and stops them afterwards.
 *
 * The API phase leaves its jobs behind (pending jobs do not expire): point it at a
 * throwaway Redis, a spare DB or a bench-only JOBS_KEY_PREFIX. Raw keys expire after 60 s.
 */
const autocannon = require('autocannon');
const { freePort, waitUntil } = require('./support');
const Redis = require('ioredis');

const PAYLOAD = { reportId: 42, pages: [1, 2, 3], owner: 'bench', note: 'x'.repeat(64) };

/** p-th percentile (0..100) of an ascending array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Phase 1: POST /jobs then GET /jobs/:id on each connection, for durationSec. */
async function benchApi({ baseUrl, connections, durationSec }) {
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration: durationSec,
    requests: [
      {
        method: 'POST',
        path: '/jobs',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'bench', payload: PAYLOAD }),
        onResponse: (status, body, context) => {
          context.id = status === 201 ? JSON.parse(body).id : undefined;
        },
      },
      {
        method: 'GET',
        setupRequest: (request, context) => ({ ...request, path: `/jobs/${context.id}` }),
      },
    ],
  });
  const seconds = result.duration || durationSec;
  return {
    requests: result.requests.total,
    requestsPerSec: round(result.requests.total / seconds, 1),
    pairsPerSec: round(result.requests.total / 2 / seconds, 1),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Phase 2: `connections` concurrent SET → GET loops on one ioredis client, for durationSec. */
async function benchRedis({ redisUrl, connections, durationSec }) {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const value = JSON.stringify({
    id: '00000000-0000-4000-8000-000000000000',
    type: 'bench',
    status: 'pending',
    payload: PAYLOAD,
  });
  const samples = [];
  let errors = 0;
  try {
    await client.ping();
    const deadline = Date.now() + durationSec * 1000;
    const loop = async (worker) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const key = `bench:raw:${worker}:${i % 1000}`;
        const start = process.hrtime.bigint();
        try {
          await client.set(key, value, 'EX', 60);
          await client.get(key);
          samples.push(Number(process.hrtime.bigint() - start) / 1e6);
        } catch {
          errors++;
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: connections }, (_, worker) => loop(worker)));
    const seconds = (Date.now() - started) / 1000;
    samples.sort((a, b) => a - b);
    return {
      pairs: samples.length,
      pairsPerSec: round(samples.length / seconds, 1),
      opsPerSec: round((samples.length * 2) / seconds, 1),
      latencyMs: {
        p50: round(percentile(samples, 50), 3),
        p99: round(percentile(samples, 99), 3),
        max: round(samples.at(-1) ?? 0, 3),
      },
      errors,
    };
  } finally {
    client.disconnect();
  }
}

/**
 * Measures create+get through the API and raw SET+GET on the same Redis.
 * @param {{ baseUrl: string, redisUrl: string, connections?: number, durationSec?: number }} options
 */
async function benchJobs({ baseUrl, redisUrl, connections = 50, durationSec = 10 }) {
  const api = await benchApi({ baseUrl, connections, durationSec });
  const redis = await benchRedis({ redisUrl, connections, durationSec });
  return {
    name: 'jobs',
    connections,
    durationSec,
    api,
    redis,
    /** Fraction of raw Redis pair throughput the API reaches (create+get vs SET+GET). */
    apiToRedisRatio: redis.pairsPerSec > 0 ? round(api.pairsPerSec / redis.pairsPerSec, 3) : null,
  };
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

/** Starts redis-server and the built app on free ports; returns their URLs and a stop(). */
async function startOwnStack() {
  const { spawn } = require('node:child_process');
  const { mkdtempSync, rmSync, existsSync } = require('node:fs');
  const { join } = require('node:path');
  const { tmpdir } = require('node:os');
  const root = join(__dirname, '..');
  if (!existsSync(join(root, 'dist', 'main.js'))) throw new Error('dist/main.js not found: run `npx nest build` first');
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const redisPort = await freePort();
  const appPort = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const redisUrl = `redis://127.0.0.1:${redisPort}/0`;
  const app = spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(appPort),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      // No PostgreSQL: the jobs API does not use it (readiness stays 503, which the bench ignores).
      DATABASE_URL: `postgres://bench@127.0.0.1:${await freePort()}/bench`,
      SHUTDOWN_DRAIN_MS: '0',
    },
  });
  let appOutput = '';
  for (const stream of [app.stdout, app.stderr])
    stream.on('data', (chunk) => (appOutput = (appOutput + chunk).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${appPort}`;
  const stop = async () => {
    for (const child of [app, redis]) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      [app, redis].map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null,
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      async () => (await fetch(`${baseUrl}/jobs?limit=1`)).status === 200,
      20_000,
      'the app to serve /jobs',
    );
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- app output ---\n${appOutput}`);
  }
  return { baseUrl, redisUrl, stop };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const connections = Number(args.connections ?? process.env.BENCH_CONNECTIONS ?? 50);
  const durationSec = Number(args.duration ?? process.env.BENCH_DURATION_SEC ?? 10);
  const own = args.baseUrl && args.redisUrl ? null : await startOwnStack();
  try {
    const result = await benchJobs({
      baseUrl: args.baseUrl ?? own.baseUrl,
      redisUrl: args.redisUrl ?? own.redisUrl,
      connections,
      durationSec,
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const { api, redis } = result;
      process.stdout.write(
        [
          `jobs bench: ${connections} connections, ${durationSec} s per phase`,
          `  API   POST /jobs + GET /jobs/:id : ${api.pairsPerSec} pairs/s (${api.requestsPerSec} req/s), p50 ${api.latencyMs.p50} ms, p99 ${api.latencyMs.p99} ms, non-2xx ${api.non2xx}, errors ${api.errors}`,
          `  Redis SET + GET (ioredis)        : ${redis.pairsPerSec} pairs/s (${redis.opsPerSec} ops/s), p50 ${redis.latencyMs.p50} ms, p99 ${redis.latencyMs.p99} ms, errors ${redis.errors}`,
          `  API / raw Redis                  : ${result.apiToRedisRatio}`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    if (own) await own.stop();
  }
}

module.exports = { benchJobs, benchApi, benchRedis };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

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
 * In `npm run bench`: jobsRuns() against the app under test. As a library: benchJobs({ baseUrl, redisUrl }).
 * CLI (after `npm run bench:build`):
 *   node dist-bench/bench/jobs.js [--base-url URL --redis-url URL] [--connections N] [--duration S] [--json]
 * Without --base-url/--redis-url it starts its own redis-server (the test harness's) and the
 * built app (build first) on free ports and stops them afterwards.
 *
 * The API phase leaves its jobs behind (pending jobs do not expire): point it at a
 * throwaway Redis, a spare DB or a bench-only JOBS_KEY_PREFIX. Raw keys expire after 60 s.
 */
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { freePort } from '../test/support/ports';
import { startRedis } from '../test/support/redis-server';
import { parseArgs, runMain, stringArg } from './lib/cli';
import { waitFor200 } from './lib/http-probe';
import { spawnApp, type AppHandle } from './lib/processes';
import { percentileOfSorted, round } from './lib/stats';
import { log, SETTINGS } from './settings';

const PAYLOAD = { reportId: 42, pages: [1, 2, 3], owner: 'bench', note: 'x'.repeat(64) };

export interface JobsApiResult {
  requests: number;
  requestsPerSec: number;
  pairsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface RawRedisResult {
  pairs: number;
  pairsPerSec: number;
  opsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  errors: number;
}

export interface JobsResult {
  name: 'jobs';
  connections: number;
  durationSec: number;
  api: JobsApiResult;
  redis: RawRedisResult;
  /** Fraction of raw Redis pair throughput the API reaches (create+get vs SET+GET). */
  apiToRedisRatio: number | null;
}

interface PhaseOptions {
  connections: number;
  durationSec: number;
}

/** Phase 1: POST /jobs then GET /jobs/:id on each connection, for durationSec. */
export async function benchApi({
  baseUrl,
  connections,
  durationSec,
}: PhaseOptions & { baseUrl: string }): Promise<JobsApiResult> {
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
          context.id = status === 201 ? (JSON.parse(body) as { id: string }).id : undefined;
        },
      },
      {
        method: 'GET',
        setupRequest: (request, context) => ({ ...request, path: `/jobs/${String(context.id)}` }),
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
export async function benchRedis({
  redisUrl,
  connections,
  durationSec,
}: PhaseOptions & { redisUrl: string }): Promise<RawRedisResult> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const value = JSON.stringify({
    id: '00000000-0000-4000-8000-000000000000',
    type: 'bench',
    status: 'pending',
    payload: PAYLOAD,
  });
  const samples: number[] = [];
  let errors = 0;
  try {
    await client.ping();
    const deadline = Date.now() + durationSec * 1000;
    const loop = async (worker: number): Promise<void> => {
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
        p50: round(percentileOfSorted(samples, 50) ?? 0, 3),
        p99: round(percentileOfSorted(samples, 99) ?? 0, 3),
        max: round(samples.at(-1) ?? 0, 3),
      },
      errors,
    };
  } finally {
    client.disconnect();
  }
}

/** Measures create+get through the API and raw SET+GET on the same Redis. */
export async function benchJobs({
  baseUrl,
  redisUrl,
  connections = 50,
  durationSec = 10,
}: {
  baseUrl: string;
  redisUrl: string;
  connections?: number;
  durationSec?: number;
}): Promise<JobsResult> {
  const api = await benchApi({ baseUrl, connections, durationSec });
  const redis = await benchRedis({ redisUrl, connections, durationSec });
  return {
    name: 'jobs',
    connections,
    durationSec,
    api,
    redis,
    apiToRedisRatio: redis.pairsPerSec > 0 ? round(api.pairsPerSec / redis.pairsPerSec, 3) : null,
  };
}

/** Figure 5 of `npm run bench`: a discarded warm-up, then BENCH_ROUNDS runs against the app under test. */
export async function jobsRuns(app: AppHandle, redisUrl: string): Promise<JobsResult[]> {
  const options = { baseUrl: app.baseUrl, redisUrl, connections: SETTINGS.connections };
  await benchJobs({ ...options, durationSec: SETTINGS.warmupSec });
  const runs: JobsResult[] = [];
  for (let i = 0; i < SETTINGS.rounds; i++) {
    const result = await benchJobs({ ...options, durationSec: SETTINGS.durationSec });
    log(
      `jobs ${i + 1}: API ${result.api.pairsPerSec} pairs/s vs Redis ${result.redis.pairsPerSec} pairs/s (${result.apiToRedisRatio})`,
    );
    runs.push(result);
  }
  return runs;
}

// ---------------------------------------------------------------------------- CLI

/** A throwaway redis-server and the built app on free ports; their URLs and one stop(). */
async function startOwnStack(): Promise<{ baseUrl: string; redisUrl: string; stop(): Promise<void> }> {
  const redis = await startRedis();
  let app: AppHandle | undefined;
  const stop = async (): Promise<void> => {
    await app?.stop();
    await redis.stop();
  };
  try {
    app = await spawnApp({
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        REDIS_URL: redis.url(),
        // No PostgreSQL: the jobs API does not use it (readiness stays 503, which the bench ignores).
        DATABASE_URL: `postgres://bench@127.0.0.1:${await freePort()}/bench`,
        SHUTDOWN_DRAIN_MS: '0',
      },
    });
    const { baseUrl } = app;
    await waitFor200(`${baseUrl}/jobs?limit=1`, 'the app to serve /jobs');
    return { baseUrl, redisUrl: redis.url(), stop };
  } catch (error) {
    const output = app?.output.tail() ?? '';
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- app output ---\n${output}`, {
      cause: error,
    });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const connections = Number(stringArg(args, 'connections') ?? process.env.BENCH_CONNECTIONS ?? 50);
  const durationSec = Number(stringArg(args, 'duration') ?? process.env.BENCH_DURATION_SEC ?? 10);
  const given = { baseUrl: stringArg(args, 'baseUrl'), redisUrl: stringArg(args, 'redisUrl') };
  const own = given.baseUrl && given.redisUrl ? null : await startOwnStack();
  try {
    const result = await benchJobs({
      baseUrl: own?.baseUrl ?? given.baseUrl ?? '',
      redisUrl: own?.redisUrl ?? given.redisUrl ?? '',
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
    await own?.stop();
  }
}

if (require.main === module) runMain('jobs bench', main);

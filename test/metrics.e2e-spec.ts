/**
 * GET /metrics on the built app with real Redis and PostgreSQL: the series
 * and their values when healthy, after Redis dies, and while PostgreSQL is
 * frozen (the scrape reads state, it never waits on a dependency).
 */
import { randomUUID } from 'node:crypto';
import { ensureBuilt, startApp, type AppProcess } from './support/app-process';
import { startPostgres, type PostgresFixture } from './support/postgres-server';
import { startRedis, type RedisFixture } from './support/redis-server';
import { waitFor } from './support/wait';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (0.0.4) into samples; comments are skipped. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(app: AppProcess): Promise<Sample[]> {
  const response = await fetch(app.url('/metrics'));
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** The value of the one sample of `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

describe('metrics (built app, real Redis and PostgreSQL)', () => {
  let redis: RedisFixture;
  let pg: PostgresFixture;
  let app: AppProcess;
  const startedAtSeconds = Date.now() / 1000;

  beforeAll(async () => {
    ensureBuilt();
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    app = await startApp({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url(0),
      DATABASE_URL: pg.url(),
      SHUTDOWN_DRAIN_MS: '0',
    });
    await waitFor(async () => (await fetch(app.url('/health/ready'))).status === 200, {
      timeoutMs: 10_000,
      description: 'readiness 200',
    });
  });

  afterAll(async () => {
    await app?.stop();
    await Promise.all([redis?.stop(), pg?.destroy()]);
  });

  it('serves the Prometheus text format with the default process metrics', async () => {
    const response = await fetch(app.url('/metrics'));
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await response.text());
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toBeDefined();
  });

  it('reports healthy checks, a connected Redis client and an open pool', async () => {
    const samples = await scrape(app);
    expect(valueOf(samples, 'health_check_status', { check: 'db' })).toBe(1);
    expect(valueOf(samples, 'health_check_status', { check: 'redis' })).toBe(1);
    expect(valueOf(samples, 'health_check_duration_seconds', { check: 'redis' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'health_check_duration_seconds', { check: 'redis' })).toBeLessThan(1);
    const changedAt = valueOf(samples, 'health_check_last_change_timestamp_seconds', { check: 'db' }) ?? 0;
    expect(changedAt).toBeGreaterThanOrEqual(Math.floor(startedAtSeconds));
    expect(changedAt).toBeLessThanOrEqual(Date.now() / 1000);
    expect(valueOf(samples, 'redis_client_connected', { client: 'default' })).toBe(1);
    expect(valueOf(samples, 'db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'db_pool_connections', { state: 'waiting' })).toBe(0);
  });

  it('labels request durations by route template and status, never by raw path', async () => {
    const id = randomUUID();
    await (await fetch(app.url('/health/ready'))).arrayBuffer();
    await (await fetch(app.url(`/jobs/${id}`))).arrayBuffer();
    await (await fetch(app.url(`/no/such/path/${id}`))).arrayBuffer();

    const samples = (await scrape(app)).filter((s) => s.name.startsWith('http_request_duration_seconds'));
    const count = (route: string, status: string): number | undefined =>
      valueOf(samples, 'http_request_duration_seconds_count', { method: 'GET', route, status_code: status });
    expect(count('/health/ready', '200')).toBeGreaterThanOrEqual(1);
    expect(count('/jobs/:id', '404')).toBe(1);
    expect(count('unmatched', '404')).toBe(1);
    const rawPathLabels = samples.filter((s) =>
      Object.values(s.labels).some((v) => v.includes(id) || v.startsWith('/no/')),
    );
    expect(rawPathLabels).toEqual([]);
  });

  it('turns the Redis series to 0 when Redis dies, and the scrape stays fast while PostgreSQL is frozen', async () => {
    const before = await scrape(app);
    const redisChangedAt = valueOf(before, 'health_check_last_change_timestamp_seconds', { check: 'redis' }) ?? 0;
    await redis.kill();

    const after = await waitFor(
      async () => {
        const samples = await scrape(app);
        const down =
          valueOf(samples, 'health_check_status', { check: 'redis' }) === 0 &&
          valueOf(samples, 'redis_client_connected', { client: 'default' }) === 0;
        return down ? samples : undefined;
      },
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        description: 'health_check_status{check="redis"} 0 and redis_client_connected 0',
      },
    );
    expect(valueOf(after, 'health_check_status', { check: 'db' })).toBe(1);
    expect(valueOf(after, 'health_check_last_change_timestamp_seconds', { check: 'redis' })).toBeGreaterThan(
      redisChangedAt,
    );

    await pg.pause();
    try {
      const started = performance.now();
      const samples = await scrape(app);
      expect(performance.now() - started).toBeLessThan(250);
      expect(valueOf(samples, 'db_pool_connections', { state: 'total' })).toBeDefined();
    } finally {
      await pg.resume();
    }
  });
});

describe('METRICS_ENABLED=false', () => {
  it('answers 404 on /metrics', async () => {
    ensureBuilt();
    const app = await startApp({
      METRICS_ENABLED: 'false',
      LOG_LEVEL: 'silent',
      REDIS_URL: 'redis://127.0.0.1:1/0',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/app',
      SHUTDOWN_DRAIN_MS: '0',
    });
    try {
      expect((await fetch(app.url('/metrics'))).status).toBe(404);
    } finally {
      await app.stop();
    }
  });
});

/**
 * HealthModule against real redis-server and PostgreSQL processes, with the
 * app as a child process. Faults: kill, pause (SIGSTOP), restart.
 */
import { ensureBuilt, startApp, AppProcess } from './support/app-process';
import { startPostgres, PostgresFixture } from './support/postgres-server';
import { startRedis, RedisFixture } from './support/redis-server';
import { useServices } from './support/services';
import { isProcessGone, waitFor } from './support/wait';

const BUDGET_MS = 800;
const INTERVAL_MS = 500;
const CHECK_TIMEOUT_MS = 400;
const DETAILS_TOKEN = 'details-token-for-tests-0123456789';

interface Probe {
  status: number;
  ms: number;
  body: {
    status: string;
    info: Record<string, Record<string, unknown>>;
    error: Record<string, Record<string, unknown>>;
    details: Record<string, Record<string, unknown>>;
  };
  headers: Headers;
  text: string;
}

async function probe(app: AppProcess, path: string, headers: Record<string, string> = {}): Promise<Probe> {
  const started = performance.now();
  const res = await fetch(app.url(path), { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, body: JSON.parse(text), headers: res.headers, text };
}

function appEnv(redis: RedisFixture, pg: PostgresFixture, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url(0),
    DATABASE_URL: pg.url(),
    HEALTH_INTERVAL_MS: String(INTERVAL_MS),
    HEALTH_FAILURE_INTERVAL_MS: '250',
    HEALTH_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS),
    HEALTH_DETAILS_TOKEN: DETAILS_TOKEN,
    SHUTDOWN_DRAIN_MS: '0',
    DB_STATEMENT_TIMEOUT_MS: '1000',
    ...extra,
  };
}

/** Polls readiness until `predicate` holds, asserting every answer stays within the budget. */
async function readinessUntil(
  app: AppProcess,
  description: string,
  predicate: (p: Probe) => boolean,
  timeoutMs = 10_000,
): Promise<Probe> {
  return waitFor(
    async () => {
      const p = await probe(app, '/health/ready');
      expect(p.ms).toBeLessThan(BUDGET_MS);
      const live = await probe(app, '/health/live');
      expect(live.status).toBe(200);
      return predicate(p) ? p : undefined;
    },
    { timeoutMs, intervalMs: 50, description },
  );
}

beforeAll(() => ensureBuilt());

describe('health probes with every dependency up', () => {
  let app: AppProcess;
  const services = useServices();

  beforeAll(async () => {
    app = await startApp(appEnv(services.redis, services.pg, { REDIS__CACHE_DB: '3' }));
    await readinessUntil(app, 'readiness 200', (p) => p.status === 200);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers liveness with status, timestamp, version and uptime', async () => {
    for (const path of ['/health', '/health/live']) {
      const p = await probe(app, path);
      expect(p.status).toBe(200);
      expect(p.body).toEqual({
        status: 'ok',
        timestamp: expect.any(String),
        version: expect.any(String),
        uptime_seconds: expect.any(Number),
      });
      expect(p.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers readiness 200 in the Terminus shape with responseTime and since', async () => {
    const p = await probe(app, '/health/ready');
    expect(p.status).toBe(200);
    expect(p.headers.get('cache-control')).toBe('no-store');
    expect(p.body.status).toBe('ok');
    expect(Object.keys(p.body.details).sort()).toEqual(['db', 'redis', 'redis-cache']);
    expect(p.body.error).toEqual({});
    for (const entry of Object.values(p.body.info)) {
      expect(entry).toEqual({ status: 'up', responseTime: expect.any(Number), since: expect.any(String) });
    }
  });

  it('answers startup, db, redis and the named client 200', async () => {
    for (const path of ['/health/startup', '/health/db', '/health/redis', '/health/redis-cache', '/health/ready/db']) {
      const p = await probe(app, path);
      expect({ path, status: p.status, body: p.body.status }).toEqual({ path, status: 200, body: 'ok' });
    }
  });

  it('answers 404 for an unknown check and 400 for an unknown exclude, in the body shape of every other route', async () => {
    for (const path of ['/health/ready/nope', '/health/nope']) {
      const missing = await probe(app, path);
      expect(JSON.parse(missing.text)).toEqual({
        statusCode: 404,
        message: "unknown health check 'nope'",
        error: 'Not Found',
      });
      expect(missing.headers.get('cache-control')).toBe('no-store');
    }
    const bad = await probe(app, '/health/ready?exclude=redis,nope');
    expect(JSON.parse(bad.text)).toEqual({
      statusCode: 400,
      message: 'unknown health check in exclude: nope',
      error: 'Bad Request',
    });
    expect((await probe(app, '/health/ready?exclude=redis&exclude=nope')).status).toBe(400);
  });

  it('leaves excluded checks out of readiness', async () => {
    const p = await probe(app, '/health/ready?exclude=redis,redis-cache');
    expect(Object.keys(p.body.details)).toEqual(['db']);
  });

  it('hides details from anonymous callers and callers with a wrong token', async () => {
    // First the details exist (the authorized view shows them), so hiding them is a choice, not their absence.
    await waitFor(
      async () => {
        const r = await probe(app, '/health/ready', { authorization: `Bearer ${DETAILS_TOKEN}` });
        return r.body.details.redis.details !== undefined && r.body.details.db.details !== undefined;
      },
      { timeoutMs: 5000, description: 'details collected' },
    );
    const variants: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: DETAILS_TOKEN },
    ];
    for (const headers of variants) {
      const p = await probe(app, '/health/ready', headers);
      expect(p.text).not.toMatch(/redis_version|version"|127\.0\.0\.1|"host"/);
    }
  });

  it('shows details to callers with the token', async () => {
    const p = await waitFor(
      async () => {
        const r = await probe(app, '/health/ready', { authorization: `Bearer ${DETAILS_TOKEN}` });
        return r.body.details.redis.details ? r : undefined;
      },
      { timeoutMs: 5000, description: 'details collected' },
    );
    expect(p.body.details.redis.details).toMatchObject({
      redis_version: expect.any(String),
      connected_clients: expect.any(Number),
      used_memory_human: expect.any(String),
      uptime_in_seconds: expect.any(Number),
      host: '127.0.0.1',
    });
    expect(p.body.details.db.details).toMatchObject({ version: expect.stringMatching(/^\d+/), host: '127.0.0.1' });
  });

  it('turns many concurrent probes into at most one PING and one SELECT 1 per check per interval', async () => {
    services.pg.requirePgStatStatements();
    await services.redis.command('CONFIG', 'RESETSTAT');
    await services.pg.query('SELECT pg_stat_statements_reset()');
    const started = Date.now();
    let answered = 0;
    while (Date.now() - started < 2000) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => probe(app, '/health/ready')));
      answered += batch.filter((p) => p.status === 200).length;
    }
    const elapsedMs = Date.now() - started;
    const intervals = Math.ceil(elapsedMs / 500) + 1;
    const stats = String(await services.redis.command('INFO', 'commandstats'));
    // two clients (default and cache) each PING once per interval
    const pings = Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    expect(answered).toBeGreaterThan(200);
    expect(pings).toBeLessThanOrEqual(2 * intervals);
    expect(pings).toBeGreaterThan(0);
    const rows = await services.pg.query<{ calls: string }>(
      "SELECT calls FROM pg_stat_statements WHERE query IN ('SELECT 1', 'SELECT $1')",
    );
    const selects = rows.reduce((sum, r) => sum + Number(r.calls), 0);
    expect(selects).toBeLessThanOrEqual(intervals);
    expect(selects).toBeGreaterThan(0);
  });
});

describe('health probes under faults', () => {
  let app: AppProcess;
  const services = useServices();

  beforeAll(async () => {
    app = await startApp(appEnv(services.redis, services.pg));
    await readinessUntil(app, 'readiness 200', (p) => p.status === 200);
  });
  afterAll(async () => {
    await app?.stop();
  });

  /**
   * A failure shows on readiness within one check interval plus one check
   * timeout; the margin covers timer lateness and this test's own polling on
   * a loaded 2-core machine.
   */
  const DETECTION_BOUND_MS = INTERVAL_MS + CHECK_TIMEOUT_MS + 500;
  const expectWithinDetectionBound = (elapsedMs: number) =>
    expect({ elapsedMs, withinBound: elapsedMs <= DETECTION_BOUND_MS }).toMatchObject({ withinBound: true });

  const downWith = (check: string, message: string) => (p: Probe) =>
    p.status === 503 && p.body.status === 'error' && p.body.error[check]?.message === message;

  it('reports a killed Redis as connection refused within the detection bound, then recovers when it is back', async () => {
    const killedAt = performance.now();
    await services.redis.kill();
    await readinessUntil(app, 'redis connection refused', downWith('redis', 'connection refused'));
    expectWithinDetectionBound(performance.now() - killedAt);
    await services.redis.start();
    await readinessUntil(app, 'readiness 200 after redis start', (p) => p.status === 200);
  });

  it('reports a paused Redis as timeout within the detection bound, then recovers on resume', async () => {
    const pausedAt = performance.now();
    await services.redis.pause();
    try {
      await readinessUntil(app, 'redis timeout', downWith('redis', 'timeout'));
      expectWithinDetectionBound(performance.now() - pausedAt);
      const p = await probe(app, '/health/redis');
      expect(p.status).toBe(503);
    } finally {
      await services.redis.resume();
    }
    await readinessUntil(app, 'readiness 200 after redis resume', (p) => p.status === 200);
  });

  it('recovers from a Redis restart without restarting the app', async () => {
    await services.redis.restart();
    await readinessUntil(app, 'readiness 200 after redis restart', (p) => p.status === 200);
  });

  it('reports a stopped PostgreSQL, then recovers when it is back', async () => {
    await services.pg.stop();
    await readinessUntil(app, 'db down', (p) => p.status === 503 && p.body.error.db !== undefined);
    await services.pg.start();
    await readinessUntil(app, 'readiness 200 after postgres start', (p) => p.status === 200, 15_000);
  });

  it('reports a paused PostgreSQL as timeout within the budget, then recovers on resume', async () => {
    await services.pg.pause();
    try {
      await readinessUntil(app, 'db timeout', downWith('db', 'timeout'));
    } finally {
      await services.pg.resume();
    }
    await readinessUntil(app, 'readiness 200 after postgres resume', (p) => p.status === 200, 15_000);
  });

  it('serves the app process the whole time', () => {
    expect(isProcessGone(app.pid)).toBe(false);
  });
});

describe('health probes with a wrong Redis password', () => {
  const password = 'correct-horse-battery-staple';
  const wrong = 'Tr0ub4dor-wrong-password';
  let app: AppProcess;
  const services = useServices({ password });

  beforeAll(async () => {
    app = await startApp(
      appEnv(services.redis, services.pg, {
        REDIS_URL: `redis://:${wrong}@127.0.0.1:${services.redis.port}/0`,
        NODE_ENV: 'production',
      }),
    );
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers 503 authentication failed and never shows the password', async () => {
    const p = await readinessUntil(
      app,
      'authentication failed',
      (r) => r.body.error.redis?.message === 'authentication failed',
    );
    expect(p.status).toBe(503);
    const authorized = await probe(app, '/health/redis', { authorization: `Bearer ${DETAILS_TOKEN}` });
    // The authorized reason is the failure itself, not the client's state ("client status reconnecting").
    expect(authorized.body.error.redis).toMatchObject({
      message: 'authentication failed',
      reason: expect.stringMatching(/^WRONGPASS/),
    });
    for (const text of [p.text, authorized.text, app.output()]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(password);
    }
  });
});

describe('startup probe', () => {
  it('is 200 once the first round of checks ran with a required dependency down; the dependency only moves readiness', async () => {
    const [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    await redis.kill();
    const app = await startApp(appEnv(redis, pg));
    try {
      expect((await probe(app, '/health/live')).status).toBe(200);
      await waitFor(async () => (await probe(app, '/health/startup')).status === 200, {
        timeoutMs: 5_000,
        description: 'startup 200 with redis down',
      });
      const startup = await probe(app, '/health/startup');
      expect(startup.body).toMatchObject({ status: 'ok', error: { redis: { status: 'down' } } });
      expect((await probe(app, '/health/ready')).status).toBe(503);
      await redis.start();
      await readinessUntil(app, 'readiness 200', (p) => p.status === 200);
      await redis.kill();
      await readinessUntil(app, 'readiness 503', (p) => p.status === 503);
      expect((await probe(app, '/health/startup')).status).toBe(200);
    } finally {
      await app.stop();
      await Promise.all([redis.stop(), pg.destroy()]);
    }
  });
});

/**
 * Each indicator in its own module, booted with @nestjs/testing, against a
 * real server: DatabaseModule's against PostgreSQL, RedisModule's against
 * redis-server (throwaway fixtures on free loopback ports).
 */
import { Test, TestingModule } from '@nestjs/testing';
import { AppConfigModule } from '../src/config/app-config.module';
import { DatabaseHealthIndicator } from '../src/database/database.health';
import { DatabaseModule } from '../src/database/database.module';
import type { HealthCheckDefinition } from '../src/health/health-check.interface';
import { healthChecksOf } from '../src/health/health-indicator.explorer';
import { RedisHealthIndicator } from '../src/redis/redis.health';
import { RedisModule } from '../src/redis/redis.module';
import { freePort } from './support/ports';
import { startPostgres, PostgresFixture } from './support/postgres-server';
import { startRedis, RedisFixture } from './support/redis-server';
import { waitFor } from './support/wait';

const TIMEOUT_MS = 300;

/** Boots `module` alone (with the config it reads) under `env`; restores the environment afterwards. */
async function bootModule(module: unknown, env: Record<string, string>): Promise<TestingModule> {
  const saved = { ...process.env };
  Object.assign(process.env, { NODE_ENV: 'test', ...env });
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, module as never] }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    return moduleRef;
  } finally {
    process.env = saved;
  }
}

/** Runs `check` and measures it. */
async function run(check: HealthCheckDefinition): Promise<{ entry: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const result = await check.check(check.name, TIMEOUT_MS);
  return { entry: result[check.name], ms: performance.now() - started };
}

describe('DatabaseHealthIndicator against PostgreSQL', () => {
  let pg: PostgresFixture;
  let moduleRef: TestingModule;
  let db: HealthCheckDefinition;

  beforeAll(async () => {
    pg = await startPostgres();
    moduleRef = await bootModule(DatabaseModule, { DATABASE_URL: pg.url(), DB_STATEMENT_TIMEOUT_MS: '1000' });
    [db] = healthChecksOf(moduleRef.get(DatabaseHealthIndicator));
  });
  afterAll(async () => {
    await moduleRef?.close();
    await pg?.destroy();
  });

  it('contributes the check `db`', () => {
    expect(db.name).toBe('db');
  });

  it('is up when PostgreSQL answers the ping', async () => {
    const { entry } = await waitFor(
      async () => {
        const r = await run(db);
        return r.entry.status === 'up' ? r : undefined;
      },
      { timeoutMs: 10_000, description: 'db up' },
    );
    expect(entry).toEqual({ status: 'up', responseTime: expect.any(Number) });
  });

  it('is down with a timeout message within its timeout while PostgreSQL is frozen', async () => {
    await pg.pause();
    try {
      const { entry, ms } = await run(db);
      expect(entry).toMatchObject({ status: 'down', message: expect.stringMatching(/timeout/) });
      expect(ms).toBeLessThan(TIMEOUT_MS + 500);
    } finally {
      await pg.resume();
    }
    await waitFor(async () => (await run(db)).entry.status === 'up', { timeoutMs: 10_000, description: 'db up again' });
  });

  it('is down while PostgreSQL is stopped, and up again once it is back', async () => {
    await pg.stop();
    try {
      const { entry } = await run(db);
      expect(entry).toMatchObject({ status: 'down' });
    } finally {
      await pg.start();
    }
    await waitFor(async () => (await run(db)).entry.status === 'up', { timeoutMs: 10_000, description: 'db up again' });
  });

  it('reports where the DataSource points, without credentials', async () => {
    expect(await db.details?.()).toMatchObject({ host: '127.0.0.1', port: pg.port, version: expect.any(String) });
  });
});

describe('DatabaseHealthIndicator before the DataSource has connected', () => {
  it('fails fast, naming the reason of the failed connect', async () => {
    const moduleRef = await bootModule(DatabaseModule, {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/app`,
    });
    try {
      const [db] = healthChecksOf(moduleRef.get(DatabaseHealthIndicator));
      const { entry, ms } = await run(db);
      expect(entry).toMatchObject({ status: 'down', message: 'connection refused' });
      expect(ms).toBeLessThan(100);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('RedisHealthIndicator against redis-server', () => {
  let redis: RedisFixture;
  let moduleRef: TestingModule;
  let checks: HealthCheckDefinition[];

  beforeAll(async () => {
    redis = await startRedis();
    moduleRef = await bootModule(RedisModule, { REDIS_URL: redis.url(0), REDIS__CACHE_DB: '2' });
    checks = moduleRef.get(RedisHealthIndicator).healthChecks();
  });
  afterAll(async () => {
    await moduleRef?.close();
    await redis?.stop();
  });

  const check = (name: string) => checks.find((c) => c.name === name) as HealthCheckDefinition;

  it('contributes one check per configured client', () => {
    expect(checks.map((c) => c.name)).toEqual(['redis', 'redis-cache']);
  });

  it('is up when PING answers, with one PING per check run', async () => {
    await waitFor(async () => (await run(check('redis'))).entry.status === 'up', {
      timeoutMs: 10_000,
      description: 'redis up',
    });
    await redis.command('CONFIG', 'RESETSTAT');
    expect((await run(check('redis'))).entry).toEqual({ status: 'up', responseTime: expect.any(Number) });
    expect((await run(check('redis-cache'))).entry).toEqual({ status: 'up', responseTime: expect.any(Number) });
    const stats = String(await redis.command('INFO', 'commandstats'));
    expect(Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1])).toBe(2);
  });

  it('is down without a command while redis-server is gone, and up again once it is back', async () => {
    await redis.kill();
    try {
      // `not connected` until the client's first reconnect attempt has failed, then its reason.
      const { ms } = await waitFor(
        async () => {
          const r = await run(check('redis'));
          return r.entry.message === 'connection refused' ? r : undefined;
        },
        { timeoutMs: 5000, description: 'redis down: connection refused' },
      );
      expect(ms).toBeLessThan(100);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await run(check('redis'))).entry.status === 'up', {
      timeoutMs: 10_000,
      description: 'redis up again',
    });
  });

  it('reports INFO facts for authorized callers', async () => {
    expect(await check('redis').details?.()).toMatchObject({
      host: '127.0.0.1',
      port: redis.port,
      redis_version: expect.any(String),
    });
  });
});

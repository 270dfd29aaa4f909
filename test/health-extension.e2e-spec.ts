/**
 * Extending the health checks: a third dependency, an HTTP upstream, gets
 * its check, timeout, snapshot entry, per-check endpoint and optional flag
 * the way the README's "Adding a health check" says: one file
 * (support/upstream/upstream.health.ts) and one line in the module that owns
 * the upstream's client, with no change to HealthModule or its controller.
 */
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfigModule } from '../src/config/app-config.module';
import { DatabaseModule } from '../src/database/database.module';
import { HealthModule } from '../src/health/health.module';
import { LifecycleModule } from '../src/lifecycle/lifecycle.module';
import { LoggingModule } from '../src/logging/logging.module';
import { RedisModule } from '../src/redis/redis.module';
import { startPostgres, PostgresFixture } from './support/postgres-server';
import { startRedis, RedisFixture } from './support/redis-server';
import { UpstreamHealthIndicator } from './support/upstream/upstream.health';
import { waitFor } from './support/wait';

/** Stands in for the module that owns the upstream's client (it already imports TerminusModule). */
@Module({
  imports: [TerminusModule],
  providers: [UpstreamHealthIndicator], // the one line
})
class UpstreamModule {}

@Module({
  imports: [AppConfigModule, LoggingModule, LifecycleModule, DatabaseModule, RedisModule, UpstreamModule, HealthModule],
})
class ExtendedAppModule {}

describe('a third health check registered without touching the controller', () => {
  let redis: RedisFixture;
  let pg: PostgresFixture;
  let upstream: Server;
  let upstreamStatus = 200;
  let app: NestFastifyApplication;
  const saved = { ...process.env };

  const get = async (path: string) => {
    const res = await app.inject({ method: 'GET', url: path });
    return {
      status: res.statusCode,
      body: res.json<{
        status: string;
        error: Record<string, { message?: string }>;
        details: Record<string, unknown>;
      }>(),
    };
  };

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    upstream = createServer((_req, res) => {
      res.statusCode = upstreamStatus;
      res.end();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      REDIS_URL: redis.url(0),
      DATABASE_URL: pg.url(),
      HEALTH_INTERVAL_MS: '200',
      HEALTH_FAILURE_INTERVAL_MS: '100',
      UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createApp } = require('../src/app.factory') as typeof import('../src/app.factory');
    ({ app } = await createApp(ExtendedAppModule));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    await Promise.all([redis?.stop(), pg?.destroy()]);
    process.env = saved;
  });

  it('includes the new check in readiness and gives it its own endpoints', async () => {
    const ready = await waitFor(
      async () => {
        const r = await get('/health/ready');
        return r.status === 200 && r.body.status === 'ok' ? r : undefined;
      },
      { timeoutMs: 10_000, description: 'readiness ok with upstream' },
    );
    expect(Object.keys(ready.body.details).sort()).toEqual(['db', 'redis', 'upstream']);
    expect((await get('/health/upstream')).status).toBe(200);
    expect((await get('/health/ready/upstream')).status).toBe(200);
  });

  it('keeps readiness 200 "degraded" when the optional upstream is down', async () => {
    upstreamStatus = 500;
    try {
      const degraded = await waitFor(
        async () => {
          const r = await get('/health/ready');
          return r.body.status === 'degraded' ? r : undefined;
        },
        { timeoutMs: 5000, description: 'degraded' },
      );
      expect(degraded.status).toBe(200);
      expect(degraded.body.error.upstream).toMatchObject({ message: 'error' });
      expect((await get('/health/ready/upstream')).body.status).toBe('degraded');
      expect((await get('/health/ready?exclude=upstream')).body.status).toBe('ok');
    } finally {
      upstreamStatus = 200;
    }
  });
});

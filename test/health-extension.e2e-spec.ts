/**
 * Extending HealthModule: a third dependency, an HTTP upstream, gets its
 * check, timeout, snapshot entry, per-check endpoint and optional flag from
 * one Terminus-style indicator class in its own module and one registration
 * line, without touching HealthController. This is the README's worked
 * example.
 */
import { Injectable, Module } from '@nestjs/common';
import { HealthCheckAttempt, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigModule } from '../src/config/config.module';
import { DatabaseHealthIndicator } from '../src/database/database.health';
import { DatabaseModule } from '../src/database/database.module';
import type { HealthCheckDefinition, HealthContributor } from '../src/health/health-check.interface';
import { HealthModule } from '../src/health/health.module';
import { LifecycleModule } from '../src/lifecycle/lifecycle.module';
import { LoggingModule } from '../src/logging/logging.module';
import { RedisHealthIndicator } from '../src/redis/redis.health';
import { RedisModule } from '../src/redis/redis.module';
import { startPostgres, PostgresFixture } from './support/postgres-server';
import { startRedis, RedisFixture } from './support/redis-server';
import { waitFor } from './support/wait';

// --- the worked example: one indicator class in the dependency's own module ---
@Injectable()
class UpstreamHealthIndicator implements HealthContributor {
  constructor(private readonly health: HealthIndicatorService) {}

  healthChecks(): HealthCheckDefinition[] {
    return [
      { name: 'upstream', required: false, timeoutMs: 300, check: (key, timeoutMs) => this.ping(key, timeoutMs) },
    ];
  }

  private ping(key: string, timeoutMs: number): HealthCheckAttempt {
    return this.health
      .check(key)
      .attempt(async ({ signal }) => {
        const res = await fetch(`${process.env.UPSTREAM_URL}/status`, { signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      })
      .withTimeout(timeoutMs);
  }
}

@Module({ imports: [TerminusModule], providers: [UpstreamHealthIndicator], exports: [UpstreamHealthIndicator] })
class UpstreamModule {}

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    LifecycleModule,
    HealthModule.forRoot({
      imports: [DatabaseModule, RedisModule, UpstreamModule],
      indicators: [DatabaseHealthIndicator, RedisHealthIndicator, UpstreamHealthIndicator], // the registration line
    }),
  ],
})
class ExtendedAppModule {}
// -----------------------------------------------------------------------------

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

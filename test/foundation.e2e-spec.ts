/**
 * Foundation: boot with dependencies up and down, configuration
 * errors, named Redis clients on their own databases, connections closed at
 * shutdown (counted on the servers).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Injectable, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ensureBuilt, startApp } from './support/app-process';
import { useServices } from './support/services';
import { waitFor } from './support/wait';
import { AppModule } from '../src/app.module';
import { InjectRedis } from '../src/redis/redis.decorators';
import { RedisModule } from '../src/redis/redis.module';

const REPO = join(__dirname, '..');

beforeAll(() => ensureBuilt());

describe('configuration errors', () => {
  const boot = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['dist/main.js'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 15_000,
    });

  it('exits 1 with one line per bad variable, naming it and not its secret', () => {
    const result = boot({
      PORT: 'eighty',
      NODE_ENV: 'staging',
      REDIS_URL: 'http://:hunter2-secret@h:1',
      DATABASE_URL: 'nope hunter3-secret',
    });
    expect(result.status).toBe(1);
    const lines = result.stderr
      .split('\n')
      .filter((l) => /^\s+\w+:/.test(l))
      .map((l) => l.trim().split(':')[0]);
    expect(lines.sort()).toEqual(['DATABASE_URL', 'NODE_ENV', 'PORT', 'REDIS_URL']);
    expect(result.stderr + result.stdout).not.toMatch(/hunter[23]-secret/);
    expect(result.stderr).not.toMatch(/\bat .+\(.+:\d+:\d+\)/); // no stack trace
  });
});

describe('booting', () => {
  const services = useServices();

  it('boots with both dependencies up, logs where it connected without the password, and is ready', async () => {
    const app = await startApp({
      REDIS_URL: services.redis.url(0),
      DATABASE_URL: services.pg.url(),
      NODE_ENV: 'production',
      SHUTDOWN_DRAIN_MS: '0',
    });
    try {
      await waitFor(async () => (await fetch(app.url('/health/ready'))).status === 200, {
        timeoutMs: 5000,
        description: 'ready',
      });
      const out = app.output();
      expect(out).toMatch(/connected to postgres 127\.0\.0\.1:\d+\/app/);
      expect(out).toMatch(/redis client default connected to 127\.0\.0\.1:\d+ db 0/);
      expect(out).not.toContain(services.pg.password);
    } finally {
      await app.stop();
    }
  });

  it('boots and serves liveness with Redis and PostgreSQL both unreachable, and stays up', async () => {
    const deadRedis = `redis://127.0.0.1:${services.redis.port + 1000}/0`;
    const deadPg = `postgres://postgres@127.0.0.1:${services.pg.port + 1000}/app`;
    const app = await startApp({ REDIS_URL: deadRedis, DATABASE_URL: deadPg, SHUTDOWN_DRAIN_MS: '0' });
    try {
      expect((await fetch(app.url('/health/live'))).status).toBe(200);
      expect((await fetch(app.url('/health/ready'))).status).toBe(503);
      // Startup is about the process: it passes once the first round of checks ran, whatever they found.
      await waitFor(async () => (await fetch(app.url('/health/startup'))).status === 200, {
        timeoutMs: 5000,
        description: 'startup 200 with both dependencies down',
      });
      expect((await fetch(app.url('/health/ready'))).status).toBe(503);
      // still up after several reconnect rounds
      await waitFor(() => app.output().includes('cannot reach postgres') && app.output().includes('cannot reach'), {
        timeoutMs: 5000,
        description: 'connection failures logged',
      });
      expect((await fetch(app.url('/health/live'))).status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});

describe('RedisModule named clients', () => {
  @Injectable()
  class Probe {
    constructor(
      @InjectRedis() readonly main: Redis,
      @InjectRedis('cache') readonly cache: Redis | null,
      @InjectRedis('session') readonly session: Redis | null,
      @InjectRedis('pubsub') readonly pubsub: Redis | null,
    ) {}
  }
  @Module({ imports: [AppModule, RedisModule], providers: [Probe] })
  class ProbeModule {}

  let app: NestFastifyApplication;
  const saved = { ...process.env };
  const services = useServices();

  beforeAll(async () => {
    Object.assign(process.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      REDIS_URL: services.redis.url(2),
      REDIS__CACHE_DB: '5',
      REDIS__SESSION_DB: '7',
      DATABASE_URL: services.pg.url(),
      SHUTDOWN_DRAIN_MS: '0',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createApp } = require('../src/app.factory') as typeof import('../src/app.factory');
    ({ app } = await createApp(ProbeModule));
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    process.env = saved;
  });

  it('gives each enabled logical database its own client on its own DB number', async () => {
    const probe = app.get(Probe);
    await probe.main.set('where', 'main');
    await probe.cache?.set('where', 'cache');
    await probe.session?.set('where', 'session');
    const readFrom = async (db: number) => {
      const direct = new Redis(services.redis.url(db), { lazyConnect: true });
      try {
        await direct.connect();
        return await direct.get('where');
      } finally {
        direct.disconnect();
      }
    };
    expect(await readFrom(2)).toBe('main');
    expect(await readFrom(5)).toBe('cache');
    expect(await readFrom(7)).toBe('session');
    expect(probe.pubsub).toBeNull();
  });

  it('closes every Redis and PostgreSQL connection at shutdown', async () => {
    const before = await services.redis.clientList();
    expect(
      before
        .filter((c) => c.name?.startsWith('app-'))
        .map((c) => c.name)
        .sort(),
    ).toEqual(['app-cache', 'app-default', 'app-session']);
    expect((await services.pg.appConnections('probe-ready-api')).length).toBeGreaterThan(0);
    await app.close();
    await waitFor(async () => (await services.redis.clientList()).every((c) => !c.name?.startsWith('app-')), {
      timeoutMs: 5000,
      description: 'redis clients gone',
    });
    await waitFor(async () => (await services.pg.appConnections('probe-ready-api')).length === 0, {
      timeoutMs: 5000,
      description: 'pg sessions gone',
    });
  });
});

/**
 * Redis Sentinel: the app (child process) on a primary, a replica and three
 * sentinels, all real processes on loopback ports. The primary is SIGKILLed
 * while probes and job writes keep coming; the sentinels promote the replica
 * and the same app process follows it.
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import type { Job } from '../src/jobs/dto/job.dto';
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import { PostgresFixture, startPostgres } from './support/postgres-server';
import { SentinelTopology, startSentinelTopology } from './support/redis-topologies';
import { waitFor } from './support/wait';
import { getRedisToken } from '../src/redis/redis.constants';
import { RedisHealthIndicator } from '../src/redis/redis.health';
import { Answer, request as httpRequest } from './support/http';

const PASSWORD = 'sentinel-e2e-data-pw';
const SENTINEL_PASSWORD = 'sentinel-e2e-sentinel-pw';
const DETAILS_TOKEN = 'details-token-for-tests-0123456789';
const AUTH = { authorization: `Bearer ${DETAILS_TOKEN}` };
/** How much longer than the failover itself readiness may stay 503. */
const RECOVERY_ALLOWANCE_MS = 2000;

let topology: SentinelTopology;
let pg: PostgresFixture;
let app: AppProcess;

/** A request to the app under test. */
const request = (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> =>
  httpRequest(app.url(), method, path, body, headers);

type ReadyBody = {
  details: Record<string, { status: string; data?: Record<string, unknown>; details?: Record<string, unknown> }>;
};

beforeAll(async () => {
  ensureBuilt();
  [topology, pg] = await Promise.all([
    startSentinelTopology({ password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD }),
    startPostgres(),
  ]);
  app = await startApp({
    REDIS__SENTINELS: topology.sentinelList(),
    REDIS__SENTINEL_MASTER: topology.masterName,
    REDIS__PASSWORD: PASSWORD,
    REDIS__SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    DATABASE_URL: pg.url(),
    HEALTH_DETAILS_TOKEN: DETAILS_TOKEN,
    HEALTH_DETAILS_INTERVAL_MS: '1000',
    SHUTDOWN_DRAIN_MS: '0',
  });
  await waitFor(async () => (await request('GET', '/health/ready')).status === 200, {
    timeoutMs: 15_000,
    description: 'readiness 200 through the sentinels',
  });
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await Promise.all([topology?.stop(), pg?.destroy()]);
});

describe('RedisModule on Sentinel, in process', () => {
  let moduleRef: TestingModule;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env = {
      ...saved,
      REDIS__SENTINELS: topology.sentinelList(),
      REDIS__SENTINEL_MASTER: topology.masterName,
      REDIS__PASSWORD: PASSWORD,
      REDIS__SENTINEL_PASSWORD: SENTINEL_PASSWORD,
      REDIS__CACHE_DB: '2',
    };
    const { AppConfigModule } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../src/config/app-config.module') as typeof import('../src/config/app-config.module');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RedisModule } = require('../src/redis/redis.module') as typeof import('../src/redis/redis.module');
    moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, RedisModule] }).compile();
    await moduleRef.init();
  });
  afterAll(async () => {
    await moduleRef?.close();
    process.env = saved;
  });

  it('gives @InjectRedis callers Sentinel-managed clients on the primary, named databases included', async () => {
    const primary = await topology.primaryAddress();
    const cache = moduleRef.get<Redis>(getRedisToken('cache'));
    await waitFor(() => cache.status === 'ready', { timeoutMs: 10_000, description: 'the cache client ready' });

    expect(cache.options).toMatchObject({ name: topology.masterName, db: 2 });
    expect(await cache.set('sentinel:probe', '1', 'PX', 10_000)).toBe('OK');
    expect(await topology.servers[0].command('-n', 2, 'GET', 'sentinel:probe')).toBe('1');
    const checks = moduleRef.get(RedisHealthIndicator).healthChecks();
    expect(checks.map((c) => c.name)).toEqual(['redis', 'redis-cache']);
    await expect(checks[1].check('redis-cache', 1000)).resolves.toMatchObject({
      'redis-cache': { status: 'up', primary },
    });
  });

  it('asks a sentinel for the details: primary, replica and no failover under way', async () => {
    const [check] = moduleRef.get(RedisHealthIndicator).healthChecks();
    const details = await check.details?.();

    expect(details).toMatchObject({
      topology: 'sentinel',
      primary: `127.0.0.1:${topology.servers[0].port}`,
      failoverInProgress: false,
      replicas: [expect.objectContaining({ address: `127.0.0.1:${topology.servers[1].port}`, linkToPrimary: 'ok' })],
    });
  });
});

describe('Redis Sentinel', () => {
  it('connects to the primary the sentinels name and shows it, its replica and the failover state', async () => {
    const primary = await topology.primaryAddress();
    const redis = await waitFor(
      async () => {
        const answer = await request('GET', '/health/ready', undefined, AUTH);
        const entry = (answer.body as ReadyBody).details.redis;
        return entry?.details?.failoverInProgress !== undefined ? entry : undefined;
      },
      { timeoutMs: 10_000, description: 'Sentinel details in the authorized readiness answer' },
    );
    const [initialPrimary, replica] = topology.servers;

    expect(primary).toBe(`127.0.0.1:${initialPrimary.port}`);
    expect(redis.data).toEqual({ primary });
    expect(redis.details).toMatchObject({
      topology: 'sentinel',
      master: topology.masterName,
      primary,
      failoverInProgress: false,
      replicas: [expect.objectContaining({ address: `127.0.0.1:${replica.port}` })],
    });
    expect(JSON.stringify(redis)).not.toContain(SENTINEL_PASSWORD);
    expect(app.output()).toMatch(
      new RegExp(`redis client default connected to sentinel master mymaster .*primary ${primary}`),
    );
  });

  it('follows a failover after the primary is SIGKILLed: 503 no longer than the failover + 2 s, no 500, jobs keep working', async () => {
    const [oldPrimary, replica] = topology.servers;
    const before = await request('POST', '/jobs', { type: 'before.failover', payload: { n: 0 } });
    expect(before.status).toBe(201);
    // The job must be on the replica before the primary dies (replication is asynchronous).
    expect(Number(await oldPrimary.command('WAIT', 1, 2000))).toBe(1);

    // The moment the sentinels announce the new primary.
    const watcher = new Redis({ host: '127.0.0.1', port: topology.sentinels[0].port, password: SENTINEL_PASSWORD });
    watcher.on('error', () => undefined);
    let switchedAt: number | undefined;
    watcher.on('message', () => (switchedAt ??= Date.now()));
    await watcher.subscribe('+switch-master');

    const probes: Answer[] = [];
    const writes: Answer[] = [];
    let running = true;
    const loop = async (fn: () => Promise<void>, everyMs: number) => {
      while (running) {
        await fn();
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    };
    let n = 0;
    const loops = Promise.all([
      loop(async () => void probes.push(await request('GET', '/health/ready')), 100),
      loop(
        async () => void writes.push(await request('POST', '/jobs', { type: 'during.failover', payload: { n: ++n } })),
        100,
      ),
    ]);

    try {
      await waitFor(() => probes.length > 3, { timeoutMs: 5000, description: 'the probe loop to run' });
      const killedAt = Date.now();
      await oldPrimary.kill();
      await waitFor(() => switchedAt, {
        timeoutMs: 30_000,
        intervalMs: 50,
        description: '+switch-master from a sentinel',
      });
      const firstDown = await waitFor(() => probes.find((p) => p.at > killedAt && p.status === 503), {
        timeoutMs: 10_000,
        description: 'readiness 503 while no primary is reachable',
      });
      const backUp = await waitFor(() => probes.find((p) => p.at > firstDown.at && p.status === 200), {
        timeoutMs: 15_000,
        description: 'readiness 200 again after the promotion',
      });
      // A little more traffic on the new primary before stopping the loops.
      await waitFor(() => writes.some((w) => w.at > backUp.at + 500 && w.status === 201), {
        timeoutMs: 10_000,
        description: 'a job write on the new primary',
      });
      running = false;
      await loops;

      const failoverMs = (switchedAt ?? 0) - killedAt;
      const unreadyMs = backUp.at - firstDown.at;
      const recoveryMs = backUp.at - (switchedAt ?? 0);
      console.info(
        `Sentinel failover: promotion ${failoverMs} ms after SIGKILL; readiness 503 for ${unreadyMs} ms; ` +
          `200 again ${recoveryMs} ms after the promotion`,
      );
      expect(unreadyMs).toBeLessThanOrEqual(failoverMs + RECOVERY_ALLOWANCE_MS);
      expect(probes.filter((p) => p.at > backUp.at).map((p) => p.status)).not.toContain(503);
      expect([...probes, ...writes].filter((a) => a.status !== 200 && a.status !== 201 && a.status !== 503)).toEqual(
        [],
      );
      expect(writes.some((w) => w.status === 503)).toBe(true);
    } catch (error) {
      // What the probes saw and what the app logged, to tell a slow failover from a stuck client.
      const seen = probes.map((p) => `${p.at} ${p.status} ${p.status === 200 ? '' : JSON.stringify(p.body)}`);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}\n--- readiness ---\n${seen.slice(-40).join('\n')}\n--- app ---\n${app.output()}`, {
        cause: error,
      });
    } finally {
      // The watcher first: a rejected loop (a request to an app already stopped) must not leave
      // it reconnecting to stopped sentinels, which keeps jest from exiting.
      running = false;
      watcher.disconnect();
      await loops.catch(() => undefined); // in the try block a rejection already failed the test
    }

    expect(await topology.primaryAddress()).toBe(`127.0.0.1:${replica.port}`);
    const after = await request('POST', '/jobs', { type: 'after.failover', payload: { n: 1 } });
    expect(after.status).toBe(201);
    for (const job of [before, after, ...writes.filter((w) => w.status === 201)].map((a) => a.body as Job)) {
      const read = await request('GET', `/jobs/${job.id}`);
      expect(read.status).toBe(200);
      expect((read.body as Job).payload).toEqual(job.payload);
    }
    const failoverLines = app
      .lines()
      .filter((line) => line.includes(`primary moved from 127.0.0.1:${oldPrimary.port} to 127.0.0.1:${replica.port}`));
    expect(failoverLines).toHaveLength(1);
    const metrics = await request('GET', '/metrics');
    expect(String(metrics.body)).toMatch(/redis_client_connected\{client="default",topology="sentinel"\} 1/);
  });
});

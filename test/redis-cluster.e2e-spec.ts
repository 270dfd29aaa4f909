/**
 * Redis Cluster: three primaries without replicas, created with
 * `redis-cli --cluster create`, and the app (child process) on them. The job
 * store's keys share one hash slot; killing the primary that serves it makes
 * the cluster fail (cluster_state:fail) until the node is back.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { Cluster } from 'ioredis';
import type { Job, JobPage } from '../src/jobs/dto/job.dto';
import { getRedisToken } from '../src/redis/redis.constants';
import { RedisConnections } from '../src/redis/redis-connections';
import { RedisHealthIndicator } from '../src/redis/redis.health';
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import { PostgresFixture, startPostgres } from './support/postgres-server';
import { ClusterTopology, startCluster } from './support/redis-topologies';
import { waitFor } from './support/wait';
import { Answer, request as httpRequest } from './support/http';

const PASSWORD = 'cluster-e2e-pw';
const DETAILS_TOKEN = 'details-token-for-tests-0123456789';
const AUTH = { authorization: `Bearer ${DETAILS_TOKEN}` };
const PREFIX = '{app:jobs}:';

let cluster: ClusterTopology;
let pg: PostgresFixture;
let app: AppProcess;

/** A request to the app under test. */
const request = (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> =>
  httpRequest(app.url(), method, path, body, headers);

type ReadyBody = {
  error: Record<string, { message?: string }>;
  details: Record<string, { status: string; message?: string; details?: Record<string, unknown> }>;
};

const appEnv = (): Record<string, string> => ({
  REDIS__CLUSTER_NODES: cluster.nodeList(),
  REDIS__PASSWORD: PASSWORD,
  DATABASE_URL: pg.url(),
  HEALTH_DETAILS_TOKEN: DETAILS_TOKEN,
  HEALTH_DETAILS_INTERVAL_MS: '1000',
  SHUTDOWN_DRAIN_MS: '0',
});

async function startReadyApp(): Promise<AppProcess> {
  const started = await startApp(appEnv());
  app = started;
  await waitFor(async () => (await request('GET', '/health/ready')).status === 200, {
    timeoutMs: 15_000,
    description: 'readiness 200 on the cluster',
  });
  return started;
}

beforeAll(async () => {
  ensureBuilt();
  [cluster, pg] = await Promise.all([startCluster({ password: PASSWORD }), startPostgres()]);
  await startReadyApp();
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await Promise.all([cluster?.stop(), pg?.destroy()]);
});

describe('Redis Cluster', () => {
  // A node a failed test killed is back before the next test: the tests after it need the whole cluster.
  afterEach(async () => {
    await Promise.all(cluster.nodes.map((node) => node.start()));
    await cluster.waitUntilOk();
  }, 60_000);

  it('is ready and shows the cluster state, its nodes and the slots each serves', async () => {
    const redis = await waitFor(
      async () => {
        const answer = await request('GET', '/health/ready', undefined, AUTH);
        return (answer.body as ReadyBody).details.redis?.details;
      },
      { timeoutMs: 10_000, description: 'cluster details in the authorized readiness answer' },
    );
    const shards = redis.shards as Array<{ primary: string; slots: number }>;

    expect(redis).toMatchObject({ topology: 'cluster', cluster_state: 'ok', cluster_slots_ok: 16384, cluster_size: 3 });
    expect(shards.map((s) => s.primary).sort()).toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
    expect(shards.reduce((sum, s) => sum + s.slots, 0)).toBe(16384);
    expect(app.output()).toMatch(/redis client default connected to cluster \(seed nodes /);
    const metrics = await request('GET', '/metrics');
    expect(String(metrics.body)).toMatch(/redis_client_connected\{client="default",topology="cluster"\} 1/);
  });

  it('keeps the jobs API working across restarts of the app, with every key in one slot', async () => {
    const created = await request('POST', '/jobs', { type: 'cluster.job', payload: { n: 1 } });
    expect(created.status).toBe(201);
    const job = created.body as Job;
    expect((await request('PATCH', `/jobs/${job.id}`, { status: 'running' })).status).toBe(200);

    await app.stop();
    await startReadyApp();

    const read = await request('GET', `/jobs/${job.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: job.id, status: 'running', payload: { n: 1 } });
    const page = await request('GET', '/jobs?status=running');
    expect((page.body as JobPage).items.map((j) => j.id)).toContain(job.id);
    expect((await request('PATCH', `/jobs/${job.id}`, { status: 'succeeded', result: { ok: true } })).status).toBe(200);

    const owner = await cluster.ownerOf(`${PREFIX}index`);
    for (const key of [`${PREFIX}job:${job.id}`, `${PREFIX}index`, `${PREFIX}index:succeeded`, `${PREFIX}expiry`]) {
      expect(await cluster.ownerOf(key)).toBe(owner);
      expect(await owner.command('EXISTS', key)).toBe(1);
    }
  });

  it('answers 503 "cluster down" while a primary without replica is dead, never 500, and 200 once it is back', async () => {
    const owner = await cluster.ownerOf(`${PREFIX}index`);
    const before = await request('POST', '/jobs', { type: 'before.kill', payload: { n: 2 } });
    expect(before.status).toBe(201);

    const killedAt = Date.now();
    await owner.kill();
    const down = await waitFor(
      async () => {
        const answer = await request('GET', '/health/ready');
        expect([200, 503]).toContain(answer.status);
        return answer.status === 503 && (answer.body as ReadyBody).error.redis?.message === 'cluster down'
          ? answer
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'readiness 503 with redis "cluster down"' },
    );
    const write = await request('POST', '/jobs', { type: 'during.fail', payload: {} });
    const read = await request('GET', `/jobs/${(before.body as Job).id}`);
    expect([write.status, read.status]).toEqual([503, 503]);

    const restartedAt = Date.now();
    await owner.start();
    const up = await waitFor(
      async () => {
        const answer = await request('GET', '/health/ready');
        expect(answer.status).toBe(answer.status === 200 ? 200 : 503);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: 'readiness 200 once the node is back' },
    );
    console.info(
      `Cluster: readiness 503 (cluster down) ${down.at - killedAt} ms after SIGKILL of a primary; ` +
        `200 again ${up.at - restartedAt} ms after it restarted`,
    );

    const again = await waitFor(
      async () => {
        const answer = await request('GET', `/jobs/${(before.body as Job).id}`);
        expect(answer.status).not.toBe(500);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 10_000, description: 'the job written before the kill to read back' },
    );
    expect(again.body).toMatchObject({ payload: { n: 2 } });
    expect((await request('POST', '/jobs', { type: 'after.recovery', payload: {} })).status).toBe(201);
  });
});

describe('RedisModule on the cluster, in process', () => {
  let moduleRef: TestingModule;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env = { ...saved, REDIS__CLUSTER_NODES: cluster.nodeList(), REDIS__PASSWORD: PASSWORD };
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

  it('gives @InjectRedis callers a connected Cluster for default and null for the named clients', async () => {
    const client = moduleRef.get<Cluster>(getRedisToken('default'));
    await waitFor(() => client.status === 'ready', { timeoutMs: 10_000, description: 'the cluster client ready' });

    expect(client).toBeInstanceOf(Cluster);
    expect(moduleRef.get<null>(getRedisToken('cache'))).toBeNull();
    expect(moduleRef.get(RedisConnections).names()).toEqual(['default']);
    expect(await client.set(`${PREFIX}probe`, '1', 'PX', 10_000)).toBe('OK');
  });

  it('checks cluster_state through the indicator and details every shard', async () => {
    const indicator = moduleRef.get(RedisHealthIndicator);
    const [definition] = indicator.healthChecks();

    await expect(definition.check('redis', 1000)).resolves.toMatchObject({ redis: { status: 'up' } });
    const details = await definition.details?.();
    expect(details).toMatchObject({ topology: 'cluster', cluster_state: 'ok', cluster_known_nodes: 3 });
    expect((details?.shards as unknown[]).length).toBe(3);
  });
});

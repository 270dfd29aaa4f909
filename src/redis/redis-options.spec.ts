import { redisConfig } from './redis.config';
import {
  buildClusterModuleOptions,
  buildRedisModuleOptions,
  reconnectDelay,
  reconnectOnReadonly,
} from './redis-options';
import type { ClusterClientOptions, RedisClientOptions } from '@liaoliaots/nestjs-redis';

describe('reconnectDelay', () => {
  it('backs off from 50 ms and caps at 500 ms, never giving up', () => {
    expect([1, 2, 3, 4, 5, 100].map(reconnectDelay)).toEqual([50, 100, 200, 400, 500, 500]);
  });
});

const configFrom = (env: Record<string, string>) => {
  const saved = process.env;
  process.env = { ...env };
  try {
    return redisConfig();
  } finally {
    process.env = saved;
  }
};

describe('buildRedisModuleOptions', () => {
  const build = (env: Record<string, string>) => buildRedisModuleOptions(configFrom(env));

  it('creates the default client plus one per configured logical database', () => {
    const options = build({ REDIS_URL: 'redis://:pw@h:7000/1', REDIS__CACHE_DB: '4', REDIS__PUBSUB_DB: '6' });
    const clients = options.config as RedisClientOptions[];
    expect(clients.map((c) => [c.namespace, c.db])).toEqual([
      ['default', 1],
      ['cache', 4],
      ['pubsub', 6],
    ]);
    expect(clients.every((c) => c.host === 'h' && c.port === 7000 && c.password === 'pw')).toBe(true);
  });

  it('chooses service-grade client options and leaves closing to RedisConnections', () => {
    const options = build({ REDIS_CONNECT_TIMEOUT_MS: '1500', REDIS_COMMAND_TIMEOUT_MS: '700' });
    const [client] = options.config as RedisClientOptions[];
    expect(client).toMatchObject({
      connectTimeout: 1500,
      commandTimeout: 700,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      keepAlive: 10_000,
      protocol: 2,
    });
    expect(client.retryStrategy).toBe(reconnectDelay);
    expect(options).toMatchObject({ closeClient: false, errorLog: false });
  });
});

describe('topology options', () => {
  it('points every Sentinel client at the sentinels, with the sentinel password falling back to the data one', () => {
    const env = {
      REDIS__SENTINELS: 's1:26379,s2:26380',
      REDIS__SENTINEL_MASTER: 'mymaster',
      REDIS__PASSWORD: 'data-pw',
      REDIS__SESSION_DB: '5',
    };
    const clients = buildRedisModuleOptions(configFrom(env)).config as RedisClientOptions[];
    expect(clients.map((c) => [c.namespace, c.db])).toEqual([
      ['default', 0],
      ['session', 5],
    ]);
    expect(clients[0]).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      password: 'data-pw',
      sentinelPassword: 'data-pw',
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    expect(clients[0].host).toBeUndefined();
    const own = buildRedisModuleOptions(configFrom({ ...env, REDIS__SENTINEL_PASSWORD: 'sentinel-pw' }))
      .config as RedisClientOptions[];
    expect(own[0].sentinelPassword).toBe('sentinel-pw');
    expect(buildClusterModuleOptions(configFrom(env)).config).toEqual([]);
  });

  it('builds one cluster client and no standalone client with REDIS__CLUSTER_NODES', () => {
    const config = configFrom({ REDIS__CLUSTER_NODES: 'n1:7000,n2:7001', REDIS__PASSWORD: 'pw' });
    expect(buildRedisModuleOptions(config).config).toEqual([]);
    const cluster = buildClusterModuleOptions(config);
    const [client] = cluster.config as ClusterClientOptions[];
    expect(cluster).toMatchObject({ closeClient: false, errorLog: false });
    expect(client).toMatchObject({
      namespace: 'default',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      redisOptions: { password: 'pw', commandTimeout: 1000, connectTimeout: 2000, protocol: 2 },
      enableOfflineQueue: false,
      retryDelayOnClusterDown: 0,
      lazyConnect: true,
    });
    expect(client.clusterRetryStrategy).toBe(reconnectDelay);
  });

  it('builds no cluster client for standalone', () => {
    expect(buildClusterModuleOptions(configFrom({})).config).toEqual([]);
  });

  it('reconnects without resending on READONLY only', () => {
    expect(reconnectOnReadonly(new Error("READONLY You can't write against a read only replica."))).toBe(1);
    expect(reconnectOnReadonly(new Error('ERR something'))).toBe(false);
  });
});

import { validateEnvironment } from '../config/environment';
import { redisConfig } from '../config/configuration';
import { buildRedisModuleOptions, reconnectDelay } from './redis-options';
import type { RedisClientOptions } from '@liaoliaots/nestjs-redis';

describe('reconnectDelay', () => {
  it('backs off from 50 ms and caps at 500 ms, never giving up', () => {
    expect([1, 2, 3, 4, 5, 100].map(reconnectDelay)).toEqual([50, 100, 200, 400, 500, 500]);
  });
});

describe('buildRedisModuleOptions', () => {
  const build = (env: Record<string, string>) => {
    const saved = process.env;
    process.env = { ...env };
    try {
      validateEnvironment(process.env);
      return buildRedisModuleOptions(redisConfig());
    } finally {
      process.env = saved;
    }
  };

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
    });
    expect(client.retryStrategy).toBe(reconnectDelay);
    expect(options).toMatchObject({ closeClient: false, errorLog: false });
  });
});

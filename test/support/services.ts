import { startPostgres, PostgresFixture } from './postgres-server';
import { RedisStartOptions, startRedis, RedisFixture } from './redis-server';

/** The throwaway dependencies of one describe block. */
export interface Services {
  redis: RedisFixture;
  pg: PostgresFixture;
}

/**
 * Starts a throwaway redis-server and PostgreSQL cluster before the
 * enclosing describe block's tests and removes both afterwards, even when a
 * test fails. Read the fixtures from the returned object inside tests/hooks.
 */
export function useServices(redisOptions?: RedisStartOptions): Services {
  const services = {} as Services;
  beforeAll(async () => {
    [services.redis, services.pg] = await Promise.all([startRedis(redisOptions), startPostgres()]);
  });
  afterAll(async () => {
    await Promise.all([services.redis?.stop(), services.pg?.destroy()]);
  });
  return services;
}

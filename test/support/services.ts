import { startPostgres, PostgresFixture } from './postgres-server';
import { RedisStartOptions, startRedis, RedisFixture } from './redis-server';

/** Starting or removing the servers has its own bound, independent of the tests' timeout. */
const HOOK_TIMEOUT_MS = 120_000;

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
  let starting: [Promise<RedisFixture>, Promise<PostgresFixture>] | undefined;
  beforeAll(async () => {
    starting = [startRedis(redisOptions), startPostgres()];
    [services.redis, services.pg] = await Promise.all(starting);
  }, HOOK_TIMEOUT_MS);
  // Waits for a start still in progress (a beforeAll that failed or timed out) and removes
  // whatever did start, so no server or start-up poll outlives the describe block.
  afterAll(async () => {
    const [redis, pg] = await Promise.allSettled(starting ?? []);
    await Promise.all([
      redis?.status === 'fulfilled' ? redis.value.stop() : undefined,
      pg?.status === 'fulfilled' ? pg.value.destroy() : undefined,
    ]);
  }, HOOK_TIMEOUT_MS);
  return services;
}

import type { Cluster, Redis } from 'ioredis';
import type { NamedRedisClient } from './redis.config';

/**
 * What `@InjectRedis` gives: an ioredis client, or with REDIS__CLUSTER_NODES
 * an ioredis Cluster. Both have the same command methods (`get`, `evalsha`,
 * `hgetall`, …); the cluster routes each command to the node owning its keys.
 */
export type RedisClient = Redis | Cluster;

/** The default client's name (nestjs-redis' namespace `default`). */
export const DEFAULT_REDIS_CLIENT = 'default';

export type RedisClientName = typeof DEFAULT_REDIS_CLIENT | NamedRedisClient;

export const REDIS_CLIENT_NAMES: readonly RedisClientName[] = [DEFAULT_REDIS_CLIENT, 'cache', 'session', 'pubsub'];

/** Injection token of one client; use `@InjectRedis(name)` rather than spelling it. */
export const getRedisToken = (name: RedisClientName = DEFAULT_REDIS_CLIENT): string => `app:redis:${name}`;

/** Health check name of a client: `redis` for the default one, `redis-<name>` otherwise. */
export const redisCheckName = (name: RedisClientName): string =>
  name === DEFAULT_REDIS_CLIENT ? 'redis' : `redis-${name}`;

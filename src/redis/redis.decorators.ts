import { Inject } from '@nestjs/common';
import { DEFAULT_REDIS_CLIENT, getRedisToken, RedisClientName } from './redis.constants';

/**
 * Injects one of RedisModule's ioredis clients:
 * `constructor(@InjectRedis() redis: RedisClient, @InjectRedis('cache') cache: RedisClient | null)`.
 * The default client always exists (a Cluster with REDIS__CLUSTER_NODES); a
 * named one only when its REDIS__<NAME>_DB is set, and is `null` otherwise.
 */
export const InjectRedis = (name: RedisClientName = DEFAULT_REDIS_CLIENT): ParameterDecorator & PropertyDecorator =>
  Inject(getRedisToken(name));

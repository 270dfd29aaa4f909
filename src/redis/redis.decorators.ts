import { Inject } from '@nestjs/common';
import { DEFAULT_REDIS_CLIENT, getRedisToken, RedisClientName } from './redis.constants';

/**
 * Injects one of RedisModule's ioredis clients:
 * `constructor(@InjectRedis() redis: Redis, @InjectRedis('cache') cache: Redis)`.
 * The default client always exists; a named one only when its REDIS__<NAME>_DB
 * is set, and is `null` otherwise (type it `Redis | null`).
 */
export const InjectRedis = (name: RedisClientName = DEFAULT_REDIS_CLIENT): ParameterDecorator & PropertyDecorator =>
  Inject(getRedisToken(name));

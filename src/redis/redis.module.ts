import { TerminusModule } from '@nestjs/terminus';
import { ClusterModule, RedisModule as NestRedisModule } from '@liaoliaots/nestjs-redis';
import { Module } from '@nestjs/common';
import { redisConfig, RedisConfig } from './redis.config';
import { buildClusterModuleOptions, buildRedisModuleOptions } from './redis-options';
import { getRedisToken, REDIS_CLIENT_NAMES } from './redis.constants';
import { RedisConnections } from './redis-connections';
import { RedisHealthIndicator } from './redis.health';
import { RedisMetrics } from './redis.metrics';
import { MetricsRegistryModule } from '../metrics/metrics-registry.module';

/** One provider per client name; a named client that config does not enable is `null`. */
const clientProviders = REDIS_CLIENT_NAMES.map((name) => ({
  provide: getRedisToken(name),
  useFactory: (connections: RedisConnections) => (connections.names().includes(name) ? connections.client(name) : null),
  inject: [RedisConnections],
}));

/**
 * The single owner of every Redis client (built by @liaoliaots/nestjs-redis
 * on ioredis). Exports the clients (via `@InjectRedis(name)`); provides
 * their health check (found by HealthModule) and their gauge.
 *
 * Both of the library's modules are imported and the configured topology
 * decides which one gets clients: its RedisModule builds standalone and
 * Sentinel clients, its ClusterModule the cluster client (the other gets an
 * empty list). Callers see one `RedisClient` per name either way.
 */
@Module({
  imports: [
    TerminusModule,
    MetricsRegistryModule,
    NestRedisModule.forRootAsync({
      inject: [redisConfig.KEY],
      useFactory: (...args: unknown[]) => buildRedisModuleOptions(args[0] as RedisConfig),
    }),
    ClusterModule.forRootAsync({
      inject: [redisConfig.KEY],
      useFactory: (...args: unknown[]) => buildClusterModuleOptions(args[0] as RedisConfig),
    }),
  ],
  providers: [RedisConnections, RedisHealthIndicator, RedisMetrics, ...clientProviders],
  exports: [RedisConnections, ...clientProviders.map((p) => p.provide)],
})
export class RedisModule {}

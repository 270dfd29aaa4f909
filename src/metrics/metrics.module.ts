import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { DependencyMetrics } from './dependency.metrics';
import { HealthMetrics } from './health.metrics';
import { HttpMetrics } from './http.metrics';
import { MetricsController } from './metrics.controller';
import { metricsRegistryProvider } from './metrics.registry';

/**
 * GET /metrics (prom-client, one Registry per app). Reads state only: the
 * health snapshot, Redis client status, pg pool counters. The one piece of
 * per-request work is HttpMetrics' onResponse hook. METRICS_ENABLED=false
 * drops the hook and the process metrics and turns /metrics into a 404.
 */
@Module({
  imports: [RedisModule],
  controllers: [MetricsController],
  providers: [metricsRegistryProvider, HttpMetrics, HealthMetrics, DependencyMetrics],
  exports: [metricsRegistryProvider.provide],
})
export class MetricsModule {}

import { DynamicModule, Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { DependencyMetrics } from './dependency.metrics';
import { HealthMetrics } from './health.metrics';
import { HttpMetrics } from './http.metrics';
import { LogMetrics } from './log.metrics';
import { MetricsController } from './metrics.controller';
import { metricsRegistryProvider } from './metrics.registry';

export interface MetricsModuleOptions {
  /**
   * The application's `HealthModule.forRoot(...)`, the same object AppModule
   * imports: Nest resolves one dynamic module object to one instance, so the
   * gauges read the monitor that serves the probes. Calling forRoot again
   * here would configure a second HealthModule with its own monitor.
   */
  health: DynamicModule;
}

/**
 * GET /metrics (prom-client, one Registry per app). Reads state only: the
 * health snapshot, Redis client status, pg pool counters. The one piece of
 * per-request work is HttpMetrics' onResponse hook. METRICS_ENABLED=false
 * drops the hook and the process metrics and turns /metrics into a 404.
 */
@Module({})
export class MetricsModule {
  static forRoot({ health }: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      imports: [RedisModule, health],
      controllers: [MetricsController],
      providers: [metricsRegistryProvider, HttpMetrics, HealthMetrics, DependencyMetrics, LogMetrics],
      exports: [metricsRegistryProvider.provide],
    };
  }
}

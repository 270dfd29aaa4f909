import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { HealthMetrics } from './health.metrics';
import { HttpMetrics } from './http.metrics';
import { LogMetrics } from './log.metrics';
import { MetricsController } from './metrics.controller';
import { MetricsRegistryModule } from './metrics-registry.module';

/**
 * GET /metrics (prom-client, one Registry per app). Reads state only: the
 * health snapshot, and whatever series the resource modules register on
 * the same Registry (Redis client status, pg pool counters). The one piece
 * of per-request work is HttpMetrics' onResponse hook. METRICS_ENABLED=false
 * drops the hook and the process metrics and turns /metrics into a 404.
 * HealthModule is a static module: importing it here reuses the one
 * instance, so the gauges read the monitor that serves the probes.
 */
@Module({
  imports: [MetricsRegistryModule, HealthModule],
  controllers: [MetricsController],
  providers: [HttpMetrics, HealthMetrics, LogMetrics],
  exports: [MetricsRegistryModule],
})
export class MetricsModule {}

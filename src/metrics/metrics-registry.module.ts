import { FactoryProvider, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { metricsConfig, MetricsConfig } from './metrics.config';

/**
 * One prom-client Registry per application, injected by its class. Nothing
 * is registered on prom-client's global default registry, so tests that
 * build several apps in one process never collide on metric names.
 * Default process metrics (CPU, memory, event loop lag, GC, handles) are
 * collected only when metrics are enabled.
 */
const metricsRegistryProvider: FactoryProvider<Registry> = {
  provide: Registry,
  inject: [metricsConfig.KEY],
  useFactory: (config: MetricsConfig) => {
    const registry = new Registry();
    if (config.enabled) collectDefaultMetrics({ register: registry });
    return registry;
  },
};

/**
 * The Registry alone, for the modules that own their own series (Redis,
 * PostgreSQL) without pulling in /metrics and the health snapshot.
 */
@Module({ providers: [metricsRegistryProvider], exports: [Registry] })
export class MetricsRegistryModule {}

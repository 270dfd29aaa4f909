import { DynamicModule, Module, ModuleMetadata, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { HEALTH_CONTRIBUTORS } from './health.constants';
import { HealthController, ReadyController } from './health.controller';
import { HealthAnswers } from './health-answers';
import { HealthDetailsAuth } from './health-details.auth';
import type { HealthContributor } from './health-check.interface';
import { HealthMonitor } from './health-monitor.service';

export interface HealthModuleOptions {
  /** Modules that provide and export the indicators below. */
  imports: ModuleMetadata['imports'];
  /** Indicator classes (`*.health.ts`), each exported by one of `imports`. */
  indicators: Type<HealthContributor>[];
}

/**
 * Composes checks; knows nothing about how any dependency is reached.
 * Adding a dependency = one indicator class in its own module + one entry in
 * `indicators` (see README, "Adding a health check").
 *
 * `forRoot` is written by hand rather than with ConfigurableModuleBuilder:
 * its options are modules to import and classes to inject, which the
 * builder's options provider cannot turn into imports and `inject`.
 * Exports the monitor, for readers of the snapshot such as MetricsModule.
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [
        // No per-request error log from HealthCheckService: the monitor logs each state change once.
        TerminusModule.forRoot({ logger: false }),
        LifecycleModule,
        ...(options.imports ?? []),
      ],
      controllers: [HealthController, ReadyController],
      providers: [
        {
          provide: HEALTH_CONTRIBUTORS,
          useFactory: (...indicators: HealthContributor[]) => indicators,
          inject: options.indicators,
        },
        HealthMonitor,
        HealthAnswers,
        HealthDetailsAuth,
      ],
      exports: [HealthMonitor],
    };
  }
}

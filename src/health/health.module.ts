import { DynamicModule, Module, ModuleMetadata, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { HEALTH_CONTRIBUTORS } from './health.constants';
import { HealthAnswers } from './health-answers';
import { HealthDetailsAuth } from './health-details.auth';
import type { HealthContributor } from './health-check.interface';
import { HealthMonitor } from './health-monitor.service';
import { HealthRoutes } from './health.routes';

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
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule, LifecycleModule, ...(options.imports ?? [])],
      providers: [
        {
          provide: HEALTH_CONTRIBUTORS,
          useFactory: (...indicators: HealthContributor[]) => indicators,
          inject: options.indicators,
        },
        HealthMonitor,
        HealthAnswers,
        HealthDetailsAuth,
        HealthRoutes,
      ],
      exports: [HealthMonitor],
    };
  }
}

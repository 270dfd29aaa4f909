import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { HealthCheckDefinition, HealthIndicatorCheck, HealthIndicatorFamily } from './health-check.interface';
import { HealthIndicator, HealthIndicatorOptions } from './health-indicator.decorator';
import { HealthMonitor } from './health-monitor';

function isFamily(instance: object): instance is HealthIndicatorFamily {
  return typeof (instance as Partial<HealthIndicatorFamily>).healthChecks === 'function';
}

function isCheck(instance: object): instance is HealthIndicatorCheck {
  return typeof (instance as Partial<HealthIndicatorCheck>).check === 'function';
}

/**
 * The checks of one instance of a class marked with `@HealthIndicator()`:
 * its `healthChecks()` with the decorator's options as defaults, or else
 * one check named by the decorator that calls its `check()`.
 */
export function healthChecksOf(instance: object): HealthCheckDefinition[] {
  const type = instance.constructor;
  const options = Reflect.getMetadata(HealthIndicator.KEY, type) as HealthIndicatorOptions | undefined;
  if (!options) throw new Error(`${type.name} is not marked with @HealthIndicator()`);
  if (isFamily(instance)) return instance.healthChecks().map((definition) => ({ ...options, ...definition }));
  if (!isCheck(instance)) throw new Error(`health indicator ${type.name} has neither check() nor healthChecks()`);
  return [{ ...options, check: instance.check.bind(instance), details: instance.details?.bind(instance) }];
}

/**
 * Finds every provider marked with `@HealthIndicator()` at module init and
 * registers its checks with the monitor, once (the model is
 * @nestjs/schedule's ScheduleExplorer). Probe requests never come here.
 */
@Injectable()
export class HealthIndicatorExplorer implements OnModuleInit {
  private readonly logger = new Logger('HealthModule');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly monitor: HealthMonitor,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: HealthIndicator.KEY })) {
      const instance: unknown = wrapper.instance;
      if (typeof instance !== 'object' || instance === null || !wrapper.isDependencyTreeStatic()) {
        throw new Error(`health indicator ${wrapper.name} must be a singleton provider`);
      }
      for (const definition of healthChecksOf(instance)) this.monitor.register(definition);
    }
    // The one place that says which checks this process runs: logged once, at boot.
    const checks = this.monitor.registrations();
    const text = checks.map(
      (c) => `${c.name} (${c.required ? 'required' : 'optional'}, ${c.scope}, ${c.timeoutMs} ms)`,
    );
    this.logger.log({ checks }, `health checks: ${text.join(', ') || 'none'}`);
  }
}

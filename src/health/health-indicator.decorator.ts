import { DiscoveryService } from '@nestjs/core';

/**
 * Whether every pod sees the same outcome of a check (`shared`: a database
 * or Redis all pods use, whose outage no pod can fix by leaving) or this
 * pod alone (`local`: a sidecar, a local disk). When a required shared check
 * fails, readiness asks the peers (HEALTH_PEERS) before taking the pod out.
 */
export type HealthCheckScope = 'shared' | 'local';

/** What `@HealthIndicator()` says about the check(s) of the class it marks. */
export interface HealthIndicatorOptions {
  /** Key in the body and path segment of /health/{name} and /health/ready/{name}. */
  name: string;
  /**
   * Required checks gate readiness; optional ones only turn the
   * answer `degraded`. Defaults to true; HEALTH_OPTIONAL_CHECKS overrides.
   */
  required?: boolean;
  /** The check's deadline; defaults to HEALTH_CHECK_TIMEOUT_MS, capped by the readiness budget. */
  timeoutMs?: number;
  /** Defaults to `shared`: the cautious answer for a dependency every pod reaches. */
  scope?: HealthCheckScope;
}

/**
 * Marks a provider as a health indicator. HealthModule finds every marked
 * provider at init through Nest's DiscoveryService (as @nestjs/schedule finds
 * `@Cron` methods), so a resource module only has to provide the class:
 *
 * ```ts
 * @Injectable()
 * @HealthIndicator({ name: 'upstream', required: false })
 * export class UpstreamHealthIndicator implements HealthIndicatorCheck { … }
 * ```
 */
export const HealthIndicator = DiscoveryService.createDecorator<HealthIndicatorOptions>();

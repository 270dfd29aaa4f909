import type { HealthIndicatorResult } from '@nestjs/terminus';

/**
 * One dependency check, contributed by the module that owns the client.
 *
 * The monitor runs `check` on its own schedule with its own deadline; probe
 * requests only read the snapshot it produces.
 */
export interface HealthCheckDefinition {
  /** Key in the body and path segment of /health/{name} and /health/ready/{name}. */
  name: string;
  /**
   * Required checks gate readiness and startup; optional ones only turn the
   * answer `degraded`. Defaults to true; HEALTH_OPTIONAL_CHECKS overrides.
   */
  required?: boolean;
  /** Per-check deadline; defaults to HEALTH_CHECK_TIMEOUT_MS. */
  timeoutMs?: number;
  /**
   * One bounded call on the module's own client, in Terminus 11 style:
   * `HealthIndicatorService.check(key).up()` / `.down()`. `timeoutMs` is the
   * check's deadline, for a client call that takes one (the monitor enforces
   * it either way). Should not throw; a throw or a rejection is recorded as
   * down with a classified reason.
   */
  check(key: string, timeoutMs: number): Promise<HealthIndicatorResult>;
  /**
   * Facts for authorized callers only (versions, counters). Refreshed by the
   * monitor every HEALTH_DETAILS_INTERVAL_MS while the check is up, under the
   * same deadline. Never shown to anonymous callers.
   */
  details?(): Promise<Record<string, unknown>>;
}

/** Implemented by every `*.health.ts` indicator registered with HealthModule. */
export interface HealthContributor {
  healthChecks(): HealthCheckDefinition[];
}

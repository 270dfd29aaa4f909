import type { HealthCheckAttempt, HealthIndicatorResult } from '@nestjs/terminus';

/**
 * One dependency check, contributed by the module that owns the client.
 *
 * The monitor runs `check` on its own schedule; probe requests only read the
 * snapshot it produces.
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
   * One bounded call on the module's own client, in Terminus 12 style:
   * `HealthIndicatorService.check(key).attempt(fn).withTimeout(timeoutMs)`,
   * or an immediate `.up()` / `.degraded()` / `.down()` when no call is
   * needed (the client is not connected). A failed attempt's message is the
   * client's raw error text: the monitor classifies it for anonymous callers
   * and keeps it, redacted, as the reason for authorized ones. A throw or a
   * rejection is recorded as down the same way.
   */
  check(
    key: string,
    timeoutMs: number,
  ): HealthCheckAttempt | PromiseLike<HealthIndicatorResult> | HealthIndicatorResult;
  /**
   * Facts for authorized callers only (versions, counters). Refreshed by the
   * monitor every HEALTH_DETAILS_INTERVAL_MS while the check is serving, under
   * the check's deadline. Never shown to anonymous callers.
   */
  details?(): Promise<Record<string, unknown>>;
}

/** Implemented by every `*.health.ts` indicator registered with HealthModule. */
export interface HealthContributor {
  healthChecks(): HealthCheckDefinition[];
}

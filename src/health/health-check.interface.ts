import type { HealthCheckAttempt, HealthIndicatorResult } from '@nestjs/terminus';
import type { HealthCheckScope } from './health-indicator.decorator';

/**
 * What one run of a check returns, in Terminus 12 style: an attempt
 * (`HealthIndicatorService.check(key).attempt(fn)`; the monitor bounds it
 * with `.withTimeout()` if the check did not), or an immediate
 * `.up()` / `.degraded()` / `.down()` when no call is needed. A failed
 * attempt's message is the client's raw error text: the monitor classifies
 * it for anonymous callers and keeps it, redacted, as the reason for
 * authorized ones. A throw or a rejection is recorded as down the same way.
 */
export type HealthCheckOutcome = HealthCheckAttempt | PromiseLike<HealthIndicatorResult> | HealthIndicatorResult;

/**
 * The class marked with `@HealthIndicator()`: one bounded call on the
 * module's own client. The monitor runs `check` on its own schedule; probe
 * requests only read the snapshot it produces.
 */
export interface HealthIndicatorCheck {
  /** `key` is the check's name; `timeoutMs` its deadline, for calls that take one of their own. */
  check(key: string, timeoutMs: number): HealthCheckOutcome;
  /**
   * Facts for authorized callers only (versions, counters). Refreshed by the
   * monitor every HEALTH_DETAILS_INTERVAL_MS while the check is serving, under
   * the check's deadline. Never shown to anonymous callers.
   */
  details?(): Promise<Record<string, unknown>>;
}

/** One registered check: the decorator's options plus the calls that run it. */
export interface HealthCheckDefinition {
  name: string;
  required?: boolean;
  timeoutMs?: number;
  scope?: HealthCheckScope;
  check(key: string, timeoutMs: number): HealthCheckOutcome;
  details?(): Promise<Record<string, unknown>>;
}

/**
 * For an indicator with one check per client of one kind (`redis`,
 * `redis-cache`, …): a marked class that has `healthChecks()` registers
 * those instead of its `check`; each takes the decorator's options as
 * defaults.
 */
export interface HealthIndicatorFamily {
  healthChecks(): HealthCheckDefinition[];
}

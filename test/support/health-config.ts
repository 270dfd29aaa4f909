import type { HealthConfig } from '../../src/health/health.config';

/**
 * The health section as unit specs want it: short deadlines and the defaults' intervals, no
 * token, no peers; `overrides` replaces whole keys. One place to add a field the section grows.
 */
export function healthConfigWith(overrides: Partial<HealthConfig> = {}): HealthConfig {
  return {
    checkTimeoutMs: 100,
    intervalMs: 1000,
    failureIntervalMs: 500,
    readinessBudgetMs: 800,
    detailsIntervalMs: 30_000,
    detailsToken: undefined,
    optionalChecks: [],
    peers: { urls: [], dns: undefined, token: undefined, timeoutMs: 300, intervalMs: 5000 },
    ...overrides,
  };
}

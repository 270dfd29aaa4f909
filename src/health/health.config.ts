import { ConfigType, registerAs } from '@nestjs/config';
import { loadEnvironment } from '../config/load-environment';

export const healthConfig = registerAs('health', () => {
  const e = loadEnvironment();
  return {
    checkTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    intervalMs: e.HEALTH_INTERVAL_MS,
    failureIntervalMs: e.HEALTH_FAILURE_INTERVAL_MS,
    readinessBudgetMs: e.HEALTH_READINESS_BUDGET_MS,
    detailsIntervalMs: e.HEALTH_DETAILS_INTERVAL_MS,
    detailsToken: e.HEALTH_DETAILS_TOKEN,
    optionalChecks: e.HEALTH_OPTIONAL_CHECKS,
  };
});

export type HealthConfig = ConfigType<typeof healthConfig>;

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
    peers: {
      urls: (e.HEALTH_PEERS ?? []).map((url) => url.replace(/\/+$/, '')),
      dns: e.HEALTH_PEERS_DNS,
      token: e.HEALTH_PEERS_TOKEN,
      timeoutMs: e.HEALTH_PEER_TIMEOUT_MS,
      intervalMs: e.HEALTH_PEER_INTERVAL_MS,
    },
  };
});

export type HealthConfig = ConfigType<typeof healthConfig>;

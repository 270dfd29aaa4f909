import { ConfigType, registerAs } from '@nestjs/config';
import { loadEnvironment } from '../config/load-environment';

export const metricsConfig = registerAs('metrics', () => {
  const e = loadEnvironment();
  return { enabled: e.METRICS_ENABLED };
});

export type MetricsConfig = ConfigType<typeof metricsConfig>;

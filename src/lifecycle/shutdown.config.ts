import { ConfigType, registerAs } from '@nestjs/config';
import { loadEnvironment } from '../config/load-environment';

export const shutdownConfig = registerAs('shutdown', () => {
  const e = loadEnvironment();
  return {
    drainMs: e.SHUTDOWN_DRAIN_MS,
    timeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    clientCloseMs: e.SHUTDOWN_CLIENT_CLOSE_MS,
  };
});

export type ShutdownConfig = ConfigType<typeof shutdownConfig>;

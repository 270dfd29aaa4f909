import type { RedisClientOptions, RedisModuleOptions } from '@liaoliaots/nestjs-redis';
import type { RedisConfig } from '../config/configuration';
import { DEFAULT_REDIS_CLIENT, RedisClientName } from './redis.constants';

/**
 * Reconnect delay: 50 ms, doubling, capped at 500 ms. Never gives up: the
 * service heals itself. The low cap keeps "back to ready after Redis returns"
 * under ~1 s (cap + one failure interval of the monitor); a refused connect
 * to a dead server twice a second costs nothing.
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.max(attempt - 1, 0), 500);
}

/**
 * Client options chosen for a service rather than ioredis' defaults:
 * - connectTimeout / commandTimeout: nothing waits forever on a hung server;
 * - enableOfflineQueue false: while (re)connecting, commands fail at once
 *   instead of queueing (probes and the job API answer 503 fast);
 * - maxRetriesPerRequest 1: no silent retry loops behind a request;
 * - keepAlive: dead peers are noticed by TCP, not by the next command.
 */
export function buildRedisModuleOptions(config: RedisConfig): RedisModuleOptions {
  const { endpoint } = config;
  const clients: [RedisClientName, number][] = [
    [DEFAULT_REDIS_CLIENT, endpoint.db],
    ...(Object.entries(config.named) as [RedisClientName, number][]),
  ];
  const client = ([name, db]: [RedisClientName, number]): RedisClientOptions => ({
    namespace: name,
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    db,
    ...(endpoint.tls ? { tls: { servername: endpoint.host } } : {}),
    connectionName: `app-${name}`,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    keepAlive: 10_000,
    retryStrategy: reconnectDelay,
    // Connected by RedisConnections once its listeners are attached.
    lazyConnect: true,
  });
  return {
    // Closing happens in RedisConnections, with a deadline; the library's own
    // close awaits quit() with none, so a paused Redis would block exit.
    closeClient: false,
    readyLog: false,
    // Our listener logs state changes once, redacted; the library's would log every retry.
    errorLog: false,
    config: clients.map(client),
  };
}

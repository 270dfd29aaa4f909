import type {
  ClusterClientOptions,
  ClusterModuleOptions,
  RedisClientOptions,
  RedisModuleOptions,
} from '@liaoliaots/nestjs-redis';
import type { RedisConfig } from './redis.config';
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
 * A primary demoted by a failover it missed (a partition) answers writes
 * with READONLY: reconnect, which asks the sentinels for the new primary,
 * and do not resend (1, not 2) so a write is never applied twice.
 */
export function reconnectOnReadonly(error: Error): 1 | false {
  return error.message.startsWith('READONLY') ? 1 : false;
}

/**
 * RESP2, not ioredis 6's default RESP3. The service uses nothing RESP3 adds
 * (no client-side caching, no push messages on a command connection; with the
 * default `replyMapping` replies have the same shapes either way), and RESP3
 * costs a HELLO 3 and a CLIENT MAINT_NOTIFICATIONS round trip on every
 * (re)connect, and on servers that send maintenance notifications it relaxes
 * the command timeout to 10 s during a maintenance window: longer than any
 * probe or request here may wait.
 */
export const REDIS_PROTOCOL = 2;

/**
 * Client options chosen for a service rather than ioredis' defaults:
 * - connectTimeout / commandTimeout: nothing waits forever on a hung server;
 * - enableOfflineQueue false: while (re)connecting, commands fail at once
 *   instead of queueing (probes and the job API answer 503 fast);
 * - maxRetriesPerRequest 1: no silent retry loops behind a request;
 * - keepAlive: dead peers are noticed by TCP, not by the next command;
 * - protocol: RESP2 ({@link REDIS_PROTOCOL}).
 *
 * Standalone and Sentinel clients are built here; with a cluster this
 * returns no client and {@link buildClusterModuleOptions} builds the one.
 */
export function buildRedisModuleOptions(config: RedisConfig): RedisModuleOptions {
  const { endpoint } = config;
  const clients: [RedisClientName, number][] =
    config.topology === 'cluster'
      ? []
      : [[DEFAULT_REDIS_CLIENT, endpoint.db], ...(Object.entries(config.named) as [RedisClientName, number][])];
  const where =
    config.topology === 'sentinel'
      ? {
          // ioredis asks the sentinels for the current primary on every (re)connect.
          sentinels: config.sentinel.nodes,
          name: config.sentinel.masterName,
          // Sentinels commonly share the data password; REDIS__SENTINEL_PASSWORD says when they do not.
          sentinelPassword: config.sentinel.password ?? endpoint.password,
          sentinelRetryStrategy: reconnectDelay,
          sentinelCommandTimeout: config.commandTimeoutMs,
          // Not ioredis' failoverDetector: its +switch-master handler aborts a reconnect that is
          // asking a sentinel, which ends the client for good. A dead primary closes the connection
          // anyway, and a demoted live one answers writes with READONLY, handled here:
          reconnectOnError: reconnectOnReadonly,
        }
      : {
          host: endpoint.host,
          port: endpoint.port,
          ...(endpoint.tls ? { tls: { servername: endpoint.host } } : {}),
        };
  const client = ([name, db]: [RedisClientName, number]): RedisClientOptions => ({
    namespace: name,
    ...where,
    username: endpoint.username,
    password: endpoint.password,
    db,
    connectionName: `app-${name}`,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    keepAlive: 10_000,
    protocol: REDIS_PROTOCOL,
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

/**
 * The cluster client (only with REDIS__CLUSTER_NODES): one `default` client,
 * since a cluster has database 0 only. Same service-grade choices as above,
 * plus: a CLUSTERDOWN reply fails the command at once (no retry delay) so the
 * job API answers 503 while slots are uncovered, and the slot map is
 * refreshed within the connect timeout.
 */
export function buildClusterModuleOptions(config: RedisConfig): ClusterModuleOptions {
  const { endpoint } = config;
  const clients: ClusterClientOptions[] =
    config.topology !== 'cluster'
      ? []
      : [
          {
            namespace: DEFAULT_REDIS_CLIENT,
            nodes: config.clusterNodes,
            redisOptions: {
              username: endpoint.username,
              password: endpoint.password,
              connectionName: `app-${DEFAULT_REDIS_CLIENT}`,
              connectTimeout: config.connectTimeoutMs,
              commandTimeout: config.commandTimeoutMs,
              maxRetriesPerRequest: 1,
              keepAlive: 10_000,
              protocol: REDIS_PROTOCOL,
            },
            enableOfflineQueue: false,
            clusterRetryStrategy: reconnectDelay,
            retryDelayOnClusterDown: 0,
            slotsRefreshTimeout: config.connectTimeoutMs,
            lazyConnect: true,
          },
        ];
  return { closeClient: false, readyLog: false, errorLog: false, config: clients };
}

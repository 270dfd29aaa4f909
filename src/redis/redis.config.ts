import { ConfigType, registerAs } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/environment';
import { loadEnvironment } from '../config/load-environment';
import { resolveRedisTopology } from './redis-topology';

export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
}

/** Logical databases that get their own named client when configured (the earlier service's `REDIS__*_DB`). */
export const NAMED_REDIS_DBS = {
  cache: 'REDIS__CACHE_DB',
  session: 'REDIS__SESSION_DB',
  pubsub: 'REDIS__PUBSUB_DB',
} as const;
export type NamedRedisClient = keyof typeof NAMED_REDIS_DBS;

/**
 * Precedence: REDIS_URL (host, port, credentials and db all from the URL),
 * then REDIS_PRIMARY_ENDPOINT (host:port), then REDIS__HOST/REDIS__PORT.
 * REDIS__PASSWORD, REDIS__USERNAME and REDIS__DB fill what the URL leaves out.
 */
export function resolveRedis(e: EnvironmentVariables): RedisEndpoint {
  const base = { username: e.REDIS__USERNAME, password: e.REDIS__PASSWORD, db: e.REDIS__DB, tls: false };
  if (e.REDIS_URL) {
    const url = new URL(e.REDIS_URL);
    const db = url.pathname.replace(/^\//, '');
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : 6379,
      username: url.username ? decodeURIComponent(url.username) : base.username,
      password: url.password ? decodeURIComponent(url.password) : base.password,
      db: /^\d+$/.test(db) ? Number(db) : base.db,
      tls: url.protocol === 'rediss:',
    };
  }
  if (e.REDIS_PRIMARY_ENDPOINT) {
    const [host, port] = e.REDIS_PRIMARY_ENDPOINT.split(':');
    return { ...base, host, port: Number(port) };
  }
  return { ...base, host: e.REDIS__HOST, port: e.REDIS__PORT };
}

export interface RedisNode {
  host: string;
  port: number;
}

const toNodes = (list: string[]): RedisNode[] =>
  list.map((entry) => {
    const i = entry.lastIndexOf(':');
    return { host: entry.slice(0, i), port: Number(entry.slice(i + 1)) };
  });

export const redisConfig = registerAs('redis', () => {
  const e = loadEnvironment();
  const named: Partial<Record<NamedRedisClient, number>> = {};
  for (const [name, variable] of Object.entries(NAMED_REDIS_DBS) as [NamedRedisClient, keyof EnvironmentVariables][]) {
    const db = e[variable];
    if (typeof db === 'number') named[name] = db;
  }
  return {
    topology: resolveRedisTopology(e),
    /** Standalone: the server. Every topology: the data nodes' credentials and the default client's DB. */
    endpoint: resolveRedis(e),
    sentinel: {
      nodes: toNodes(e.REDIS__SENTINELS ?? []),
      masterName: e.REDIS__SENTINEL_MASTER ?? '',
      password: e.REDIS__SENTINEL_PASSWORD,
    },
    clusterNodes: toNodes(e.REDIS__CLUSTER_NODES ?? []),
    named,
    connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    maxConnections: e.REDIS__MAX_CONNECTIONS,
  };
});

export type RedisConfig = ConfigType<typeof redisConfig>;

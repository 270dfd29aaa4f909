import { registerAs } from '@nestjs/config';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveRedisTopology } from '../redis/redis-topology';
import { EnvironmentVariables, loadEnvironment } from './environment';

/**
 * Typed configuration sections. Each is derived from the validated
 * environment (parsed once by loadEnvironment, for ConfigModule and, before Nest
 * starts, in main.ts so that a bad variable exits with a one-line message).
 */
const env = (): EnvironmentVariables => loadEnvironment();

/**
 * The version in the nearest package.json above this module: the repo root
 * for src/ and dist/ alike.
 */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
      } catch {
        return '0.0.0';
      }
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

export const appConfig = registerAs('app', () => {
  const e = env();
  return {
    nodeEnv: e.NODE_ENV,
    production: e.NODE_ENV === 'production',
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    version: process.env.npm_package_version ?? packageVersion(),
  };
});

export interface PostgresConnection {
  host: string;
  port: number;
  username: string;
  password?: string;
  database: string;
  ssl: boolean;
}

/** DATABASE_URL wins over DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_NAME. */
export function resolvePostgres(e: EnvironmentVariables): PostgresConnection {
  if (e.DATABASE_URL) {
    const url = new URL(e.DATABASE_URL);
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : 5432,
      username: decodeURIComponent(url.username) || e.DB_USER,
      password: url.password ? decodeURIComponent(url.password) : e.DB_PASSWORD,
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || e.DB_NAME,
      ssl: ['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? ''),
    };
  }
  return {
    host: e.DB_HOST,
    port: e.DB_PORT,
    username: e.DB_USER,
    password: e.DB_PASSWORD,
    database: e.DB_NAME,
    ssl: false,
  };
}

export const databaseConfig = registerAs('database', () => {
  const e = env();
  return {
    connection: resolvePostgres(e),
    poolSize: e.DB_POOL_SIZE,
    connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    migrationsRun: e.DB_MIGRATIONS_RUN,
  };
});

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

/**
 * The job store's key prefix. Without JOBS_KEY_PREFIX: `app:jobs:` (the
 * layout standalone and Sentinel deployments already have), or `{app:jobs}:`
 * on a cluster, whose hash tag puts every key of the store in one slot so
 * its Lua scripts may touch them all.
 */
export function resolveJobsKeyPrefix(e: EnvironmentVariables): string {
  return e.JOBS_KEY_PREFIX ?? (resolveRedisTopology(e) === 'cluster' ? '{app:jobs}:' : 'app:jobs:');
}

export const redisConfig = registerAs('redis', () => {
  const e = env();
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

export const healthConfig = registerAs('health', () => {
  const e = env();
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

export const shutdownConfig = registerAs('shutdown', () => {
  const e = env();
  return {
    drainMs: e.SHUTDOWN_DRAIN_MS,
    timeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    clientCloseMs: e.SHUTDOWN_CLIENT_CLOSE_MS,
  };
});

export const metricsConfig = registerAs('metrics', () => {
  const e = env();
  return { enabled: e.METRICS_ENABLED };
});

export const jobsConfig = registerAs('jobs', () => {
  const e = env();
  return { retentionSeconds: e.JOBS_RETENTION_SECONDS, keyPrefix: resolveJobsKeyPrefix(e) };
});

export type AppConfig = ReturnType<typeof appConfig>;
export type DatabaseConfig = ReturnType<typeof databaseConfig>;
export type RedisConfig = ReturnType<typeof redisConfig>;
export type HealthConfig = ReturnType<typeof healthConfig>;
export type ShutdownConfig = ReturnType<typeof shutdownConfig>;
export type JobsConfig = ReturnType<typeof jobsConfig>;
export type MetricsConfig = ReturnType<typeof metricsConfig>;

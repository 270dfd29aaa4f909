import type { EnvironmentVariables } from '../config/environment';

/** How the service reaches Redis; chosen by which variables are set (validateEnvironment allows one). */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

export function resolveRedisTopology(e: EnvironmentVariables): RedisTopology {
  if (e.REDIS__CLUSTER_NODES?.length) return 'cluster';
  if (e.REDIS__SENTINELS?.length) return 'sentinel';
  return 'standalone';
}

/** Variables that choose where a standalone server is; none of them may be set with another topology. */
const STANDALONE_ADDRESS = ['REDIS_URL', 'REDIS_PRIMARY_ENDPOINT', 'REDIS__HOST', 'REDIS__PORT'] as const;
const NAMED_DB_VARIABLES = ['REDIS__CACHE_DB', 'REDIS__SESSION_DB', 'REDIS__PUBSUB_DB'] as const;

/** A Redis Cluster hash tag: the first `{`, then at least one character before the next `}`. */
export const hasHashTag = (key: string): boolean => /^[^{]*\{[^}]+\}/.test(key);

/**
 * Cross-variable rules of the Redis topology: standalone (the default),
 * Sentinel (REDIS__SENTINELS + REDIS__SENTINEL_MASTER) or Cluster
 * (REDIS__CLUSTER_NODES), exactly one at a time. One line per offending
 * variable, naming the variables it clashes with.
 */
export function redisTopologyErrors(env: EnvironmentVariables, set: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  const sentinel = set.has('REDIS__SENTINELS');
  const cluster = set.has('REDIS__CLUSTER_NODES');
  const standalone = STANDALONE_ADDRESS.filter((name) => set.has(name));
  if (sentinel && cluster) {
    lines.push('REDIS__CLUSTER_NODES: cannot be combined with REDIS__SENTINELS; choose one Redis topology');
  }
  const chosen = cluster ? 'REDIS__CLUSTER_NODES' : sentinel ? 'REDIS__SENTINELS' : undefined;
  if (chosen) {
    for (const name of standalone) {
      lines.push(
        `${name}: cannot be combined with ${chosen}; a standalone address and another topology exclude each other`,
      );
    }
  }
  if (sentinel && !set.has('REDIS__SENTINEL_MASTER')) {
    lines.push(
      'REDIS__SENTINEL_MASTER: required with REDIS__SENTINELS (the name the sentinels monitor the primary under)',
    );
  }
  if (!sentinel) {
    for (const name of ['REDIS__SENTINEL_MASTER', 'REDIS__SENTINEL_PASSWORD'].filter((n) => set.has(n))) {
      lines.push(`${name}: only applies with REDIS__SENTINELS`);
    }
  }
  if (cluster) {
    for (const name of NAMED_DB_VARIABLES.filter((n) => set.has(n))) {
      lines.push(
        `${name}: Redis Cluster has only database 0, so named logical databases cannot be used with REDIS__CLUSTER_NODES`,
      );
    }
    if (env.REDIS__DB !== 0) lines.push('REDIS__DB: Redis Cluster has only database 0');
    if (env.JOBS_KEY_PREFIX !== undefined && !hasHashTag(env.JOBS_KEY_PREFIX)) {
      lines.push(
        'JOBS_KEY_PREFIX: needs a hash tag such as {app:jobs}: with REDIS__CLUSTER_NODES, so that a job and its indexes share one cluster slot',
      );
    }
  }
  return lines;
}

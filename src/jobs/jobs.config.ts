import { ConfigType, registerAs } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/environment';
import { loadEnvironment } from '../config/load-environment';
import { resolveRedisTopology } from '../redis/redis-topology';

/**
 * The job store's key prefix. Without JOBS_KEY_PREFIX: `app:jobs:` (the
 * layout standalone and Sentinel deployments already have), or `{app:jobs}:`
 * on a cluster, whose hash tag puts every key of the store in one slot so
 * its Lua scripts may touch them all.
 */
export function resolveJobsKeyPrefix(e: EnvironmentVariables): string {
  return e.JOBS_KEY_PREFIX ?? (resolveRedisTopology(e) === 'cluster' ? '{app:jobs}:' : 'app:jobs:');
}

export const jobsConfig = registerAs('jobs', () => {
  const e = loadEnvironment();
  return { retentionSeconds: e.JOBS_RETENTION_SECONDS, keyPrefix: resolveJobsKeyPrefix(e) };
});

export type JobsConfig = ConfigType<typeof jobsConfig>;

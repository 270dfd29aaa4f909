import { CanActivate, Injectable } from '@nestjs/common';
import { HealthMonitor } from '../health/health-monitor';
import { DEFAULT_REDIS_CLIENT, redisCheckName } from '../redis/redis.constants';
import { JobStoreUnavailableError } from './job-store';

/** The check of the Redis client the job store uses. */
export const JOB_STORE_CHECK = redisCheckName(DEFAULT_REDIS_CLIENT);

/**
 * Fails fast while the job store's Redis check is down (here alone or in a
 * shared outage): the request gets the store's 503 with Retry-After at once,
 * from the health snapshot, instead of waiting out a dead client's timeouts.
 * Requests go through again as soon as the check records Redis up.
 */
@Injectable()
export class JobStoreReadyGuard implements CanActivate {
  constructor(private readonly monitor: HealthMonitor) {}

  canActivate(): boolean {
    const check = this.monitor.check(JOB_STORE_CHECK);
    if (check?.status !== 'down') return true;
    const failure = check.message ?? 'down';
    throw new JobStoreUnavailableError('health state', {
      cause: new Error(`health check ${JOB_STORE_CHECK} is down (${failure})`),
      failure,
    });
  }
}

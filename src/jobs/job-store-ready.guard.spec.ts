import { Test } from '@nestjs/testing';
import { HealthMonitor } from '../health/health-monitor';
import type { CheckView } from '../health/health-snapshot';
import { JobStoreUnavailableError } from './job-store';
import { JOB_STORE_CHECK, JobStoreReadyGuard } from './job-store-ready.guard';

describe('JobStoreReadyGuard', () => {
  let view: Partial<CheckView> | undefined;
  let guard: JobStoreReadyGuard;

  beforeEach(async () => {
    view = { name: JOB_STORE_CHECK, status: 'up' };
    const moduleRef = await Test.createTestingModule({
      providers: [JobStoreReadyGuard, { provide: HealthMonitor, useValue: { check: () => view } }],
    }).compile();
    guard = moduleRef.get(JobStoreReadyGuard);
  });

  it('lets requests through while the Redis check is up', () => {
    expect(guard.canActivate()).toBe(true);
  });

  it('lets requests through while the Redis check is degraded: it still serves', () => {
    view = { ...view, status: 'degraded' };
    expect(guard.canActivate()).toBe(true);
  });

  it('fails at once with the store-unavailable error, classified by the check, while the check is down', () => {
    view = { ...view, status: 'down', message: 'connection refused' };
    const attempt = (): boolean => guard.canActivate();
    expect(attempt).toThrow(JobStoreUnavailableError);
    try {
      attempt();
    } catch (error) {
      expect((error as JobStoreUnavailableError).failure).toBe('connection refused');
      expect((error as JobStoreUnavailableError).operation).toBe('health state');
    }
  });
});

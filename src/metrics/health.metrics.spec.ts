import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { HealthMonitor } from '../health/health-monitor';
import { HealthPeers } from '../health/health-peers';
import type { CheckView } from '../health/health-snapshot';
import { HealthMetrics } from './health.metrics';
import { METRIC_NAMES } from './metrics.constants';

const check = (view: Partial<CheckView> & Pick<CheckView, 'name' | 'status'>): CheckView => ({
  required: true,
  scope: 'shared',
  responseTimeMs: null,
  sinceMs: null,
  checkedAtMs: null,
  ...view,
});

describe('HealthMetrics', () => {
  let registry: Registry;
  let checks: CheckView[];
  const monitor = { snapshot: jest.fn(() => ({ takenAtMs: 0, checks })) };
  let outages: Record<string, { peersDown: number; peersAnswered: number }>;
  const peers = { outage: (name: string) => outages[name] };

  /** The series `name` as { label value of `check`: value }. */
  async function series(name: string): Promise<Record<string, number>> {
    const metric = registry.getSingleMetric(name);
    if (!metric) throw new Error(`${name} is not registered`);
    const { values } = await metric.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.check), v.value]));
  }

  beforeEach(async () => {
    registry = new Registry();
    checks = [];
    outages = {};
    const moduleRef = await Test.createTestingModule({
      providers: [
        HealthMetrics,
        { provide: Registry, useValue: registry },
        { provide: HealthMonitor, useValue: monitor },
        { provide: HealthPeers, useValue: peers },
      ],
    }).compile();
    moduleRef.get(HealthMetrics);
  });

  it('reports an up check as 1 and a down one as 0', async () => {
    checks = [check({ name: 'db', status: 'up' }), check({ name: 'redis', status: 'down', message: 'stale' })];

    await expect(series(METRIC_NAMES.checkStatus)).resolves.toEqual({ db: 1, redis: 0 });
  });

  it('reports the last run’s duration in seconds', async () => {
    checks = [check({ name: 'db', status: 'up', responseTimeMs: 12 })];

    await expect(series(METRIC_NAMES.checkDuration)).resolves.toEqual({ db: 0.012 });
  });

  it('reports when a check entered its state as Unix seconds', async () => {
    checks = [check({ name: 'db', status: 'up', sinceMs: 1_767_268_800_500 })];

    await expect(series(METRIC_NAMES.checkLastChange)).resolves.toEqual({ db: 1_767_268_800.5 });
  });

  it('leaves out the duration and last change of a check that has not run yet', async () => {
    checks = [check({ name: 'db', status: 'down', message: 'pending' })];

    await expect(series(METRIC_NAMES.checkDuration)).resolves.toEqual({});
    await expect(series(METRIC_NAMES.checkLastChange)).resolves.toEqual({});
  });

  it('reads the snapshot at each scrape, dropping checks it no longer has', async () => {
    checks = [check({ name: 'db', status: 'up' }), check({ name: 'redis', status: 'up' })];
    await series(METRIC_NAMES.checkStatus);
    checks = [check({ name: 'db', status: 'down', message: 'timeout' })];

    await expect(series(METRIC_NAMES.checkStatus)).resolves.toEqual({ db: 0 });
  });

  it('reports a down check in a shared outage as 1, every other check as 0', async () => {
    checks = [check({ name: 'db', status: 'up' }), check({ name: 'redis', status: 'down', message: 'timeout' })];
    outages = { redis: { peersDown: 2, peersAnswered: 2 } };

    await expect(series(METRIC_NAMES.checkSharedOutage)).resolves.toEqual({ db: 0, redis: 1 });
  });
});

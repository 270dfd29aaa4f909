import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { DB_POOL_METRIC, DatabaseMetrics } from './database.metrics';

describe('DatabaseMetrics', () => {
  let registry: Registry;
  let dataSource: { isInitialized: boolean; driver: { master?: unknown } };

  /** db_pool_connections as { state: value }. */
  async function pool(): Promise<Record<string, number>> {
    const { values } = await registry.getSingleMetric(DB_POOL_METRIC)!.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.state), v.value]));
  }

  beforeEach(async () => {
    registry = new Registry();
    dataSource = { isInitialized: true, driver: { master: { totalCount: 5, idleCount: 3, waitingCount: 1 } } };
    const moduleRef = await Test.createTestingModule({
      providers: [
        DatabaseMetrics,
        { provide: Registry, useValue: registry },
        { provide: DataSource, useValue: dataSource },
      ],
    }).compile();
    moduleRef.get(DatabaseMetrics);
  });

  it('reports the pool’s total, idle and waiting counts', async () => {
    await expect(pool()).resolves.toEqual({ total: 5, idle: 3, waiting: 1 });
  });

  it('reads the counts at each scrape', async () => {
    dataSource.driver.master = { totalCount: 2, idleCount: 0, waitingCount: 4 };

    await expect(pool()).resolves.toEqual({ total: 2, idle: 0, waiting: 4 });
  });

  it('reports zeros while not connected, whatever pool is left behind', async () => {
    dataSource.isInitialized = false;

    await expect(pool()).resolves.toEqual({ total: 0, idle: 0, waiting: 0 });
  });

  it('reports zeros when the driver holds no pg pool', async () => {
    dataSource.driver.master = undefined;

    await expect(pool()).resolves.toEqual({ total: 0, idle: 0, waiting: 0 });
  });
});

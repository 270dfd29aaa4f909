import type { ModuleRef } from '@nestjs/core';
import { HealthCheckAttempt, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { DatabaseHealthIndicator } from './database.health';
import type { DatabaseConnection } from './database-connection';

function indicatorWith(query: jest.Mock): DatabaseHealthIndicator {
  const dataSource = { isInitialized: true, options: { type: 'postgres' }, query } as unknown as DataSource;
  const connection = { lastFailure: undefined } as unknown as DatabaseConnection;
  const health = new HealthIndicatorService();
  // The module reference is only asked for a connection when none is passed; the check always passes one.
  const typeOrm = new TypeOrmHealthIndicator(undefined as unknown as ModuleRef, health);
  return new DatabaseHealthIndicator(health, typeOrm, dataSource, connection);
}

describe('DatabaseHealthIndicator', () => {
  it('holds at most one pooled connection: no new ping while the last one is still out', async () => {
    let release: (value: unknown) => void = () => undefined;
    const query = jest
      .fn()
      .mockImplementationOnce(() => new Promise((resolve) => (release = resolve)))
      .mockResolvedValue([{ '?column?': 1 }]);
    const indicator = indicatorWith(query);

    const first = indicator.check('db', 50);
    expect(first).toBeInstanceOf(HealthCheckAttempt);
    await expect(first as HealthCheckAttempt).resolves.toMatchObject({ db: { status: 'down' } }); // its deadline
    const second = indicator.check('db', 50);

    expect(second).toMatchObject({ db: { status: 'down', message: 'timeout' } });
    expect(query).toHaveBeenCalledTimes(1);
    release([{ '?column?': 1 }]);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(indicator.check('db', 50) as HealthCheckAttempt).resolves.toMatchObject({ db: { status: 'up' } });
    expect(query).toHaveBeenCalledTimes(2);
  });
});

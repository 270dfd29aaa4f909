import { HealthCheckAttempt, HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { DatabaseHealthIndicator } from './database.health';
import type { DatabaseConnection } from './database-connection';

function indicatorWith(query: jest.Mock): DatabaseHealthIndicator {
  const dataSource = { isInitialized: true, query } as unknown as DataSource;
  const connection = { lastFailure: undefined } as unknown as DatabaseConnection;
  return new DatabaseHealthIndicator(new HealthIndicatorService(), dataSource, connection);
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

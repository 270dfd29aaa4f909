import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { HealthCheckOutcome, HealthIndicatorCheck } from '../health/health-check.interface';
import { HealthIndicator } from '../health/health-indicator.decorator';
import { DatabaseConnection } from './database-connection';

/**
 * `db`: Terminus' TypeORM ping (`SELECT 1`) on the application's own
 * DataSource (its pool), never a connection of its own, under the check's
 * deadline. Down at once while the DataSource is not connected: the query
 * would otherwise wait for a pool that does not exist yet.
 *
 * The ping is handed the DataSource's `options` and `query` (the part of a
 * connection `pingCheck` uses) so that the check sees the query itself: the
 * attempt's timeout answers while the query may still run, and a hung server
 * must get one ping, not one per run.
 */
@Injectable()
@HealthIndicator({ name: 'db', scope: 'shared' })
export class DatabaseHealthIndicator implements HealthIndicatorCheck {
  /** The last ping's query until it settles. */
  private inFlight?: Promise<unknown>;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly typeOrm: TypeOrmHealthIndicator,
    private readonly dataSource: DataSource,
    private readonly connection: DatabaseConnection,
  ) {}

  check(key: string, timeoutMs: number): HealthCheckOutcome | HealthIndicatorResult {
    if (!this.dataSource.isInitialized) {
      const failure = this.connection.lastFailure;
      return this.health.check(key).down({
        message: failure?.message ?? 'not connected',
        reason: failure?.reason ?? 'not connected yet',
      });
    }
    if (this.inFlight) {
      // Still waiting on the last ping (pg's query_timeout ends it): a hung server gets one, not one per run.
      return this.health.check(key).down({ message: 'timeout', reason: 'the previous ping has not returned yet' });
    }
    const connection = {
      options: this.dataSource.options,
      query: (sql: string) => this.track(this.dataSource.query(sql)),
    };
    return this.typeOrm.pingCheck(key, { connection }).withTimeout(timeoutMs);
  }

  details(): Promise<Record<string, unknown>> {
    return Promise.resolve(this.connection.describe());
  }

  private track(query: Promise<unknown>): Promise<unknown> {
    const settled = query.catch(() => undefined);
    this.inFlight = settled.finally(() => (this.inFlight = undefined));
    return query;
  }
}

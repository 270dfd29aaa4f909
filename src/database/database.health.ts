import { Injectable } from '@nestjs/common';
import {
  HealthCheckAttempt,
  HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { HealthCheckDefinition, HealthContributor } from '../health/health-check.interface';
import { DatabaseConnection } from './database-connection.service';

/**
 * `db`: Terminus' TypeORM ping (`SELECT 1`) on the application's own
 * DataSource (its pool), never a connection of its own, bounded by
 * `.withTimeout()`. Down at once while the DataSource is not connected: the
 * ping would otherwise wait for a pool that does not exist yet.
 */
@Injectable()
export class DatabaseHealthIndicator implements HealthContributor {
  /** The last ping's query until it settles. */
  private inFlight?: Promise<unknown>;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly typeOrm: TypeOrmHealthIndicator,
    private readonly dataSource: DataSource,
    private readonly connection: DatabaseConnection,
  ) {}

  healthChecks(): HealthCheckDefinition[] {
    return [
      {
        name: 'db',
        check: (key, timeoutMs) => this.ping(key, timeoutMs),
        details: () => Promise.resolve(this.connection.describe()),
      },
    ];
  }

  ping(key: string, timeoutMs: number): HealthCheckAttempt | HealthIndicatorResult {
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
    // The ping runs on the app's DataSource; its query is tracked because the attempt's timeout
    // answers while the query is still running.
    const connection = new Proxy(this.dataSource, {
      get: (target, property, receiver): unknown =>
        property === 'query' ? (sql: string) => this.track(target.query(sql)) : Reflect.get(target, property, receiver),
    });
    return this.typeOrm.pingCheck(key, { connection }).withTimeout(timeoutMs);
  }

  private track(query: Promise<unknown>): Promise<unknown> {
    const settled = query.catch(() => undefined);
    this.inFlight = settled.finally(() => (this.inFlight = undefined));
    return query;
  }
}

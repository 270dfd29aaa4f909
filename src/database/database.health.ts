import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { classifyError, describeError } from '../common/redact';
import type { HealthCheckDefinition, HealthContributor } from '../health/health-check.interface';
import { DatabaseConnection } from './database-connection.service';

/**
 * `db`: Terminus' TypeORM ping (`SELECT 1`) on the application's own
 * DataSource (its pool), never a connection of its own, within the check's
 * timeout. Down at once while the DataSource is not connected: the ping
 * would otherwise wait for a pool that does not exist yet.
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

  async ping(key: string, timeoutMs: number): Promise<HealthIndicatorResult> {
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
    let failure: unknown;
    // pingCheck runs on the app's DataSource; its query is kept because Terminus reports a
    // timeout while the query is still running, and names no cause for any other failure.
    const connection = new Proxy(this.dataSource, {
      get: (target, property, receiver): unknown =>
        property === 'query'
          ? (sql: string) => this.track(target.query(sql), (error) => (failure = error))
          : Reflect.get(target, property, receiver),
    });
    const result = await this.typeOrm.pingCheck(key, { connection, timeout: timeoutMs });
    if (result[key]?.status === 'down' && failure !== undefined) {
      return this.health.check(key).down({ message: classifyError(failure), reason: describeError(failure) });
    }
    return result;
  }

  private track(query: Promise<unknown>, onError: (error: unknown) => void): Promise<unknown> {
    const settled = query.then(
      () => undefined,
      (error: unknown) => onError(error ?? new Error('query failed')),
    );
    this.inFlight = settled.finally(() => (this.inFlight = undefined));
    return query;
  }
}

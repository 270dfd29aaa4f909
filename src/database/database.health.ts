import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { HealthCheckDefinition, HealthContributor } from '../health/health-check.interface';
import { DatabaseConnection } from './database-connection.service';

/**
 * `db`: Terminus' TypeORM ping (`SELECT 1`) on the application's own
 * DataSource (its pool), never a connection of its own, within the check's
 * timeout. Down at once while the DataSource is not connected: the ping
 * would otherwise wait for a pool that does not exist yet.
 *
 * Terminus names a timeout in its message and gives no cause for any other
 * failure, so a ping that fails after the first connect reads `error`; the
 * connect loop's classified reason is used while not connected.
 */
@Injectable()
export class DatabaseHealthIndicator implements HealthContributor {
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
    return this.typeOrm.pingCheck(key, { connection: this.dataSource, timeout: timeoutMs });
  }
}

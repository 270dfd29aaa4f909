import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { classifyError, describeError } from '../common/redact';
import type { HealthCheckDefinition, HealthContributor } from '../health/health-check.interface';
import { DatabaseConnection } from './database-connection.service';

/**
 * `db`: a `SELECT 1` on the application's own DataSource (its pool), never a
 * connection of its own. Down at once while the DataSource is not connected.
 */
@Injectable()
export class DatabaseHealthIndicator implements HealthContributor {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly connection: DatabaseConnection,
  ) {}

  healthChecks(): HealthCheckDefinition[] {
    return [{ name: 'db', check: (key) => this.ping(key), details: () => Promise.resolve(this.connection.describe()) }];
  }

  async ping(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (!this.dataSource.isInitialized) {
      const failure = this.connection.lastFailure;
      return indicator.down({
        message: failure?.message ?? 'not connected',
        reason: failure?.reason ?? 'not connected yet',
      });
    }
    try {
      await this.dataSource.query('SELECT 1');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: classifyError(error), reason: describeError(error) });
    }
  }
}

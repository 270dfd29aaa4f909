import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** Series name; docs/OBSERVABILITY.md and the tests use it. */
export const DB_POOL_METRIC = 'db_pool_connections';

/** The counters of pg's Pool that the gauge reads. */
interface PgPoolCounters {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

function isPgPool(value: unknown): value is PgPoolCounters {
  return typeof value === 'object' && value !== null && typeof (value as PgPoolCounters).totalCount === 'number';
}

/**
 * `db_pool_connections`: pg's pool counters, read at scrape time from the
 * pool itself; reading them sends nothing over the network.
 */
@Injectable()
export class DatabaseMetrics {
  constructor(registry: Registry, dataSource: DataSource) {
    new Gauge({
      name: DB_POOL_METRIC,
      help: 'PostgreSQL pool connections by state (total, idle, waiting: queued requests for a connection); 0 when not connected.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        // TypeORM's PostgresDriver keeps its pg Pool in `master` (untyped).
        const pool: unknown = dataSource.isInitialized ? (dataSource.driver as { master?: unknown }).master : undefined;
        const counters = isPgPool(pool) ? pool : { totalCount: 0, idleCount: 0, waitingCount: 0 };
        this.set({ state: 'total' }, counters.totalCount);
        this.set({ state: 'idle' }, counters.idleCount);
        this.set({ state: 'waiting' }, counters.waitingCount);
      },
    });
  }
}

import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { RedisConnections } from '../redis/redis-connections.service';
import { METRIC_NAMES } from './metrics.constants';

/** The counters of pg's Pool that the gauges read. */
interface PgPoolCounters {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

function isPgPool(value: unknown): value is PgPoolCounters {
  return typeof value === 'object' && value !== null && typeof (value as PgPoolCounters).totalCount === 'number';
}

/**
 * Client-side state of the dependencies, read at scrape time from the
 * clients themselves: ioredis' `status` and pg's pool counters. Reading
 * them sends nothing over the network.
 */
@Injectable()
export class DependencyMetrics {
  constructor(registry: Registry, redis: RedisConnections, dataSource: DataSource) {
    new Gauge({
      name: METRIC_NAMES.redisConnected,
      help: 'Whether a Redis client is connected and ready (1) or not (0); topology: standalone, sentinel or cluster.',
      labelNames: ['client', 'topology'],
      registers: [registry],
      collect() {
        const { topology } = redis;
        for (const name of redis.names()) {
          this.set({ client: name, topology }, redis.client(name).status === 'ready' ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: METRIC_NAMES.dbPool,
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

import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { RedisConnections } from './redis-connections';

/** Series name; docs/OBSERVABILITY.md and the tests use it. */
export const REDIS_CONNECTED_METRIC = 'redis_client_connected';

/**
 * `redis_client_connected`: each client's ioredis `status`, read at scrape
 * time from the client itself; reading it sends nothing over the network.
 */
@Injectable()
export class RedisMetrics {
  constructor(registry: Registry, redis: RedisConnections) {
    new Gauge({
      name: REDIS_CONNECTED_METRIC,
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
  }
}

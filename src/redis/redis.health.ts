import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { classifyError, describeError } from '../common/redact';
import type { HealthCheckDefinition, HealthContributor } from '../health/health-check.interface';
import { RedisClientName, redisCheckName } from './redis.constants';
import { RedisConnections } from './redis-connections.service';

const INFO_TEXT_FIELDS = ['redis_version', 'used_memory_human'];
const INFO_COUNTER_FIELDS = ['connected_clients', 'uptime_in_seconds'];

/** Parses the `key:value` lines of INFO into the fields seed 004 reports. */
export function parseInfo(info: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const line of info.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1).trim();
    if (INFO_TEXT_FIELDS.includes(key)) out[key] = value;
    else if (INFO_COUNTER_FIELDS.includes(key)) out[key] = Number(value);
  }
  return out;
}

/**
 * One check per configured Redis client (`redis`, `redis-cache`, …), each a
 * PING on that client. A client that is not `ready` (connecting or
 * reconnecting) is reported down at once: with the offline queue disabled
 * nothing waits in ioredis' queue. The PING itself is bounded by the client's
 * commandTimeout and by the monitor's deadline.
 */
@Injectable()
export class RedisHealthIndicator implements HealthContributor {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly connections: RedisConnections,
  ) {}

  healthChecks(): HealthCheckDefinition[] {
    return this.connections.names().map((name) => ({
      name: redisCheckName(name),
      check: (key: string) => this.ping(key, name),
      details: () => this.details(name),
    }));
  }

  async ping(key: string, name: RedisClientName): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    const client = this.connections.client(name);
    if (client.status !== 'ready') {
      // The failure that took the client down says more than its status ("reconnecting").
      const failure = this.connections.lastFailure(name);
      return indicator.down({
        message: failure?.message ?? 'not connected',
        reason: failure?.reason ?? `client status ${client.status}`,
      });
    }
    try {
      await client.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: classifyError(error), reason: describeError(error) });
    }
  }

  async details(name: RedisClientName): Promise<Record<string, unknown>> {
    const client = this.connections.client(name);
    // One INFO (default sections include server, clients and memory).
    return { ...this.connections.describe(name), ...parseInfo(await client.info()) };
  }
}

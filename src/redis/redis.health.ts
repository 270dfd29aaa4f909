import { Injectable } from '@nestjs/common';
import { HealthCheckAttempt, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Cluster } from 'ioredis';
import type { HealthCheckDefinition, HealthIndicatorFamily } from '../health/health-check.interface';
import { HealthIndicator } from '../health/health-indicator.decorator';
import { RedisClient, RedisClientName, redisCheckName } from './redis.constants';
import { RedisConnections } from './redis-connections';

const INFO_TEXT_FIELDS = ['redis_version', 'used_memory_human'];
const INFO_COUNTER_FIELDS = ['connected_clients', 'uptime_in_seconds'];
const CLUSTER_INFO_TEXT_FIELDS = ['cluster_state'];
const CLUSTER_INFO_COUNTER_FIELDS = [
  'cluster_slots_assigned',
  'cluster_slots_ok',
  'cluster_slots_pfail',
  'cluster_slots_fail',
  'cluster_known_nodes',
  'cluster_size',
];

/** Parses the `key:value` lines of INFO (or CLUSTER INFO) into the fields the details report. */
export function parseInfo(
  info: string,
  textFields = INFO_TEXT_FIELDS,
  counterFields = INFO_COUNTER_FIELDS,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const line of info.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1).trim();
    if (textFields.includes(key)) out[key] = value;
    else if (counterFields.includes(key)) out[key] = Number(value);
  }
  return out;
}

/** A flat [field, value, …] reply (SENTINEL MASTER / REPLICAS entries) → record. */
export function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/** One primary of a cluster and the slots it serves, from CLUSTER SLOTS. */
export interface ClusterShard {
  primary: string;
  slots: number;
  ranges: string[];
  replicas: string[];
}

/** CLUSTER SLOTS (`[[start, end, [ip, port, id], [replica ip, port, id]…], …]`) grouped by primary. */
export function parseClusterSlots(reply: unknown): ClusterShard[] {
  const shards = new Map<string, ClusterShard>();
  if (!Array.isArray(reply)) return [];
  for (const entry of reply as unknown[][]) {
    const [start, end, primary, ...replicas] = entry as [number, number, unknown[], ...unknown[][]];
    const address = `${String(primary[0])}:${String(primary[1])}`;
    const shard = shards.get(address) ?? { primary: address, slots: 0, ranges: [], replicas: [] };
    shard.slots += end - start + 1;
    shard.ranges.push(start === end ? `${start}` : `${start}-${end}`);
    for (const replica of replicas) {
      const r = `${String(replica[0])}:${String(replica[1])}`;
      if (!shard.replicas.includes(r)) shard.replicas.push(r);
    }
    shards.set(address, shard);
  }
  return [...shards.values()].sort((a, b) => a.primary.localeCompare(b.primary));
}

/**
 * One check per configured Redis client (`redis`, `redis-cache`, …), aware
 * of the topology:
 * - standalone and Sentinel: a PING on the client. With Sentinel, ioredis
 *   keeps the client on the current primary (it asks the sentinels on every
 *   reconnect), so the PING reaches whichever server is primary now;
 * - cluster: CLUSTER INFO of every primary the client is connected to, then
 *   a PING through the cluster client. Down when a node says
 *   `cluster_state:fail`; degraded when the cluster still serves but not
 *   every assigned slot is ok (a node suspected or failed, with
 *   `cluster-require-full-coverage no`).
 * A client that is not `ready` (connecting or reconnecting) is reported down
 * at once: with the offline queue disabled nothing waits in ioredis' queue.
 * Each attempt is bounded by `.withTimeout()` and the client's
 * commandTimeout, and a client gets no new PING while its last one is
 * still waiting on a hung server.
 */
@Injectable()
@HealthIndicator({ name: 'redis', scope: 'shared' })
export class RedisHealthIndicator implements HealthIndicatorFamily {
  /** Clients whose last probe has not settled yet. */
  private readonly inFlight = new Set<RedisClientName>();

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly connections: RedisConnections,
  ) {}

  healthChecks(): HealthCheckDefinition[] {
    return this.connections.names().map((name) => ({
      name: redisCheckName(name),
      check: (key: string, timeoutMs: number) => this.ping(key, name, timeoutMs),
      details: () => this.details(name),
    }));
  }

  ping(
    key: string,
    name: RedisClientName,
    timeoutMs: number,
  ): HealthCheckAttempt | HealthIndicatorResult | Promise<HealthIndicatorResult> {
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
    if (this.inFlight.has(name)) {
      return indicator.down({ message: 'timeout', reason: 'the previous PING has not returned yet' });
    }
    const attempt = indicator.attempt(() => this.track(name, this.probe(client, name))).withTimeout(timeoutMs);
    return client instanceof Cluster ? this.degradedWhenImpaired(key, attempt) : attempt;
  }

  /** The probe's calls; resolves with the data an `up` result carries, throws the client's error. */
  private async probe(client: RedisClient, name: RedisClientName): Promise<Record<string, unknown>> {
    if (client instanceof Cluster) {
      const state = await this.clusterState(client);
      if (state.failing !== undefined) throw new Error(state.failing);
      await client.ping();
      return state.impaired === undefined ? {} : { impaired: state.impaired };
    }
    await client.ping();
    // Authorized callers see which server answered (Sentinel: the current primary).
    const primary = this.connections.primaryOf(name);
    return primary === undefined ? {} : { primary };
  }

  /** A cluster that serves every request but not every slot's node is healthy: Terminus' `degraded`. */
  private async degradedWhenImpaired(key: string, attempt: HealthCheckAttempt<string>): Promise<HealthIndicatorResult> {
    const result = await attempt;
    const impaired: unknown = result[key]?.impaired;
    return typeof impaired === 'string' ? this.health.check(key).degraded({ reason: impaired }) : result;
  }

  private track<T>(name: RedisClientName, probe: Promise<T>): Promise<T> {
    this.inFlight.add(name);
    return probe.finally(() => this.inFlight.delete(name));
  }

  /**
   * Asks every primary the cluster client is connected to for CLUSTER INFO,
   * in parallel: why the cluster cannot serve every slot (`failing`), or why
   * it serves with some slots not ok (`impaired`). Nodes the client has lost
   * are skipped: the survivors report the failure.
   */
  private async clusterState(client: Cluster): Promise<{ failing?: string; impaired?: string }> {
    const primaries = client.nodes('master').filter((node) => node.status === 'ready');
    if (primaries.length === 0) throw new Error('not connected to any cluster primary');
    const infos = await Promise.all(primaries.map((node) => node.cluster('INFO')));
    let impaired: string | undefined;
    for (const info of infos) {
      const facts = parseInfo(info, CLUSTER_INFO_TEXT_FIELDS, CLUSTER_INFO_COUNTER_FIELDS);
      const slots = `${String(facts.cluster_slots_ok)} of ${String(facts.cluster_slots_assigned)} slots ok`;
      if (facts.cluster_state !== 'ok') return { failing: `cluster_state:${String(facts.cluster_state)}, ${slots}` };
      if (Number(facts.cluster_slots_ok) < Number(facts.cluster_slots_assigned))
        impaired ??= `cluster_state:ok, ${slots}`;
    }
    return { impaired };
  }

  async details(name: RedisClientName): Promise<Record<string, unknown>> {
    const client = this.connections.client(name);
    const where = this.connections.describe(name);
    if (client instanceof Cluster) {
      const [info, slots] = await Promise.all([client.cluster('INFO'), client.cluster('SLOTS')]);
      return {
        ...where,
        ...parseInfo(info, CLUSTER_INFO_TEXT_FIELDS, CLUSTER_INFO_COUNTER_FIELDS),
        shards: parseClusterSlots(slots),
      };
    }
    // One INFO (default sections include server, clients and memory).
    const info = parseInfo(await client.info());
    if (where.topology !== 'sentinel') return { ...where, ...info };
    return { ...where, ...info, ...(await this.sentinelDetails(where.master)) };
  }

  /** The sentinels' view: current primary, its replicas and whether a failover is under way. */
  private async sentinelDetails(master: string): Promise<Record<string, unknown>> {
    const { sentinel, reply } = await this.connections.askSentinel('MASTER', master);
    const { reply: replicasReply } = await this.connections.askSentinel('REPLICAS', master);
    const primary = pairs(reply);
    const flags = (primary.flags ?? '').split(',');
    return {
      sentinel,
      primary: `${primary.ip}:${primary.port}`,
      primaryFlags: primary.flags,
      failoverInProgress: flags.includes('failover_in_progress') || (primary['failover-state'] ?? 'none') !== 'none',
      replicas: (Array.isArray(replicasReply) ? replicasReply : []).map((entry) => {
        const replica = pairs(entry);
        return {
          address: `${replica.ip}:${replica.port}`,
          flags: replica.flags,
          linkToPrimary: replica['master-link-status'],
        };
      }),
    };
  }
}

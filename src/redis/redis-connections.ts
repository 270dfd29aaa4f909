import { ClusterService, RedisService } from '@liaoliaots/nestjs-redis';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { classifyError, describeError, FailureClass } from '../common/redact';
import { withTimeout } from '../common/with-timeout';
import { redisConfig, RedisConfig } from './redis.config';
import { shutdownConfig, ShutdownConfig } from '../lifecycle/shutdown.config';
import type { RedisTopology } from './redis-topology';
import { REDIS_PROTOCOL } from './redis-options';
import { DEFAULT_REDIS_CLIENT, RedisClient, RedisClientName } from './redis.constants';

type LinkState = 'connecting' | 'up' | 'down';

interface Link {
  readonly name: RedisClientName;
  readonly client: RedisClient;
  state: LinkState;
  everUp: boolean;
  lastFailure?: LastFailure;
}

/** Why a client is not connected: the classified reason and the redacted raw one. */
export interface LastFailure {
  message: FailureClass;
  reason: string;
}

/** Where a client points, without credentials; the shape depends on the topology. */
export type RedisTarget =
  | { topology: 'standalone'; host: string; port: number; db: number }
  | { topology: 'sentinel'; master: string; sentinels: string[]; db: number }
  | { topology: 'cluster'; nodes: string[] };

/** Pause before reconnecting a client that ioredis ended on its own (see listen()). */
const RESTART_AFTER_END_MS = 500;

/** How long boot waits for each client's first connect attempt before going on without it. */
const FIRST_CONNECT_WAIT_MS = 300;

/**
 * Owns the lifecycle of every Redis client: opens them at module init (the
 * clients are created with lazyConnect so no event fires before our
 * listeners exist), logs each state change once with a redacted reason, and
 * closes them at shutdown with a deadline, falling back to disconnect().
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly links = new Map<RedisClientName, Link>();
  /** Sentinel: the primary's address as last seen by any client, to log a failover once. */
  private primary?: string;
  /** Sentinel: one connection to one sentinel for the health details, moved on to the next when it fails. */
  private sentinel?: { client: Redis; index: number };
  private nextSentinel = 0;
  /** Set at shutdown: from then on a client's 'end' is ours, not a reason to reconnect. */
  private closing = false;

  constructor(
    redis: RedisService,
    cluster: ClusterService,
    @Inject(redisConfig.KEY) private readonly config: RedisConfig,
    @Inject(shutdownConfig.KEY) private readonly shutdown: ShutdownConfig,
  ) {
    const names: RedisClientName[] =
      config.topology === 'cluster'
        ? [DEFAULT_REDIS_CLIENT]
        : [DEFAULT_REDIS_CLIENT, ...(Object.keys(config.named) as RedisClientName[])];
    for (const name of names) {
      const client = config.topology === 'cluster' ? cluster.getOrThrow(name) : redis.getOrThrow(name);
      const link: Link = { name, client, state: 'connecting', everUp: false };
      this.links.set(name, link);
      this.listen(link);
    }
  }

  /** Configured client names: `default` first, then the enabled named ones. */
  names(): RedisClientName[] {
    return [...this.links.keys()];
  }

  /** standalone, sentinel or cluster: what every client of this process talks to. */
  get topology(): RedisTopology {
    return this.config.topology;
  }

  client(name: RedisClientName): RedisClient {
    const link = this.links.get(name);
    if (!link) throw new Error(`redis client '${name}' is not configured (set REDIS__${name.toUpperCase()}_DB)`);
    return link.client;
  }

  /** The last connection failure of `name` (cleared once it is ready), for checks that fail fast. */
  lastFailure(name: RedisClientName): LastFailure | undefined {
    return this.links.get(name)?.lastFailure;
  }

  /** Where a client points, without credentials. */
  describe(name: RedisClientName): RedisTarget {
    const { endpoint, sentinel } = this.config;
    const db = name === DEFAULT_REDIS_CLIENT ? endpoint.db : (this.config.named[name] ?? 0);
    const address = (n: { host: string; port: number }): string => `${n.host}:${n.port}`;
    switch (this.config.topology) {
      case 'sentinel':
        return { topology: 'sentinel', master: sentinel.masterName, sentinels: sentinel.nodes.map(address), db };
      case 'cluster':
        return { topology: 'cluster', nodes: this.config.clusterNodes.map(address) };
      default:
        return { topology: 'standalone', host: endpoint.host, port: endpoint.port, db };
    }
  }

  /**
   * Sentinel: the primary a client is connected to (the address ioredis got
   * from the sentinels), or undefined while it is not connected.
   */
  primaryOf(name: RedisClientName): string | undefined {
    const client = this.client(name);
    if (this.config.topology !== 'sentinel' || client instanceof Cluster || client.status !== 'ready') return undefined;
    const { remoteAddress, remotePort } = client.stream;
    return remoteAddress === undefined ? undefined : `${remoteAddress}:${remotePort}`;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(
      [...this.links.values()].map((link) => {
        const settled = new Promise<void>((resolve) => {
          link.client.once('ready', resolve);
          link.client.once('error', resolve);
          link.client.once('close', resolve);
        });
        link.client.connect().catch(() => undefined); // failures arrive as 'error' events
        return withTimeout(settled, FIRST_CONNECT_WAIT_MS, 'redis first connect').catch(() => undefined);
      }),
    );
  }

  /**
   * Sends one SENTINEL command (e.g. `MASTER mymaster`) to a sentinel over a
   * kept connection, bounded by the command timeout. When that sentinel
   * fails, the connection is dropped and the next call tries the next one.
   */
  async askSentinel(...args: string[]): Promise<{ sentinel: string; reply: unknown }> {
    const nodes = this.config.sentinel.nodes;
    if (nodes.length === 0) throw new Error('no sentinels configured');
    let current = this.sentinel;
    if (!current) {
      const index = this.nextSentinel;
      const node = nodes[index % nodes.length];
      const client = new Redis({
        host: node.host,
        port: node.port,
        password: this.config.sentinel.password ?? this.config.endpoint.password,
        connectionName: 'app-health',
        connectTimeout: this.config.connectTimeoutMs,
        commandTimeout: this.config.commandTimeoutMs,
        enableReadyCheck: false,
        enableOfflineQueue: false,
        protocol: REDIS_PROTOCOL,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        lazyConnect: true,
      });
      // Failures reach the caller as rejections; this only keeps the event from crashing the process.
      client.on('error', () => undefined);
      current = this.sentinel = { client, index };
    }
    const { client, index } = current;
    const node = nodes[index % nodes.length];
    try {
      if (client.status === 'wait') await client.connect();
      const reply = await client.call('SENTINEL', ...args);
      return { sentinel: `${node.host}:${node.port}`, reply };
    } catch (error) {
      client.disconnect();
      this.sentinel = undefined;
      this.nextSentinel = index + 1;
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const started = Date.now();
    this.closing = true;
    this.sentinel?.client.disconnect();
    await Promise.all([...this.links.values()].map((link) => this.close(link)));
    this.logger.log(
      { phase: 'redis', durationMs: Date.now() - started },
      `redis clients closed in ${Date.now() - started} ms`,
    );
  }

  private async close(link: Link): Promise<void> {
    const { client } = link;
    if (client.status === 'end') return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    try {
      await withTimeout(client.quit(), this.shutdown.clientCloseMs, `redis ${link.name} quit`);
    } catch (error) {
      this.logger.warn(`redis client ${link.name}: graceful quit failed (${classifyError(error)}); disconnecting`);
      client.disconnect();
    }
  }

  private listen(link: Link): void {
    const { client, name } = link;
    const where = this.describe(name);
    const target = describeTarget(where);
    client.on('ready', () => {
      const wasDown = link.state === 'down';
      link.state = 'up';
      link.lastFailure = undefined;
      const primary = this.notePrimary(name);
      const at = primary === undefined ? target : `${target}, primary ${primary}`;
      if (!link.everUp) this.logger.log({ client: name, ...where, primary }, `redis client ${name} connected to ${at}`);
      else if (wasDown)
        this.logger.log({ client: name, ...where, primary }, `redis client ${name} reconnected to ${at}`);
      link.everUp = true;
    });
    // Without an 'error' listener ioredis would raise an unhandled error event and crash the process.
    client.on('error', (error: unknown) => {
      const message = classifyError(error);
      link.lastFailure = { message, reason: describeError(error) };
      this.markDown(link, `${message}: ${link.lastFailure.reason}`, target);
    });
    // From shutdown on, every close is one we asked for: not a lost connection.
    client.on('close', () => {
      if (!this.closing && link.state === 'up') this.markDown(link, 'connection closed', target);
    });
    // ioredis gives a client up ('end') when its connector throws instead of retrying, e.g. a
    // Sentinel reconnect aborted while it asks a sentinel. The service heals itself: start over.
    client.on('end', () => {
      if (this.closing) return;
      this.markDown(link, 'client gave up', target);
      setTimeout(() => {
        if (!this.closing && client.status === 'end') client.connect().catch(() => undefined);
      }, RESTART_AFTER_END_MS).unref();
    });
  }

  /**
   * Records the primary a Sentinel client reached and logs a change of
   * primary once per process, whichever client notices it first.
   */
  private notePrimary(name: RedisClientName): string | undefined {
    const primary = this.primaryOf(name);
    if (primary === undefined) return undefined;
    const previous = this.primary;
    this.primary = primary;
    if (previous !== undefined && previous !== primary) {
      const master = this.config.sentinel.masterName;
      this.logger.warn(
        { topology: 'sentinel', master, oldPrimary: previous, newPrimary: primary },
        `redis sentinel failover of ${master}: primary moved from ${previous} to ${primary}`,
      );
    }
    return primary;
  }

  private markDown(link: Link, reason: string, target: string): void {
    if (link.state === 'down') return;
    const verb = link.everUp ? 'lost connection to' : 'cannot reach';
    link.state = 'down';
    this.logger.warn(
      { client: link.name, reason },
      `redis client ${link.name} ${verb} ${target} (${reason}); reconnecting`,
    );
  }
}

function describeTarget(where: RedisTarget): string {
  switch (where.topology) {
    case 'sentinel':
      return `sentinel master ${where.master} (sentinels ${where.sentinels.join(',')}) db ${where.db}`;
    case 'cluster':
      return `cluster (seed nodes ${where.nodes.join(',')})`;
    default:
      return `${where.host}:${where.port} db ${where.db}`;
  }
}

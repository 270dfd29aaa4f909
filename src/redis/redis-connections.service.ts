import { RedisService } from '@liaoliaots/nestjs-redis';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { classifyError, describeError, FailureClass } from '../common/redact';
import { withTimeout } from '../common/with-timeout';
import { redisConfig, RedisConfig, shutdownConfig, ShutdownConfig } from '../config/configuration';
import { DEFAULT_REDIS_CLIENT, RedisClientName } from './redis.constants';

type LinkState = 'connecting' | 'up' | 'down';

interface Link {
  readonly name: RedisClientName;
  readonly client: Redis;
  state: LinkState;
  everUp: boolean;
  lastFailure?: LastFailure;
}

/** Why a client is not connected: the classified reason and the redacted raw one. */
export interface LastFailure {
  message: FailureClass;
  reason: string;
}

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

  constructor(
    redis: RedisService,
    @Inject(redisConfig.KEY) private readonly config: RedisConfig,
    @Inject(shutdownConfig.KEY) private readonly shutdown: ShutdownConfig,
  ) {
    const names: RedisClientName[] = [DEFAULT_REDIS_CLIENT, ...(Object.keys(config.named) as RedisClientName[])];
    for (const name of names) {
      const link: Link = { name, client: redis.getOrThrow(name), state: 'connecting', everUp: false };
      this.links.set(name, link);
      this.listen(link);
    }
  }

  /** Configured client names: `default` first, then the enabled named ones. */
  names(): RedisClientName[] {
    return [...this.links.keys()];
  }

  client(name: RedisClientName): Redis {
    const link = this.links.get(name);
    if (!link) throw new Error(`redis client '${name}' is not configured (set REDIS__${name.toUpperCase()}_DB)`);
    return link.client;
  }

  /** The last connection failure of `name` (cleared once it is ready), for checks that fail fast. */
  lastFailure(name: RedisClientName): LastFailure | undefined {
    return this.links.get(name)?.lastFailure;
  }

  /** Where a client points, without credentials. */
  describe(name: RedisClientName): { host: string; port: number; db: number } {
    const db = name === DEFAULT_REDIS_CLIENT ? this.config.endpoint.db : (this.config.named[name] ?? 0);
    return { host: this.config.endpoint.host, port: this.config.endpoint.port, db };
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

  async onApplicationShutdown(): Promise<void> {
    const started = Date.now();
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
    const target = `${where.host}:${where.port} db ${where.db}`;
    client.on('ready', () => {
      const wasDown = link.state === 'down';
      link.state = 'up';
      link.lastFailure = undefined;
      if (!link.everUp) this.logger.log({ client: name, ...where }, `redis client ${name} connected to ${target}`);
      else if (wasDown) this.logger.log({ client: name, ...where }, `redis client ${name} reconnected to ${target}`);
      link.everUp = true;
    });
    // Without an 'error' listener ioredis would raise an unhandled error event and crash the process.
    client.on('error', (error: unknown) => {
      const message = classifyError(error);
      link.lastFailure = { message, reason: `${message}: ${describeError(error)}` };
      this.markDown(link, link.lastFailure.reason, target);
    });
    client.on('close', () => {
      if (link.state === 'up') this.markDown(link, 'connection closed', target);
    });
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

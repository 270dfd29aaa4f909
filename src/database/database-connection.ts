import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { classifyError, describeError, FailureClass } from '../common/redact';
import { withTimeout } from '../common/with-timeout';
import { databaseConfig, DatabaseConfig } from './database.config';
import { shutdownConfig, ShutdownConfig } from '../lifecycle/shutdown.config';

/** How long boot waits for the first connect attempt before going on without it. */
const FIRST_CONNECT_WAIT_MS = 500;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 1000;

/** The parts of pg's Pool this class touches for a hard disconnect. */
interface PgPoolInternals {
  _clients?: Array<{ connection?: { stream?: { destroy(): void } } }>;
}
interface PostgresDriverInternals {
  master?: PgPoolInternals;
}

/**
 * Opens the application's DataSource in the background and keeps trying until
 * it succeeds (then runs pending migrations); after that, pg's pool
 * reconnects by itself. At shutdown it destroys the DataSource with a
 * deadline and, past it, cuts the sockets so a stopped server cannot block
 * exit. (TypeOrmCoreModule's own shutdown hook runs later and finds the
 * DataSource already closed, so it is not closed twice.)
 */
@Injectable()
export class DatabaseConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private failure?: FailureClass;
  private failureReason?: string;
  private stopped = false;
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly config: DatabaseConfig,
    @Inject(shutdownConfig.KEY) private readonly shutdown: ShutdownConfig,
  ) {}

  get connected(): boolean {
    return this.dataSource.isInitialized;
  }

  /** The last failed connect attempt, classified and redacted, while not connected. */
  get lastFailure(): { message: FailureClass; reason: string } | undefined {
    return this.failure && { message: this.failure, reason: this.failureReason ?? this.failure };
  }

  /** Where the DataSource points, without credentials. */
  describe(): { host: string; port: number; database: string; version?: string } {
    const { host, port, database } = this.config.connection;
    const version = (this.dataSource.driver as { version?: string }).version;
    return { host, port, database, ...(version ? { version } : {}) };
  }

  async onModuleInit(): Promise<void> {
    const first = this.connectOnce();
    this.loop = first.then((ok) => (ok ? undefined : this.retry()));
    await withTimeout(first, FIRST_CONNECT_WAIT_MS, 'database first connect').catch(() => undefined);
  }

  private async retry(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      const delay = Math.min(RETRY_MIN_MS * 2 ** (attempt - 1), RETRY_MAX_MS);
      await sleep(delay, undefined, { ref: false, signal: this.stopping.signal }).catch(() => undefined);
      if (this.stopped || (await this.connectOnce())) return;
    }
  }

  /** One bounded attempt: connect, then migrate. Logs a failure only when its reason changes. */
  private async connectOnce(): Promise<boolean> {
    const { host, port, database } = this.config.connection;
    const budget = this.config.connectTimeoutMs + this.config.statementTimeoutMs;
    const attempt = this.dataSource.initialize();
    try {
      await withTimeout(attempt, budget, 'database connect');
      if (this.config.migrationsRun) await this.dataSource.runMigrations({ transaction: 'each' });
      this.logger.log(
        { host, port, database, recovered: this.failure !== undefined },
        `${this.failure ? 'connected (after retrying)' : 'connected'} to postgres ${host}:${port}/${database}`,
      );
      this.failure = undefined;
      return true;
    } catch (error) {
      const failure = classifyError(error);
      if (failure !== this.failure) {
        this.logger.warn(
          { host, port, database, reason: describeError(error) },
          `cannot reach postgres ${host}:${port}/${database} (${failure}); retrying in the background`,
        );
      }
      this.failure = failure;
      this.failureReason = `${failure}: ${describeError(error)}`;
      await attempt.catch(() => undefined);
      await this.discardHalfOpenPool();
      return false;
    }
  }

  /** After a failed initialize() TypeORM may keep a pool; end it so retries do not leak connections. */
  private async discardHalfOpenPool(): Promise<void> {
    if (this.dataSource.isInitialized) {
      await this.destroyWithDeadline();
      return;
    }
    const driver = this.dataSource.driver as unknown as { master?: unknown; disconnect(): Promise<void> };
    if (driver.master)
      await withTimeout(driver.disconnect(), this.shutdown.clientCloseMs, 'pool end').catch(() => this.cutSockets());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    const started = Date.now();
    // A connect attempt in flight could open a pool after we closed it: let it finish first.
    await withTimeout(this.loop ?? Promise.resolve(), this.shutdown.clientCloseMs, 'database connect loop').catch(
      () => undefined,
    );
    if (this.dataSource.isInitialized) await this.destroyWithDeadline();
    this.logger.log(
      { phase: 'database', durationMs: Date.now() - started },
      `postgres pool closed in ${Date.now() - started} ms`,
    );
  }

  private async destroyWithDeadline(): Promise<void> {
    const closing = this.dataSource.destroy();
    try {
      await withTimeout(closing, this.shutdown.clientCloseMs, 'database close');
    } catch (error) {
      this.logger.warn(`postgres pool did not close in time (${classifyError(error)}); cutting its connections`);
      this.cutSockets();
      await withTimeout(closing, this.shutdown.clientCloseMs, 'database close').catch(() => undefined);
    }
  }

  private cutSockets(): void {
    const pool = (this.dataSource.driver as unknown as PostgresDriverInternals).master;
    for (const client of pool?._clients ?? []) client.connection?.stream?.destroy();
  }
}

import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Client, type ClientConfig } from 'pg';
import type { AppConfig } from '../config/app.config';
import type { DatabaseConfig } from './database.config';
import { MIGRATIONS } from './migrations';
import { logPoolError, TypeOrmLogger } from './typeorm-logger';

/** Name the app's sessions carry in pg_stat_activity. */
export const DB_APPLICATION_NAME = 'probe-ready-api';

/**
 * pg's client with a listener on its 'error' event from the moment it exists.
 * A server that shuts down (a restart: "terminating connection due to
 * administrator command") sends every session an error that pg emits on the
 * client; when it lands while neither the pool nor TypeORM listens, Node
 * throws it and the process crashed (seen in the restart test). Queries still
 * fail and the pool still drops the client: this only keeps the event handled.
 */
export class PoolClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

/**
 * TypeORM options from the typed config. `manualInitialization` replaces
 * @nestjs/typeorm's boot-time retry loop (9 × 3 s, then exit; or a hang on a
 * stopped server) with DatabaseConnection's background connect, so the app
 * boots and serves liveness while PostgreSQL is down.
 */
export function buildTypeOrmOptions(db: DatabaseConfig, app: AppConfig): TypeOrmModuleOptions {
  const { connection } = db;
  return {
    type: 'postgres',
    host: connection.host,
    port: connection.port,
    username: connection.username,
    password: connection.password,
    database: connection.database,
    ssl: connection.ssl,
    applicationName: DB_APPLICATION_NAME,
    poolSize: db.poolSize,
    connectTimeoutMS: db.connectTimeoutMs,
    extra: {
      Client: PoolClient,
      // server-side cap for every statement
      statement_timeout: db.statementTimeoutMs,
      // client-side cap: also ends waits on a stopped (SIGSTOP) server
      query_timeout: db.statementTimeoutMs + 1000,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
    },
    autoLoadEntities: true,
    synchronize: false,
    migrationsRun: false, // run by DatabaseConnection after each successful connect
    migrations: [...MIGRATIONS],
    manualInitialization: true,
    logging: app.production ? ['error', 'migration'] : ['error', 'warn', 'migration'],
    logger: new TypeOrmLogger(),
    poolErrorHandler: logPoolError,
  };
}

import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { AppConfig, DatabaseConfig } from '../config/configuration';
import { MIGRATIONS } from './migrations';
import { logPoolError, TypeOrmLogger } from './typeorm-logger';

/** Name the app's sessions carry in pg_stat_activity. */
export const DB_APPLICATION_NAME = 'probe-ready-api';

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

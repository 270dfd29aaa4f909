import { ConfigType, registerAs } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/environment';
import { loadEnvironment } from '../config/load-environment';

export interface PostgresConnection {
  host: string;
  port: number;
  username: string;
  password?: string;
  database: string;
  ssl: boolean;
}

/** DATABASE_URL wins over DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_NAME. */
export function resolvePostgres(e: EnvironmentVariables): PostgresConnection {
  if (e.DATABASE_URL) {
    const url = new URL(e.DATABASE_URL);
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : 5432,
      username: decodeURIComponent(url.username) || e.DB_USER,
      password: url.password ? decodeURIComponent(url.password) : e.DB_PASSWORD,
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || e.DB_NAME,
      ssl: ['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? ''),
    };
  }
  return {
    host: e.DB_HOST,
    port: e.DB_PORT,
    username: e.DB_USER,
    password: e.DB_PASSWORD,
    database: e.DB_NAME,
    ssl: false,
  };
}

export const databaseConfig = registerAs('database', () => {
  const e = loadEnvironment();
  return {
    connection: resolvePostgres(e),
    poolSize: e.DB_POOL_SIZE,
    connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    migrationsRun: e.DB_MIGRATIONS_RUN,
  };
});

export type DatabaseConfig = ConfigType<typeof databaseConfig>;

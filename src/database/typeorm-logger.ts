import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerContract } from 'typeorm';
import { describeError, redact } from '../common/redact';

/**
 * Routes TypeORM's own messages (errors, migrations, pool errors) through
 * the application logger, redacted, instead of TypeORM's console logger.
 * Queries are not logged: they would carry parameters.
 */
export class TypeOrmLogger implements TypeOrmLoggerContract {
  private readonly logger = new NestLogger('TypeORM');

  logQuery(): void {}

  logQueryError(error: string | Error): void {
    this.logger.warn(`query failed: ${describeError(error)}`);
  }

  logQuerySlow(time: number): void {
    this.logger.warn(`slow query: ${time} ms`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(redact(message));
  }

  logMigration(message: string): void {
    this.logger.log(redact(message));
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = describeError(message);
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}

/**
 * pg pool 'error' events (an idle client's server went away, e.g. during a
 * PostgreSQL restart). Without a handler they would crash the process; the
 * pool already drops the broken client and the next query reconnects.
 */
export function logPoolError(error: Error): void {
  new NestLogger('Database').warn(`idle pool connection lost: ${describeError(error)}`);
}

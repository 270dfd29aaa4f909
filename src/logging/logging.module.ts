import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../config/configuration';
import { LogDropWarning } from './log-sink';
import { buildPinoOptions } from './pino-options';
import { RequestLogging } from './request-logging';
import { UnhandledErrorFilter } from './unhandled-error.filter';

/**
 * Structured logs: JSON in production, pretty in development (nestjs-pino
 * for the Nest logger, RequestLogging for access lines).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (app: AppConfig) => buildPinoOptions(app),
    }),
  ],
  providers: [RequestLogging, LogDropWarning, { provide: APP_FILTER, useClass: UnhandledErrorFilter }],
})
export class LoggingModule {}

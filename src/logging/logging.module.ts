import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../config/app.config';
import { LogDropWarning, LogFlush } from './log-sink';
import { buildPinoOptions } from './pino-options';
import { RequestLogging } from './request-logging';
import { UnhandledErrorFilter } from './unhandled-error.filter';

/**
 * Structured logs: JSON in production, pretty in development (nestjs-pino
 * for the Nest logger, RequestLogging for access lines).
 */
// Global only for the order of shutdown hooks: Nest runs global modules' last, so LogFlush
// sees every other module's final lines (log-sink.ts).
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (app: AppConfig) => buildPinoOptions(app),
    }),
  ],
  providers: [RequestLogging, LogDropWarning, LogFlush, { provide: APP_FILTER, useClass: UnhandledErrorFilter }],
})
export class LoggingModule {}

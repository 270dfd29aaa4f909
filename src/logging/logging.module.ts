import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../config/configuration';
import { buildPinoOptions } from './pino-options';
import { RequestLogging } from './request-logging';

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
  providers: [RequestLogging],
})
export class LoggingModule {}

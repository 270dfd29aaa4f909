import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../config/configuration';
import { buildPinoOptions } from './pino-options';

/** Structured logs: JSON in production, pretty in development (nestjs-pino). */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (app: AppConfig) => buildPinoOptions(app),
    }),
  ],
})
export class LoggingModule {}

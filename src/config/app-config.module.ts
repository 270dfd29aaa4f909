import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  appConfig,
  databaseConfig,
  healthConfig,
  jobsConfig,
  metricsConfig,
  redisConfig,
  shutdownConfig,
} from './configuration';
import { loadEnvironment } from './environment';

/**
 * Nest's ConfigModule, global, with this service's environment: validated
 * once, then exposed as typed sections (`@Inject(redisConfig.KEY) cfg: RedisConfig`).
 */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      cache: true,
      // The sections read the parsed result (loadEnvironment); the raw variables are kept as they
      // are, so Nest writes no defaults back into process.env.
      validate: (raw) => {
        loadEnvironment(raw);
        return raw;
      },
      load: [appConfig, databaseConfig, redisConfig, healthConfig, shutdownConfig, jobsConfig, metricsConfig],
    }),
  ],
})
export class AppConfigModule {}

import { Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import {
  appConfig,
  databaseConfig,
  healthConfig,
  jobsConfig,
  metricsConfig,
  redisConfig,
  shutdownConfig,
} from './configuration';
import { validateEnvironment } from './environment';

/**
 * Global configuration: the environment is validated once, then exposed as
 * typed sections (`@Inject(redisConfig.KEY) cfg: RedisConfig`).
 */
@Module({
  imports: [
    NestConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      cache: true,
      validate: (raw) => {
        validateEnvironment(raw);
        return raw;
      },
      load: [appConfig, databaseConfig, redisConfig, healthConfig, shutdownConfig, jobsConfig, metricsConfig],
    }),
  ],
})
export class ConfigModule {}

import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { databaseConfig } from '../database/database.config';
import { healthConfig } from '../health/health.config';
import { jobsConfig } from '../jobs/jobs.config';
import { shutdownConfig } from '../lifecycle/shutdown.config';
import { metricsConfig } from '../metrics/metrics.config';
import { redisConfig } from '../redis/redis.config';
import { appConfig } from './app.config';
import { loadEnvironment } from './load-environment';

/**
 * Nest's ConfigModule, global, with this service's environment: validated
 * once per boot (loadEnvironment), then exposed as typed sections, each
 * defined next to the module that owns it (`@Inject(redisConfig.KEY) config: RedisConfig`).
 */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      cache: true,
      // The typed result: ConfigService serves it (`get('PORT')` is a number). When main.ts has
      // already checked the environment, this reuses that parse.
      validate: (raw) => loadEnvironment(raw),
      load: [appConfig, databaseConfig, redisConfig, healthConfig, shutdownConfig, jobsConfig, metricsConfig],
    }),
  ],
})
export class AppConfigModule {}

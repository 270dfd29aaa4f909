import { Module } from '@nestjs/common';
import { AppConfigModule } from './config/app-config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';

/**
 * Composition only. Each resource module brings its client, its health
 * check (found by HealthModule at init) and its metrics.
 */
@Module({
  imports: [
    AppConfigModule,
    LoggingModule,
    LifecycleModule,
    DatabaseModule,
    RedisModule,
    JobsModule,
    HealthModule,
    MetricsModule,
  ],
})
export class AppModule {}

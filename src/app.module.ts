import { Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { DatabaseHealthIndicator } from './database/database.health';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisHealthIndicator } from './redis/redis.health';
import { RedisModule } from './redis/redis.module';

/** Composition only. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    LifecycleModule,
    DatabaseModule,
    RedisModule,
    JobsModule,
    MetricsModule,
    HealthModule.forRoot({
      imports: [DatabaseModule, RedisModule],
      indicators: [DatabaseHealthIndicator, RedisHealthIndicator],
    }),
  ],
})
export class AppModule {}

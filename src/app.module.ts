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

/** The checks of this service: each resource module's indicator (README, "Adding a health check"). */
const health = HealthModule.forRoot({
  imports: [DatabaseModule, RedisModule],
  indicators: [DatabaseHealthIndicator, RedisHealthIndicator],
});

/** Composition only. DatabaseModule and RedisModule come in with their checks. */
@Module({
  imports: [ConfigModule, LoggingModule, LifecycleModule, JobsModule, health, MetricsModule.forRoot({ health })],
})
export class AppModule {}

import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { RedisModule } from '../redis/redis.module';
import { JobStore } from './job-store';
import { JobStoreReadyGuard } from './job-store-ready.guard';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

/** The jobs API on the default Redis client (see job-store.ts for the storage layout). */
@Module({
  // HealthModule: the guard reads the Redis check's state to fail fast while it is down.
  imports: [RedisModule, HealthModule],
  controllers: [JobsController],
  providers: [JobsService, JobStore, JobStoreReadyGuard],
})
export class JobsModule {}

import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { JobStore } from './job-store';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

/** The jobs API on the default Redis client (see job-store.ts for the storage layout). */
@Module({
  imports: [RedisModule],
  controllers: [JobsController],
  providers: [JobsService, JobStore],
})
export class JobsModule {}

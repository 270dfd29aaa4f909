import { Module } from '@nestjs/common';
import { ShutdownGate } from './shutdown-gate';
import { ShutdownService } from './shutdown.service';

/** Owns the shutdown gate and the drain; resource modules close their own clients. */
@Module({
  providers: [ShutdownGate, ShutdownService],
  exports: [ShutdownGate],
})
export class LifecycleModule {}

import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { HealthController, ReadyController } from './health.controller';
import { HealthAnswers } from './health-answers';
import { HealthDetailsAuth } from './health-details.auth';
import { HealthIndicatorExplorer } from './health-indicator.explorer';
import { HealthMonitor } from './health-monitor';
import { HealthPeers } from './health-peers';
import { HealthPeersController } from './health-peers.controller';

/**
 * The probes over the monitor's snapshot. Knows no dependency: the checks
 * are the providers marked with `@HealthIndicator()` in whichever modules
 * the application imports, found at init (health-indicator.explorer.ts).
 * Exports the monitor and the peers' verdicts, for readers of the snapshot
 * such as MetricsModule and routes that fail fast while a dependency is down.
 */
@Module({
  imports: [
    // No per-request error log from HealthCheckService: the monitor logs each state change once.
    TerminusModule.forRoot({ logger: false }),
    DiscoveryModule,
    LifecycleModule,
  ],
  controllers: [HealthController, ReadyController, HealthPeersController],
  providers: [HealthMonitor, HealthPeers, HealthIndicatorExplorer, HealthAnswers, HealthDetailsAuth],
  exports: [HealthMonitor, HealthPeers],
})
export class HealthModule {}

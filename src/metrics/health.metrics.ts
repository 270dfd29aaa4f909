import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { HealthMonitor } from '../health/health-monitor';
import { HealthPeers } from '../health/health-peers';
import type { CheckView } from '../health/health-snapshot';
import { METRIC_NAMES } from './metrics.constants';

/**
 * Per-check gauges computed at scrape time from HealthMonitor.snapshot(): the
 * same in-memory snapshot the probes read, so /metrics and /health/ready
 * never disagree and a scrape never reaches a dependency. A stale check
 * reads as down, as it does on the probes.
 */
@Injectable()
export class HealthMetrics {
  constructor(registry: Registry, monitor: HealthMonitor, peers: HealthPeers) {
    const checks = (): readonly CheckView[] => monitor.snapshot().checks;
    new Gauge({
      name: METRIC_NAMES.checkStatus,
      help: 'Health check state from the monitor snapshot: 1 up, 0 down (stale counts as down).',
      labelNames: ['check'],
      registers: [registry],
      collect() {
        this.reset();
        for (const check of checks()) this.set({ check: check.name }, check.status === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.checkDuration,
      help: 'Duration of the last completed run of a health check, in seconds.',
      labelNames: ['check'],
      registers: [registry],
      collect() {
        this.reset();
        for (const check of checks()) {
          if (check.responseTimeMs !== null) this.set({ check: check.name }, check.responseTimeMs / 1000);
        }
      },
    });
    new Gauge({
      name: METRIC_NAMES.checkLastChange,
      help: 'Unix time, in seconds, at which a health check entered its current state.',
      labelNames: ['check'],
      registers: [registry],
      collect() {
        this.reset();
        for (const check of checks()) {
          if (check.sinceMs !== null) this.set({ check: check.name }, check.sinceMs / 1000);
        }
      },
    });
    new Gauge({
      name: METRIC_NAMES.checkSharedOutage,
      help: 'Health check down here and on enough peers to count as a shared outage (readiness stays 200): 1 yes, 0 no.',
      labelNames: ['check'],
      registers: [registry],
      collect() {
        this.reset();
        for (const check of checks()) {
          this.set({ check: check.name }, check.status === 'down' && peers.outage(check.name) ? 1 : 0);
        }
      },
    });
  }
}

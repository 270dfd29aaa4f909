import { Injectable, Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { healthConfig } from './health.config';
import { HealthIndicator } from './health-indicator.decorator';
import { HealthIndicatorExplorer } from './health-indicator.explorer';
import { HealthMonitor } from './health-monitor';
import { healthConfigWith } from '../../test/support/health-config';

const config = healthConfigWith();

@Injectable()
@HealthIndicator({ name: 'upstream', required: false, timeoutMs: 300, scope: 'local' })
class UpstreamHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}
  check(key: string) {
    return this.health.check(key).up();
  }
}

@Injectable()
@HealthIndicator({ name: 'queue' })
class QueueHealthIndicator {
  healthChecks() {
    return ['a', 'b'].map((name) => ({ name: `queue-${name}`, check: (key: string) => ({ [key]: { status: 'up' } }) }));
  }
}

/** A resource module: it only provides its indicators. */
@Module({ imports: [TerminusModule], providers: [UpstreamHealthIndicator, QueueHealthIndicator] })
class ResourceModule {}

describe('HealthIndicatorExplorer', () => {
  it('registers every marked provider of the imported modules, with the defaults filled in, and logs them once', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule, ResourceModule],
      providers: [HealthMonitor, HealthIndicatorExplorer, { provide: healthConfig.KEY, useValue: config }],
    }).compile();
    await moduleRef.init();
    try {
      const registrations = moduleRef.get(HealthMonitor).registrations();
      expect([...registrations].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'queue-a', required: true, timeoutMs: 100, scope: 'shared' },
        { name: 'queue-b', required: true, timeoutMs: 100, scope: 'shared' },
        { name: 'upstream', required: false, timeoutMs: 300, scope: 'local' },
      ]);
      const lines = log.mock.calls.map((call) => String(call[1])).filter((line) => line.startsWith('health checks'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('upstream (optional, local, 300 ms)');
      expect(lines[0]).toContain('queue-a (required, shared, 100 ms)');
    } finally {
      log.mockRestore();
      await moduleRef.close();
    }
  });
});

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HealthIndicator } from '../../../src/health/health-indicator.decorator';

/** The README's "Adding a health check", as written there: an HTTP upstream, optional, 300 ms. */
@Injectable()
@HealthIndicator({ name: 'upstream', required: false, timeoutMs: 300 })
export class UpstreamHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  check(key: string) {
    return this.health.check(key).attempt(async ({ signal }) => {
      const res = await fetch(`${process.env.UPSTREAM_URL}/status`, { signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    });
  }
}

/**
 * The application module as createApp() builds it, in process: one
 * HealthModule instance, whose monitor both the probes and /metrics read.
 * Redis and PostgreSQL point at closed ports (the app boots without them).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthMonitor } from '../src/health/health-monitor';
import { createAppWithoutDependencies } from './support/in-process-app';

describe('application composition', () => {
  let app: NestFastifyApplication;
  const bootstrapped = jest.spyOn(HealthMonitor.prototype, 'onApplicationBootstrap');
  const saved = { ...process.env };

  beforeAll(async () => {
    app = await createAppWithoutDependencies();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    bootstrapped.mockRestore();
    process.env = saved;
  });

  it('runs one health monitor', () => {
    expect(bootstrapped).toHaveBeenCalledTimes(1);
  });

  it('exports that monitor to the metrics: /metrics has a health_check_status series for each of its checks', async () => {
    const names = app.get(HealthMonitor).names();
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    const series = [...metrics.body.matchAll(/^health_check_status\{check="([^"]+)"\}/gm)].map((m) => m[1]);
    expect(names).toEqual(['db', 'redis']);
    expect(series.sort()).toEqual([...names].sort());
  });
});

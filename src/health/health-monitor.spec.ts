import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthCheckDefinition } from './health-check.interface';
import { HealthMonitor, jittered } from './health-monitor';
import type { HealthConfig } from './health.config';
import { healthConfigWith } from '../../test/support/health-config';

const config = healthConfigWith();

const up = (key: string): HealthIndicatorResult => ({ [key]: { status: 'up' } });
const down = (key: string, message: string): HealthIndicatorResult => ({
  [key]: { status: 'down', message, reason: 'secret redis://:pw@h' },
});

function monitorWith(checks: HealthCheckDefinition[], overrides: Partial<HealthConfig> = {}): HealthMonitor {
  const monitor = new HealthMonitor({ ...config, ...overrides });
  for (const check of checks) monitor.register(check);
  return monitor;
}

/** Lets the monitor's promise chains run between fake-timer steps. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('jittered', () => {
  it('spreads a period over ±10 % of itself', () => {
    expect(jittered(1000, () => 0)).toBe(900);
    expect(jittered(1000, () => 0.5)).toBe(1000);
    expect(jittered(1000, () => 0.999_999)).toBe(1100);
  });
});

describe('HealthMonitor', () => {
  // The middle of the jitter range: schedules below are exact multiples of the period.
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('jitters each period: the next run comes between 0.9 and 1.1 periods later', async () => {
    let calls = 0;
    const monitor = monitorWith([{ name: 'db', check: (k) => (calls++, Promise.resolve(up(k))) }]);
    jest.spyOn(Math, 'random').mockReturnValue(0);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    await jest.advanceTimersByTimeAsync(899);
    expect(calls).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
  });

  it('reports a check as pending until its first run completes', () => {
    const monitor = monitorWith([{ name: 'db', check: (k) => Promise.resolve(up(k)) }]);
    expect(monitor.snapshot().checks[0]).toMatchObject({
      name: 'db',
      status: 'down',
      message: 'pending',
      checkedAtMs: null,
    });
  });

  it('records up and the time of the run after the first run', async () => {
    const monitor = monitorWith([{ name: 'db', check: (k) => Promise.resolve(up(k)) }]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(monitor.snapshot().checks[0]).toMatchObject({ status: 'up', checkedAtMs: 1_000_000, message: undefined });
  });

  it("reports a hung check as down with message timeout after its attempt's deadline", async () => {
    // Terminus' withTimeout() runs on AbortSignal.timeout, which fake timers do not drive.
    jest.useRealTimers();
    const health = new HealthIndicatorService();
    const monitor = monitorWith([
      {
        name: 'redis',
        check: (k, timeoutMs) =>
          health
            .check(k)
            .attempt(() => new Promise(() => undefined))
            .withTimeout(timeoutMs),
      },
    ]);
    monitor.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(monitor.snapshot().checks[0]).toMatchObject({
      status: 'down',
      message: 'timeout',
      reason: 'timeout of 100ms exceeded',
    });
    await monitor.beforeApplicationShutdown();
  });

  it('records a degraded check as serving, with its reason for authorized callers', async () => {
    const health = new HealthIndicatorService();
    const monitor = monitorWith([{ name: 'redis', check: (k) => health.check(k).degraded({ reason: 'slots pfail' }) }]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(monitor.snapshot().checks[0]).toMatchObject({ status: 'degraded', reason: 'slots pfail' });
  });

  it("keeps Terminus' attempt bookkeeping out of the check's data", async () => {
    const health = new HealthIndicatorService();
    const monitor = monitorWith([{ name: 'db', check: (k) => health.check(k).attempt(() => ({ primary: 'p:1' })) }]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(monitor.snapshot().checks[0]).toMatchObject({ status: 'up', data: { primary: 'p:1' } });
    expect(monitor.snapshot().checks[0].data).not.toHaveProperty('responseTime');
  });

  it('never runs one check twice at once, however long the call hangs', async () => {
    let calls = 0;
    const monitor = monitorWith([
      {
        name: 'redis',
        check: () => {
          calls++;
          return new Promise(() => undefined);
        },
      },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
  });

  it('records a check whose call never settles as down "timeout" at its deadline, then "stale", without a second call', async () => {
    let calls = 0;
    const monitor = monitorWith([
      {
        name: 'redis',
        check: (k) => (calls++ === 0 ? Promise.resolve(up(k)) : new Promise<HealthIndicatorResult>(() => undefined)),
      },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0); // up at t=0; the run at t=1000 never settles
    await jest.advanceTimersByTimeAsync(1000 + 100); // its deadline (checkTimeoutMs 100)
    expect(monitor.snapshot().checks[0]).toMatchObject({ status: 'down', message: 'timeout' });
    await jest.advanceTimersByTimeAsync(1100 + 100 + 800 + 1); // the budget covers a jittered (+10 %) interval
    expect(monitor.snapshot().checks[0]).toMatchObject({ status: 'down', message: 'stale' });
    expect(calls).toBe(2);
  });

  it('completes the first round, for /health/startup, even when a check never settles', async () => {
    const monitor = monitorWith([
      { name: 'upstream', check: () => new Promise<HealthIndicatorResult>(() => undefined) },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(100);
    expect(monitor.snapshot().checks[0].checkedAtMs).not.toBeNull();
  });

  it('does not hold shutdown for a call that outlived its deadline', async () => {
    const monitor = monitorWith([
      { name: 'upstream', check: () => new Promise<HealthIndicatorResult>(() => undefined) },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(100);
    await expect(monitor.beforeApplicationShutdown()).resolves.toBeUndefined();
  });

  it('runs at most one call per interval while up and per failure interval while down', async () => {
    let healthy = true;
    let calls = 0;
    const monitor = monitorWith([
      {
        name: 'db',
        check: (k) => {
          calls++;
          return Promise.resolve(healthy ? up(k) : down(k, 'connection refused'));
        },
      },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    await jest.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(4); // t=0, 1000, 2000, 3000
    healthy = false;
    await jest.advanceTimersByTimeAsync(1000); // fails at 4000
    await jest.advanceTimersByTimeAsync(1000); // 4500, 5000
    expect(calls).toBe(7);
  });

  it('keeps "since" while the state holds and moves it on a change', async () => {
    let healthy = true;
    const monitor = monitorWith([{ name: 'db', check: (k) => Promise.resolve(healthy ? up(k) : down(k, 'timeout')) }]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    const since = monitor.snapshot().checks[0].sinceMs;
    await jest.advanceTimersByTimeAsync(2000);
    expect(monitor.snapshot().checks[0].sinceMs).toBe(since);
    healthy = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(monitor.snapshot().checks[0].sinceMs).toBe(1_000_000 + 3000);
  });

  it('keeps only a classified message public and redacts the raw reason', async () => {
    const monitor = monitorWith([
      { name: 'redis', check: (k) => Promise.resolve(down(k, 'connect ECONNREFUSED 10.0.0.1:6379')) },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    const view = monitor.snapshot().checks[0];
    expect(view.message).toBe('connection refused');
    expect(view.reason).toBe('secret redis://:***@h');
  });

  it('treats a throwing indicator as down instead of crashing', async () => {
    const monitor = monitorWith([
      {
        name: 'db',
        check: () => {
          throw Object.assign(new Error('boom'), { code: 'ECONNRESET' });
        },
      },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(monitor.snapshot().checks[0]).toMatchObject({ status: 'down', message: 'connection reset' });
  });

  it('makes a check optional when HEALTH_OPTIONAL_CHECKS names it', () => {
    const monitor = monitorWith([{ name: 'upstream', check: (k) => Promise.resolve(up(k)) }], {
      optionalChecks: ['upstream'],
    });
    expect(monitor.snapshot().checks[0].required).toBe(false);
  });

  it('refuses duplicate, reserved or path-unsafe names', () => {
    const check = (k: string) => Promise.resolve(up(k));
    expect(() =>
      monitorWith([
        { name: 'db', check },
        { name: 'db', check },
      ]),
    ).toThrow(/registered twice/);
    expect(() => monitorWith([{ name: 'ready', check }])).toThrow(/reserved/);
    expect(() => monitorWith([{ name: 'a/b', check }])).toThrow(/must match/);
  });

  it('refreshes details at most once per details interval, only while up', async () => {
    let detailCalls = 0;
    const monitor = monitorWith([
      {
        name: 'db',
        check: (k) => Promise.resolve(up(k)),
        details: () => Promise.resolve({ version: `v${++detailCalls}` }),
      },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(5000);
    expect(detailCalls).toBe(1);
    expect(monitor.snapshot().checks[0].details).toEqual({ version: 'v1' });
    await jest.advanceTimersByTimeAsync(30_000);
    expect(detailCalls).toBe(2);
  });

  it('stops scheduling at shutdown', async () => {
    let calls = 0;
    const monitor = monitorWith([
      {
        name: 'db',
        check: (k) => {
          calls++;
          return Promise.resolve(up(k));
        },
      },
    ]);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    await monitor.beforeApplicationShutdown();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    await flush();
  });
});

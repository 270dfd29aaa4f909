import { Test } from '@nestjs/testing';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ShutdownGate } from '../lifecycle/shutdown-gate';
import { HealthAnswers } from './health-answers';
import { HealthMonitor } from './health-monitor';
import { HealthPeers } from './health-peers';
import { healthConfigWith } from '../../test/support/health-config';

const config = healthConfigWith();

describe('HealthAnswers', () => {
  let healthy: boolean;
  let hang: boolean;
  let monitor: HealthMonitor;
  let gate: ShutdownGate;
  let health: HealthCheckService;
  let answers: HealthAnswers;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
    }).compile();
    health = moduleRef.get(HealthCheckService);
  });

  beforeEach(async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    // The middle of the monitor's jitter range: runs come exactly one interval apart.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    healthy = true;
    hang = false;
    monitor = new HealthMonitor(config);
    monitor.register({
      name: 'db',
      check: (k) =>
        hang
          ? new Promise(() => undefined)
          : Promise.resolve({ [k]: { status: healthy ? 'up' : 'down', message: 'timeout' } }),
    });
    gate = new ShutdownGate();
    answers = new HealthAnswers(monitor, gate, health, new HealthPeers(config, monitor));
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('computes an answer once and then returns it, without a promise, while nothing changes', async () => {
    const check = jest.spyOn(health, 'check');
    const first = await answers.readiness(false, new Set());
    const second = answers.readiness(false, new Set());
    expect(second).toBe(first);
    expect(check).toHaveBeenCalledTimes(1);
    expect(first).toMatchObject({ httpStatus: 200, body: { status: 'ok' } });
    check.mockRestore();
  });

  it('shares one computation between concurrent probes', async () => {
    const check = jest.spyOn(health, 'check');
    const [a, b] = await Promise.all([answers.startup(false), answers.startup(false)]);
    expect(a).toBe(b);
    expect(check).toHaveBeenCalledTimes(1);
    check.mockRestore();
  });

  it('computes again after a check completes with a new result', async () => {
    const first = await answers.readiness(false, new Set());
    healthy = false;
    await jest.advanceTimersByTimeAsync(1000);
    const second = await answers.readiness(false, new Set());
    expect(second).not.toBe(first);
    expect(second.httpStatus).toBe(503);
    expect(second.body.error.db).toMatchObject({ status: 'down', message: 'timeout' });
  });

  it('turns a stuck check into a timeout at its deadline, then stale, though its call never completes', async () => {
    hang = true;
    await jest.advanceTimersByTimeAsync(1000); // the next run starts and never settles
    expect((await answers.readiness(false, new Set())).httpStatus).toBe(200); // the last result, still fresh
    await jest.advanceTimersByTimeAsync(100); // checkTimeoutMs
    expect((await answers.readiness(false, new Set())).body.error.db.message).toBe('timeout');
    await jest.advanceTimersByTimeAsync(2000 + 1); // 1100 (a jittered interval) + 100 + 800 after the timeout
    expect((await answers.readiness(false, new Set())).body.error.db.message).toBe('stale');
  });

  it('answers shutting_down as soon as the gate closes', async () => {
    await answers.readiness(false, new Set());
    gate.close();
    const answer = await answers.readiness(false, new Set());
    expect(answer).toMatchObject({ httpStatus: 503, body: { status: 'shutting_down' } });
  });

  it('keeps separate answers per exclude list and authorization', async () => {
    expect((await answers.readiness(false, new Set(['db']))).body.details).toEqual({});
    expect((await answers.readiness(true, new Set())).body.details.db.required).toBe(true);
    expect((await answers.readiness(false, new Set())).body.details.db.required).toBeUndefined();
  });

  it('answers one check by name', async () => {
    expect(await answers.one('db', false)).toMatchObject({
      httpStatus: 200,
      body: { details: { db: { status: 'up' } } },
    });
  });
});

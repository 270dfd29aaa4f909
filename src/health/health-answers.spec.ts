import type { HealthConfig } from '../config/configuration';
import { ShutdownGate } from '../lifecycle/shutdown-gate';
import { HealthAnswers, RenderedAnswer } from './health-answers';
import { HealthMonitor } from './health-monitor.service';
import type { HealthBody } from './health.views';

const body = (answer: RenderedAnswer): HealthBody => JSON.parse(answer.json) as HealthBody;

const config = {
  checkTimeoutMs: 100,
  intervalMs: 1000,
  failureIntervalMs: 500,
  readinessBudgetMs: 800,
  detailsIntervalMs: 30_000,
  optionalChecks: [],
} as unknown as HealthConfig;

describe('HealthAnswers', () => {
  let healthy: boolean;
  let hang: boolean;
  let monitor: HealthMonitor;
  let gate: ShutdownGate;
  let answers: HealthAnswers;

  beforeEach(async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    healthy = true;
    hang = false;
    monitor = new HealthMonitor(
      [
        {
          healthChecks: () => [
            {
              name: 'db',
              check: (k) =>
                hang
                  ? new Promise(() => undefined)
                  : Promise.resolve({ [k]: { status: healthy ? 'up' : 'down', message: 'timeout' } }),
            },
          ],
        },
      ],
      config,
    );
    gate = new ShutdownGate();
    answers = new HealthAnswers(monitor, gate);
    monitor.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
  });
  afterEach(() => jest.useRealTimers());

  it('reuses one rendering while nothing changes', () => {
    const first = answers.readiness(false, new Set());
    expect(answers.readiness(false, new Set())).toBe(first);
    expect(first.httpStatus).toBe(200);
    expect(body(first).status).toBe('ok');
  });

  it('renders again after a check completes with a new result', async () => {
    const first = answers.readiness(false, new Set());
    healthy = false;
    await jest.advanceTimersByTimeAsync(1000);
    const second = answers.readiness(false, new Set());
    expect(second).not.toBe(first);
    expect(second.httpStatus).toBe(503);
  });

  it('turns a stuck check stale even though nothing completed', async () => {
    hang = true;
    await jest.advanceTimersByTimeAsync(1000); // the next run starts and hangs
    await jest.advanceTimersByTimeAsync(100); // recorded as timeout
    expect(body(answers.readiness(false, new Set())).error.db.message).toBe('timeout');
    await jest.advanceTimersByTimeAsync(1000 + 100 + 800 + 1);
    expect(body(answers.readiness(false, new Set())).error.db.message).toBe('stale');
  });

  it('answers shutting_down as soon as the gate closes', () => {
    answers.readiness(false, new Set());
    gate.close();
    const answer = answers.readiness(false, new Set());
    expect(answer.httpStatus).toBe(503);
    expect(body(answer).status).toBe('shutting_down');
  });

  it('keeps separate renderings per exclude list and authorization', () => {
    expect(body(answers.readiness(false, new Set(['db']))).details).toEqual({});
    expect(body(answers.readiness(true, new Set())).details.db.required).toBe(true);
    expect(body(answers.readiness(false, new Set())).details.db.required).toBeUndefined();
  });
});

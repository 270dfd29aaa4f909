import type { HealthCheckResult } from '@nestjs/terminus';
import type { CheckView } from './health-snapshot';
import { checkEntry, readinessAnswer, snapshotIndicator, startupAnswer } from './health.views';

const check = (over: Partial<CheckView>): CheckView => ({
  name: 'db',
  required: true,
  scope: 'shared',
  status: 'up',
  responseTimeMs: 1.5,
  sinceMs: 0,
  checkedAtMs: 0,
  ...over,
});

/** What HealthCheckService gives for `checks`: `ok` when all are up, else `error`. */
function terminus(checks: CheckView[]): HealthCheckResult {
  const entries = (up: boolean) =>
    Object.fromEntries(checks.filter((c) => (c.status === 'up') === up).map((c) => [c.name, checkEntry(c, false)]));
  const info = entries(true);
  const error = entries(false);
  return {
    status: Object.keys(error).length > 0 ? 'error' : 'ok',
    info,
    error,
    details: { ...info, ...error },
  };
}

describe('snapshotIndicator', () => {
  it('returns the recorded entry of its check under the check name', () => {
    const result = snapshotIndicator(check({}), false)();
    expect(result).toEqual({ db: { status: 'up', responseTime: 1.5, since: '1970-01-01T00:00:00.000Z' } });
  });

  it('shows reasons, data and details to authorized callers only', () => {
    const down = check({ status: 'down', message: 'timeout', reason: 'ping took 500 ms', details: { version: '16' } });
    expect(snapshotIndicator(down, false)().db).toEqual({
      status: 'down',
      message: 'timeout',
      responseTime: 1.5,
      since: '1970-01-01T00:00:00.000Z',
    });
    expect(snapshotIndicator(down, true)().db).toMatchObject({
      reason: 'ping took 500 ms',
      details: { version: '16' },
      required: true,
    });
  });
});

describe('readinessAnswer', () => {
  it('answers 200 ok when every check is up', () => {
    const checks = [check({}), check({ name: 'redis' })];
    const answer = readinessAnswer(terminus(checks), checks, false);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.status).toBe('ok');
    expect(Object.keys(answer.body.info)).toEqual(['db', 'redis']);
  });

  it('answers 503 error when a required check is down', () => {
    const checks = [check({}), check({ name: 'redis', status: 'down', message: 'timeout' })];
    const answer = readinessAnswer(terminus(checks), checks, false);
    expect(answer.httpStatus).toBe(503);
    expect(answer.body.status).toBe('error');
    expect(answer.body.error.redis).toMatchObject({ status: 'down', message: 'timeout' });
  });

  it('answers 200 degraded when only optional checks are down', () => {
    const checks = [check({}), check({ name: 'upstream', required: false, status: 'down', message: 'error' })];
    const answer = readinessAnswer(terminus(checks), checks, false);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.status).toBe('degraded');
    expect(answer.body.error.upstream).toMatchObject({ status: 'down' });
  });

  it('answers 200 degraded when a required check is down in a shared outage, and says so in its entry', () => {
    const sharedOutage = { peersDown: 2, peersAnswered: 3 };
    const checks = [check({}), check({ name: 'redis', status: 'down', message: 'connection refused', sharedOutage })];
    const answer = readinessAnswer(terminus(checks), checks, false);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.status).toBe('degraded');
    expect(answer.body.error.redis).toMatchObject({ status: 'down', message: 'connection refused', sharedOutage });
  });

  it('still answers 503 when another required check is down here alone', () => {
    const sharedOutage = { peersDown: 1, peersAnswered: 1 };
    const checks = [
      check({ status: 'down', message: 'timeout' }),
      check({ name: 'redis', status: 'down', message: 'connection refused', sharedOutage }),
    ];
    expect(readinessAnswer(terminus(checks), checks, false).httpStatus).toBe(503);
  });

  it('answers 503 shutting_down while draining, whatever the checks say', () => {
    const checks = [check({})];
    expect(readinessAnswer(terminus(checks), checks, true)).toMatchObject({
      httpStatus: 503,
      body: { status: 'shutting_down' },
    });
  });

  it("answers 503 shutting_down when Terminus' own shutdown flag is set", () => {
    const checks = [check({})];
    const result = { ...terminus(checks), status: 'shutting_down' } as HealthCheckResult;
    expect(readinessAnswer(result, checks, false).httpStatus).toBe(503);
  });
});

describe('startupAnswer', () => {
  it('is 503 until every check has completed its first run', () => {
    const checks = [check({}), check({ name: 'redis', status: 'down', message: 'pending', checkedAtMs: null })];
    expect(startupAnswer(terminus(checks), checks, false)).toMatchObject({
      httpStatus: 503,
      body: { status: 'error' },
    });
  });

  it('is 200 once the first round ran, even with a required dependency down', () => {
    const checks = [check({ status: 'down', message: 'connection refused', sinceMs: 0, checkedAtMs: 5 })];
    const answer = startupAnswer(terminus(checks), checks, false);
    expect(answer).toMatchObject({ httpStatus: 200, body: { status: 'ok' } });
    expect(answer.body.error.db).toMatchObject({ message: 'connection refused' });
  });

  it('waits for optional checks too: the first round is every check', () => {
    const checks = [check({}), check({ name: 'x', required: false, status: 'down', checkedAtMs: null })];
    expect(startupAnswer(terminus(checks), checks, false).httpStatus).toBe(503);
  });

  it('is 503 shutting_down while draining', () => {
    const checks = [check({})];
    expect(startupAnswer(terminus(checks), checks, true)).toMatchObject({
      httpStatus: 503,
      body: { status: 'shutting_down' },
    });
  });
});

import type { CheckView } from './health-snapshot';
import { aggregate, startup } from './health.views';

const check = (over: Partial<CheckView>): CheckView => ({
  name: 'db',
  required: true,
  status: 'up',
  responseTimeMs: 1.5,
  sinceMs: 0,
  checkedAtMs: 0,
  everUp: true,
  ...over,
});

describe('aggregate', () => {
  it('answers 200 ok when every check is up', () => {
    const answer = aggregate([check({}), check({ name: 'redis' })], false, false);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.status).toBe('ok');
    expect(Object.keys(answer.body.info)).toEqual(['db', 'redis']);
    expect(answer.body.details.db).toEqual({ status: 'up', responseTime: 1.5, since: '1970-01-01T00:00:00.000Z' });
  });

  it('answers 503 error naming a required check that is down', () => {
    const answer = aggregate([check({}), check({ name: 'redis', status: 'down', message: 'timeout' })], false, false);
    expect(answer.httpStatus).toBe(503);
    expect(answer.body.status).toBe('error');
    expect(answer.body.error.redis).toMatchObject({ status: 'down', message: 'timeout' });
  });

  it('answers 200 degraded when only optional checks are down', () => {
    const answer = aggregate(
      [check({}), check({ name: 'upstream', required: false, status: 'down', message: 'error' })],
      false,
      false,
    );
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.status).toBe('degraded');
  });

  it('answers 503 shutting_down while draining, whatever the checks say', () => {
    const answer = aggregate([check({})], false, true);
    expect(answer).toMatchObject({ httpStatus: 503, body: { status: 'shutting_down' } });
  });

  it('shows reasons, data and details to authorized callers only', () => {
    const down = check({ status: 'down', message: 'timeout', reason: 'ping took 500 ms', details: { version: '16' } });
    expect(aggregate([down], false, false).body.error.db).toEqual({
      status: 'down',
      message: 'timeout',
      responseTime: 1.5,
      since: '1970-01-01T00:00:00.000Z',
    });
    expect(aggregate([down], true, false).body.error.db).toMatchObject({
      reason: 'ping took 500 ms',
      details: { version: '16' },
      required: true,
    });
  });
});

describe('startup', () => {
  it('is 503 until every required check was up once', () => {
    const snapshot = { takenAtMs: 0, checks: [check({ everUp: false, status: 'down', message: 'pending' })] };
    expect(startup(snapshot, false, false).httpStatus).toBe(503);
  });

  it('stays 200 after boot even if a dependency fails later', () => {
    const snapshot = { takenAtMs: 0, checks: [check({ everUp: true, status: 'down', message: 'timeout' })] };
    expect(startup(snapshot, false, false)).toMatchObject({ httpStatus: 200, body: { status: 'ok' } });
  });

  it('ignores optional checks', () => {
    const snapshot = {
      takenAtMs: 0,
      checks: [check({}), check({ name: 'x', required: false, everUp: false, status: 'down' })],
    };
    expect(startup(snapshot, false, false).httpStatus).toBe(200);
  });

  it('is 503 shutting_down while draining', () => {
    expect(startup({ takenAtMs: 0, checks: [check({})] }, false, true)).toMatchObject({
      httpStatus: 503,
      body: { status: 'shutting_down' },
    });
  });
});

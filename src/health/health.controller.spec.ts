import { HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { appConfig } from '../config/app.config';
import { HealthAnswers } from './health-answers';
import type { HealthBody } from './health-body.dto';
import { HealthDetailsAuth } from './health-details.auth';
import { HealthMonitor } from './health-monitor';
import { HealthController, ReadyController } from './health.controller';
import type { HealthAnswer } from './health.views';

const BOOTED_AT = Date.UTC(2030, 0, 1, 12, 0, 0);
const TOKEN_HEADER = 'Bearer details-token';
const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

const okBody: HealthBody = {
  status: 'ok',
  info: { db: { status: 'up', responseTime: 2, since: null } },
  error: {},
  details: { db: { status: 'up', responseTime: 2, since: null } },
};
const downBody: HealthBody = {
  status: 'error',
  info: {},
  error: { db: { status: 'down', message: 'connection refused', responseTime: 2, since: null } },
  details: { db: { status: 'down', message: 'connection refused', responseTime: 2, since: null } },
};
/** What the route pipes (health.pipes.spec.ts) need to be built; the handlers never ask it. */
const pipesMonitor = { provide: HealthMonitor, useValue: { has: () => true } };

const ok: HealthAnswer = { httpStatus: 200, body: okBody };
const down: HealthAnswer = { httpStatus: 503, body: downBody };

/** The error a handler threw or its promise rejected with. */
async function failureOf(act: () => unknown): Promise<unknown> {
  try {
    await act();
  } catch (error) {
    return error;
  }
  throw new Error('expected the handler to fail');
}

describe('HealthController', () => {
  const answers = { readiness: jest.fn(), startup: jest.fn(), one: jest.fn() };
  const auth = { isAuthorized: jest.fn((header?: string) => header === TOKEN_HEADER) };
  let controller: HealthController;

  beforeEach(async () => {
    jest.useFakeTimers({ now: BOOTED_AT });
    jest.clearAllMocks();
    const moduleRef = await Test.createTestingModule({
      controllers: [HealthController],
      providers: [
        { provide: HealthAnswers, useValue: answers },
        { provide: HealthDetailsAuth, useValue: auth },
        { provide: appConfig.KEY, useValue: { version: '1.4.2' } },
        pipesMonitor,
      ],
    }).compile();
    controller = moduleRef.get(HealthController);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  describe('liveness', () => {
    it('answers ok with the version, the time and the uptime in whole seconds', () => {
      jest.advanceTimersByTime(90_500);

      expect(controller.live()).toEqual({
        status: 'ok',
        timestamp: new Date(BOOTED_AT + 90_500).toISOString(),
        version: '1.4.2',
        uptime_seconds: 90,
      });
    });

    it('reuses one body for every probe within the same millisecond', () => {
      const first = controller.live();

      expect(controller.live()).toBe(first);
    });

    it('builds a new body once the clock has moved', () => {
      const first = controller.live();
      jest.advanceTimersByTime(1);

      const next = controller.live();

      expect(next).not.toBe(first);
      expect(next.timestamp).toBe(new Date(BOOTED_AT + 1).toISOString());
    });

    it('answers without consulting any check', () => {
      controller.live();

      expect(answers.readiness).not.toHaveBeenCalled();
      expect(answers.startup).not.toHaveBeenCalled();
      expect(answers.one).not.toHaveBeenCalled();
    });
  });

  describe('readiness', () => {
    it('returns the body of a 200 answer as is, without a promise', () => {
      answers.readiness.mockReturnValue(ok);

      expect(controller.ready(NO_EXCLUSIONS)).toBe(okBody);
    });

    it('throws a 503 carrying the body of a 503 answer', async () => {
      answers.readiness.mockReturnValue(down);

      const error = await failureOf(() => controller.ready(NO_EXCLUSIONS));

      expect(error).toBeInstanceOf(ServiceUnavailableException);
      expect((error as ServiceUnavailableException).getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
      expect((error as ServiceUnavailableException).getResponse()).toBe(downBody);
    });

    it('resolves with the body of an answer still being computed', async () => {
      answers.readiness.mockReturnValue(Promise.resolve(ok));

      await expect(controller.ready(NO_EXCLUSIONS)).resolves.toBe(okBody);
    });

    it('rejects with a 503 when an answer still being computed turns out to be 503', async () => {
      answers.readiness.mockReturnValue(Promise.resolve(down));

      const error = await failureOf(() => controller.ready(NO_EXCLUSIONS));

      expect((error as ServiceUnavailableException).getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
      expect((error as ServiceUnavailableException).getResponse()).toBe(downBody);
    });

    it('passes the excluded checks on', () => {
      answers.readiness.mockReturnValue(ok);
      const excluded = new Set(['redis-cache']);

      void controller.ready(excluded);

      expect(answers.readiness).toHaveBeenCalledWith(false, excluded);
    });

    it('asks for the authorized view when the caller presents the details token', () => {
      answers.readiness.mockReturnValue(ok);

      void controller.ready(NO_EXCLUSIONS, TOKEN_HEADER);

      expect(auth.isAuthorized).toHaveBeenCalledWith(TOKEN_HEADER);
      expect(answers.readiness).toHaveBeenCalledWith(true, NO_EXCLUSIONS);
    });

    it('asks for the public view when the token is wrong', () => {
      answers.readiness.mockReturnValue(ok);

      void controller.ready(NO_EXCLUSIONS, 'Bearer guessed');

      expect(answers.readiness).toHaveBeenCalledWith(false, NO_EXCLUSIONS);
    });
  });

  describe('startup', () => {
    it('returns the body of a 200 startup answer', () => {
      answers.startup.mockReturnValue(ok);

      expect(controller.startup()).toBe(okBody);
      expect(answers.startup).toHaveBeenCalledWith(false);
    });

    it('throws a 503 while the startup answer is 503', async () => {
      answers.startup.mockReturnValue(down);

      const error = await failureOf(() => controller.startup(TOKEN_HEADER));

      expect((error as ServiceUnavailableException).getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
      expect(answers.startup).toHaveBeenCalledWith(true);
    });
  });

  describe('one check by name', () => {
    it.each<[string, (c: HealthController, name: string, header?: string) => unknown]>([
      ['/health/:check', (c, name, header) => c.one(name, header)],
      ['/health/ready/:check', (c, name, header) => c.readyOne(name, header)],
    ])('%s answers the named check with the caller’s view', (_route, call) => {
      answers.one.mockReturnValue(ok);

      expect(call(controller, 'redis', TOKEN_HEADER)).toBe(okBody);
      expect(answers.one).toHaveBeenCalledWith('redis', true);
    });

    it.each<[string, (c: HealthController, name: string) => unknown]>([
      ['/health/:check', (c, name) => c.one(name)],
      ['/health/ready/:check', (c, name) => c.readyOne(name)],
    ])('%s throws a 503 for a check that is down', async (_route, call) => {
      answers.one.mockReturnValue(down);

      const error = await failureOf(() => call(controller, 'db'));

      expect((error as ServiceUnavailableException).getResponse()).toBe(downBody);
    });
  });
});

describe('ReadyController', () => {
  const answers = { readiness: jest.fn() };
  const auth = { isAuthorized: jest.fn((header?: string) => header === TOKEN_HEADER) };
  let controller: ReadyController;

  beforeEach(async () => {
    jest.clearAllMocks();
    const moduleRef = await Test.createTestingModule({
      controllers: [ReadyController],
      providers: [
        { provide: HealthAnswers, useValue: answers },
        { provide: HealthDetailsAuth, useValue: auth },
        pipesMonitor,
      ],
    }).compile();
    controller = moduleRef.get(ReadyController);
  });

  it('gives the readiness answer of /health/ready, with the same view and exclusions', () => {
    answers.readiness.mockReturnValue(ok);
    const excluded = new Set(['db']);

    expect(controller.ready(excluded, TOKEN_HEADER)).toBe(okBody);
    expect(answers.readiness).toHaveBeenCalledWith(true, excluded);
  });

  it('throws a 503 carrying the body when not ready', async () => {
    answers.readiness.mockReturnValue(Promise.resolve(down));

    const error = await failureOf(() => controller.ready(NO_EXCLUSIONS));

    expect((error as ServiceUnavailableException).getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
    expect((error as ServiceUnavailableException).getResponse()).toBe(downBody);
  });
});

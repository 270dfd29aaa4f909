/**
 * HealthModule on its own, with a fake indicator, booted by @nestjs/testing
 * on each Nest HTTP adapter: the module reads nothing adapter-specific.
 */
import { Injectable, INestApplication, Module } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { HealthIndicatorResult, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { waitFor } from '../../test/support/wait';
import { AppConfigModule } from '../config/app-config.module';
import type { HealthCheckDefinition, HealthIndicatorFamily } from './health-check.interface';
import { HealthIndicator } from './health-indicator.decorator';
import { HealthModule } from './health.module';

const TOKEN = 'module-test-details-token-0123456789';
const INTERVAL_MS = 100;

/** A dependency whose state the test sets; counts the calls the monitor makes. */
@Injectable()
@HealthIndicator({ name: 'fake' })
class FakeIndicator implements HealthIndicatorFamily {
  readonly state = { fake: 'up', optional: 'up' };
  calls = 0;

  constructor(private readonly health: HealthIndicatorService) {}

  healthChecks(): HealthCheckDefinition[] {
    return [
      { name: 'fake', check: (key) => this.ping(key, this.state.fake) },
      { name: 'optional', required: false, check: (key) => this.ping(key, this.state.optional) },
    ];
  }

  private ping(key: string, state: string): Promise<HealthIndicatorResult> {
    this.calls++;
    const indicator = this.health.check(key);
    if (state === 'degraded') return Promise.resolve(indicator.degraded({ reason: 'replica lagging' }));
    return Promise.resolve(
      state === 'up' ? indicator.up({ version: '1.2.3' }) : indicator.down({ message: 'connection refused' }),
    );
  }
}

@Module({ imports: [TerminusModule], providers: [FakeIndicator] })
class FakeModule {}

interface Answer {
  status: number;
  cacheControl: string | null;
  body: {
    status?: string;
    info?: Record<string, Record<string, unknown>>;
    error?: Record<string, Record<string, unknown>>;
    details?: Record<string, Record<string, unknown>>;
    [key: string]: unknown;
  };
}

describe.each<[string, () => AbstractHttpAdapter]>([
  ['Fastify', () => new FastifyAdapter()],
  ['Express', () => new ExpressAdapter()],
])('HealthModule with a fake indicator on the %s adapter', (_name, adapter) => {
  let app: INestApplication;
  let fake: FakeIndicator;
  let baseUrl: string;
  const saved = { ...process.env };

  const get = async (path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${baseUrl}${path}`, { headers, signal: AbortSignal.timeout(5000) });
    return {
      status: res.status,
      cacheControl: res.headers.get('cache-control'),
      body: (await res.json()) as Answer['body'],
    };
  };

  const until = (path: string, predicate: (a: Answer) => boolean, description: string) =>
    waitFor(
      async () => {
        const answer = await get(path);
        return predicate(answer) ? answer : undefined;
      },
      { timeoutMs: 5000, intervalMs: 20, description },
    );

  beforeAll(async () => {
    Object.assign(process.env, {
      HEALTH_INTERVAL_MS: String(INTERVAL_MS),
      HEALTH_FAILURE_INTERVAL_MS: String(INTERVAL_MS),
      HEALTH_DETAILS_TOKEN: TOKEN,
    });
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule, FakeModule, HealthModule],
    }).compile();
    app = moduleRef.createNestApplication(adapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    fake = app.get(FakeIndicator);
    await until('/health/ready', (a) => a.status === 200, 'readiness 200');
  });

  afterAll(async () => {
    await app?.close();
    process.env = saved;
  });

  beforeEach(() => {
    fake.state.fake = 'up';
    fake.state.optional = 'up';
  });

  it('answers liveness on /health and /health/live', async () => {
    for (const path of ['/health', '/health/live']) {
      const answer = await get(path);
      expect(answer).toMatchObject({ status: 200, cacheControl: 'no-store' });
      expect(answer.body).toEqual({
        status: 'ok',
        timestamp: expect.any(String),
        version: expect.any(String),
        uptime_seconds: expect.any(Number),
      });
    }
  });

  it('answers readiness, startup and each check 200 in the Terminus shape', async () => {
    const ready = await get('/health/ready');
    expect(ready).toMatchObject({ status: 200, cacheControl: 'no-store' });
    expect(ready.body).toEqual({
      status: 'ok',
      info: { fake: expect.any(Object), optional: expect.any(Object) },
      error: {},
      details: { fake: expect.any(Object), optional: expect.any(Object) },
    });
    expect(ready.body.details?.fake).toEqual({
      status: 'up',
      responseTime: expect.any(Number),
      since: expect.any(String),
    });
    for (const path of ['/health/startup', '/health/fake', '/health/ready/fake']) {
      expect({ path, ...(await get(path)) }).toMatchObject({ path, status: 200, body: { status: 'ok' } });
    }
  });

  it('answers GET /ready exactly as /health/ready', async () => {
    const [alias, ready] = await Promise.all([get('/ready?exclude=optional'), get('/health/ready?exclude=optional')]);
    // The two may read snapshots one check run apart: only the measured response times differ then.
    const timeless = (answer: unknown): unknown =>
      JSON.parse(JSON.stringify(answer, (key, value: unknown) => (key === 'responseTime' ? 0 : value)));
    expect(timeless(alias)).toEqual(timeless(ready));
    expect((await get('/ready?exclude=nope')).status).toBe(400);
  });

  it('answers 503 error once a required check is down, and 200 again once it is back', async () => {
    fake.state.fake = 'down';
    const down = await until('/health/ready', (a) => a.status === 503, 'readiness 503');
    expect(down.cacheControl).toBe('no-store');
    expect(down.body).toMatchObject({
      status: 'error',
      error: { fake: { status: 'down', message: 'connection refused' } },
    });
    expect((await get('/health/fake')).status).toBe(503);
    expect((await get('/ready')).status).toBe(503);
    expect((await get('/health/startup')).status).toBe(200); // the first round ran
    fake.state.fake = 'up';
    await until('/health/ready', (a) => a.status === 200, 'readiness 200 again');
  });

  it('answers 200 degraded when only an optional check is down', async () => {
    fake.state.optional = 'down';
    const degraded = await until('/health/ready', (a) => a.body.status === 'degraded', 'degraded');
    expect(degraded.status).toBe(200);
    expect(degraded.body.error?.optional).toMatchObject({ status: 'down' });
    expect(await get('/health/optional')).toMatchObject({ status: 200, body: { status: 'degraded' } });
  });

  it("answers 200 degraded, Terminus' status, when a required check is impaired but serving", async () => {
    fake.state.optional = 'up';
    fake.state.fake = 'degraded';
    const degraded = await until('/health/ready', (a) => a.body.info?.fake?.status === 'degraded', 'fake degraded');
    expect(degraded).toMatchObject({ status: 200, body: { status: 'degraded', error: {} } });
    expect(degraded.body.info?.fake).not.toHaveProperty('reason');
    fake.state.fake = 'up';
    await until('/health/ready', (a) => a.body.status === 'ok', 'ok again');
  });

  it('shows details with the token only', async () => {
    expect((await get('/health/fake')).body.details?.fake.required).toBeUndefined();
    const authorized = await get('/health/fake', { authorization: `Bearer ${TOKEN}` });
    expect(authorized.body.details?.fake).toMatchObject({ required: true, data: { version: '1.2.3' } });
  });

  it("answers 404 and 400 in the body shape of Nest's HttpException, no-store", async () => {
    for (const path of ['/health/nope', '/health/ready/nope']) {
      expect(await get(path)).toEqual({
        status: 404,
        cacheControl: 'no-store',
        body: { statusCode: 404, message: "unknown health check 'nope'", error: 'Not Found' },
      });
    }
    expect(await get('/health/ready?exclude=fake,nope&exclude=other')).toEqual({
      status: 400,
      cacheControl: 'no-store',
      body: { statusCode: 400, message: 'unknown health check in exclude: nope, other', error: 'Bad Request' },
    });
    expect((await get('/health/ready?exclude=fake,optional')).body.details).toEqual({});
  });

  it('answers probes from the snapshot: the monitor alone calls the dependency', async () => {
    const before = fake.calls;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => get('/health/ready')));
    const elapsedMs = Date.now() - started;
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Two checks, each at most once per interval (plus one run in flight at either end).
    expect(fake.calls - before).toBeLessThanOrEqual(2 * (Math.floor(elapsedMs / INTERVAL_MS) + 2));
  });
});

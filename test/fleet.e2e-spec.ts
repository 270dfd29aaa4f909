/**
 * Fleet-aware readiness with real processes on loopback: three instances of
 * the built app share one throwaway redis-server and PostgreSQL and know each
 * other through HEALTH_PEERS (each list names the instance itself too, as a
 * static list for a whole fleet would). A dependency every instance loses is
 * a shared outage: readiness stays 200 `degraded`, so the Service keeps its
 * endpoints and clients get the app's own fast 503 on the routes that need
 * Redis. A fault of one instance alone, or one no peer can confirm, is 503.
 */
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import { freePort } from './support/ports';
import { useServices } from './support/services';
import { waitFor } from './support/wait';

/** The app's defaults, written out: the deadlines below are derived from them. */
const INTERVAL_MS = 1000;
const FAILURE_INTERVAL_MS = 500;
const PEER_TIMEOUT_MS = 300;
/** Jitter (±10 %) on both schedules, one peer round, and a loaded 2-core machine. */
const MARGIN_MS = 600;
/** Redis killed → every instance down and confirmed by its peers: 1.1 s + 0.55 s + 0.3 s + margin (about 2.6 s). */
const CONFIRMED_WITHIN_MS = INTERVAL_MS * 1.1 + FAILURE_INTERVAL_MS * 1.1 + PEER_TIMEOUT_MS + MARGIN_MS;
/** Listening → first round of checks done: the check timeout (400 ms) and margin. */
const FIRST_ROUND_WITHIN_MS = 2000;
/** Redis back → every instance's check up again: one jittered failure interval, a reconnect and margin. */
const RECOVERED_WITHIN_MS = 3000;

interface Entry {
  status: string;
  message?: string;
  sharedOutage?: { peersDown: number; peersAnswered: number };
}
interface Probe {
  status: number;
  body: { status: string; info: Record<string, Entry>; error: Record<string, Entry> };
}

async function readiness(app: AppProcess): Promise<Probe> {
  const response = await fetch(app.url('/health/ready'), { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.json()) as Probe['body'] };
}

async function allReadiness(apps: readonly AppProcess[]): Promise<Probe[]> {
  return Promise.all(apps.map(readiness));
}

const isSharedOutage = (p: Probe): boolean =>
  p.status === 200 && p.body.status === 'degraded' && p.body.error.redis?.sharedOutage !== undefined;
const isOk = (p: Probe): boolean => p.status === 200 && p.body.status === 'ok';

/** POST /jobs, timed from the client's side. */
async function createJob(app: AppProcess): Promise<{ status: number; retryAfter: string | null; ms: number }> {
  const started = performance.now();
  const response = await fetch(app.url('/jobs'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'fleet', payload: {} }),
    signal: AbortSignal.timeout(5000),
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: performance.now() - started };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

beforeAll(() => ensureBuilt());

describe('three instances sharing one Redis, peers through HEALTH_PEERS', () => {
  const services = useServices();
  let apps: AppProcess[] = [];
  let peers = '';

  const start = (port: number, redisUrl: string): Promise<AppProcess> =>
    startApp({
      PORT: String(port),
      REDIS_URL: redisUrl,
      DATABASE_URL: services.pg.url(),
      HEALTH_PEERS: peers,
      HEALTH_INTERVAL_MS: String(INTERVAL_MS),
      HEALTH_FAILURE_INTERVAL_MS: String(FAILURE_INTERVAL_MS),
      HEALTH_PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS),
      HEALTH_PEER_INTERVAL_MS: '1000',
      SHUTDOWN_DRAIN_MS: '0',
    });

  beforeEach(async () => {
    await services.redis.start();
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    peers = ports.map((port) => `http://127.0.0.1:${port}`).join(',');
    apps = await Promise.all(ports.map((port) => start(port, services.redis.url(0))));
    await waitFor(async () => (await allReadiness(apps)).every(isOk), {
      timeoutMs: 15_000,
      description: 'all three instances ready',
    });
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    apps = [];
  });

  it('keeps all three 200 degraded through a Redis outage, fails POST /jobs fast, and returns to ok', async () => {
    const killedAt = performance.now();
    await services.redis.kill();
    const confirmed = await waitFor(
      async () => {
        const probes = await allReadiness(apps);
        return probes.every(isSharedOutage) ? probes : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, description: 'all three 200 degraded in a shared outage' },
    );
    const confirmedMs = performance.now() - killedAt;
    expect(confirmedMs).toBeLessThan(CONFIRMED_WITHIN_MS);
    for (const probe of confirmed) {
      // The first to confirm may have asked while one peer had not run its check yet: half agreeing is enough.
      expect(probe.body.error.redis).toMatchObject({ status: 'down', sharedOutage: { peersAnswered: 2 } });
      expect(probe.body.error.redis.sharedOutage?.peersDown).toBeGreaterThanOrEqual(1);
      expect(probe.body.info.db).toMatchObject({ status: 'up' });
    }

    // And it stays so, over three more peer rounds at HEALTH_PEER_INTERVAL_MS, by which time every peer agrees.
    const holdUntil = performance.now() + 3000;
    let last: Probe[] = [];
    while (performance.now() < holdUntil) {
      last = await allReadiness(apps);
      expect(last.map((p) => [p.status, p.body.status])).toEqual([
        [200, 'degraded'],
        [200, 'degraded'],
        [200, 'degraded'],
      ]);
    }
    for (const probe of last) expect(probe.body.error.redis.sharedOutage).toEqual({ peersDown: 2, peersAnswered: 2 });

    const attempts = [];
    for (const app of apps) for (let i = 0; i < 3; i++) attempts.push(await createJob(app));
    for (const attempt of attempts) expect(attempt).toMatchObject({ status: 503, retryAfter: '1' });
    // From the health state, not after REDIS_COMMAND_TIMEOUT_MS (1000 ms) on a dead client.
    expect(median(attempts.map((a) => a.ms))).toBeLessThan(100);
    expect(Math.max(...attempts.map((a) => a.ms))).toBeLessThan(1000);

    const metrics = await (await fetch(apps[0].url('/metrics'), { signal: AbortSignal.timeout(5000) })).text();
    expect(metrics).toMatch(/^health_check_shared_outage\{check="redis"\} 1$/m);
    expect(metrics).toMatch(/^health_check_shared_outage\{check="db"\} 0$/m);
    await apps[0].waitForLine(/health check redis: shared outage \(down on [12] of 2 peers that answered\)/);

    const restartedAt = performance.now();
    await services.redis.start();
    await waitFor(async () => (await allReadiness(apps)).every(isOk), {
      timeoutMs: 10_000,
      intervalMs: 20,
      description: 'all three ok after Redis is back',
    });
    expect(performance.now() - restartedAt).toBeLessThan(RECOVERED_WITHIN_MS);
    await apps[0].waitForLine(/health check redis: shared outage over/);
    for (const app of apps) expect((await createJob(app)).status).toBe(201);
  });

  it('takes out only the instance whose own Redis is dead: it answers 503, the others 200', async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}/0`;
    await apps[2].stop();
    const port = Number(new URL(peers.split(',')[2]).port);
    apps[2] = await start(port, deadRedis);
    // Its peers answered: both see Redis up, so the failure is this instance's own.
    await apps[2].waitForLine(/health check redis: pending -> down/);
    const observedUntil = performance.now() + 3 * FAILURE_INTERVAL_MS + 1000;
    while (performance.now() < observedUntil) {
      const [a, b, lone] = await allReadiness(apps);
      expect([a.status, b.status, lone.status]).toEqual([200, 200, 503]);
      expect(lone.body.error.redis).toMatchObject({ status: 'down', message: 'connection refused' });
      expect(lone.body.error.redis.sharedOutage).toBeUndefined();
    }
    expect((await createJob(apps[2])).status).toBe(503);
    expect((await createJob(apps[0])).status).toBe(201);
    expect(apps[2].output()).not.toMatch(/shared outage/);
  });

  it('answers 503 on the last instance when it loses Redis with no peer left to confirm', async () => {
    await Promise.all([apps[1].stop(), apps[2].stop()]);
    const [last] = apps;
    await services.redis.kill();
    await waitFor(async () => (await readiness(last)).status === 503, {
      timeoutMs: 10_000,
      intervalMs: 20,
      description: 'the last instance 503',
    });
    const observedUntil = performance.now() + 3 * FAILURE_INTERVAL_MS + 1000;
    while (performance.now() < observedUntil) {
      const probe = await readiness(last);
      expect(probe.status).toBe(503);
      expect(probe.body.error.redis.sharedOutage).toBeUndefined();
    }
    expect(last.output()).not.toMatch(/shared outage \(/);
  });
});

describe('booting while Redis is down', () => {
  const services = useServices();

  it('answers /health/startup 200 within a few seconds, readiness 503, and recovers when Redis comes', async () => {
    await services.redis.kill();
    // Resolves once the process serves HTTP (liveness 200): about 1.5 s on a quiet machine, 3 s loaded.
    const app = await startApp({
      REDIS_URL: services.redis.url(0),
      DATABASE_URL: services.pg.url(),
      SHUTDOWN_DRAIN_MS: '0',
    });
    const listeningAt = performance.now();
    try {
      await waitFor(
        async () => (await fetch(app.url('/health/startup'), { signal: AbortSignal.timeout(5000) })).status === 200,
        { timeoutMs: 10_000, intervalMs: 20, description: 'startup 200 with Redis down' },
      );
      // The first round of checks: a refused connection fails at once, a hung one at its deadline.
      expect(performance.now() - listeningAt).toBeLessThan(FIRST_ROUND_WITHIN_MS);
      expect((await readiness(app)).status).toBe(503);
      await services.redis.start();
      await waitFor(async () => isOk(await readiness(app)), {
        timeoutMs: 10_000,
        description: 'ready once Redis is up',
      });
    } finally {
      await app.stop();
    }
  });
});

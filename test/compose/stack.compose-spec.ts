/**
 * The README's run command, for real: `docker compose up --build` in a Docker
 * engine, from a copy of the committed tree with `.env.example` as `.env`.
 * The steps build on each other (one stack, brought up once) and run in
 * order; a step after a failed `up` fails too, it is never skipped.
 *
 * `npm run test:compose` (jest.compose.config.js); not part of `npm test`.
 * Times are printed at the end as one `compose timings:` line.
 */
import { ComposeStack, ContainerInfo, findCompose, run, Service } from './compose-stack';
import { waitFor } from '../support/wait';

const DEPENDENCIES: Service[] = ['postgres', 'redis'];
const SERVICES: Service[] = [...DEPENDENCIES, 'api'];

/** Up to here a cold build (npm ci in the image, no layer cached) has been seen to take under a minute. */
const UP_TIMEOUT_MS = 10 * 60_000;

interface Job {
  id: string;
  type: string;
  status: string;
  payload: unknown;
}

let stack: ComposeStack | undefined;
/** `docker compose` or `docker-compose`, named in the timings line. */
let composeCommand = '';
/** Set once every service was healthy after `up`; later steps need it. */
let upOk = false;
let job: Job | undefined;
/** Dependencies as inspected right after `up` returned (their health logs keep only 5 entries). */
const afterUp: Partial<Record<Service, ContainerInfo>> = {};
const timings: Record<string, number> = {};

/** The stack, once it came up; a later step fails (not skips) when it did not. */
function running(): ComposeStack {
  if (!stack || !upOk) throw new Error('the compose stack did not come up (see the first failing step)');
  return stack;
}

async function healthOf(service: Service): Promise<string | undefined> {
  return (await running().inspect(service)).health?.status;
}

/** Waits until every service in `services` reports `healthy`. */
async function waitHealthy(services: Service[], timeoutMs: number, description: string): Promise<void> {
  await waitFor(
    async () => {
      const states = await Promise.all(services.map(healthOf));
      return states.every((s) => s === 'healthy');
    },
    { timeoutMs, intervalMs: 250, description },
  );
}

async function readJob(id: string): Promise<Job> {
  const answer = await running().request('GET', `/jobs/${id}`);
  if (answer.status !== 200) throw new Error(`GET /jobs/${id}: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as Job;
}

beforeAll(async () => {
  const command = await findCompose();
  composeCommand = command.join(' ');
  stack = await ComposeStack.prepare(command);
}, 120_000);

// Also when a step failed (down() does nothing the second time).
afterAll(async () => {
  try {
    await stack?.down();
  } finally {
    process.stderr.write(`compose timings (${composeCommand}): ${JSON.stringify(timings)}\n`);
  }
}, 180_000);

describe('docker compose up --build (README run command)', () => {
  it(
    'builds the api and brings postgres, redis and api to healthy',
    async () => {
      const s = stack as ComposeStack;
      const started = Date.now();

      const up = await s.compose(['up', '--build', '-d'], UP_TIMEOUT_MS);
      timings.upCommandMs = up.ms;
      // Right away: the dependencies' health logs still hold the checks that gated the api.
      for (const service of SERVICES) afterUp[service] = await s.inspect(service);
      upOk = true;
      await waitHealthy(SERVICES, 120_000, 'postgres, redis and api to be healthy after up');
      timings.upToHealthyMs = Date.now() - started;
      const api = await s.inspect('api');
      timings.apiStartToHealthyMs = (api.health?.log.find((e) => e.exitCode === 0)?.end ?? NaN) - api.startedAt;

      expect(api.health?.status).toBe('healthy');
    },
    UP_TIMEOUT_MS + 150_000,
  );

  it('started the api only after postgres and redis had each passed a healthcheck', () => {
    running();
    const apiStartedAt = afterUp.api?.startedAt ?? NaN;
    const passedBefore = (service: Service): number[] =>
      (afterUp[service]?.health?.log ?? []).filter((e) => e.exitCode === 0 && e.end <= apiStartedAt).map((e) => e.end);

    // How long after the later of the two dependencies' first passed check the api started.
    timings.apiStartAfterDependenciesHealthyMs =
      apiStartedAt - Math.max(...DEPENDENCIES.map((d) => Math.min(...passedBefore(d))));

    expect(Number.isFinite(apiStartedAt)).toBe(true);
    expect(passedBefore('postgres').length).toBeGreaterThan(0);
    expect(passedBefore('redis').length).toBeGreaterThan(0);
    // And neither dependency was started after the api (the order compose promises).
    expect(afterUp.postgres?.startedAt).toBeLessThan(apiStartedAt);
    expect(afterUp.redis?.startedAt).toBeLessThan(apiStartedAt);
  });

  it.each(['/health/live', '/health/ready', '/health/startup'])(
    'answers %s with 200 through the published port',
    async (path) => {
      const answer = await running().request('GET', path);

      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok' });
    },
  );

  it('creates a job and reads it back', async () => {
    const created = await running().request('POST', '/jobs', { type: 'compose.check', payload: { n: 1 } });
    expect(created.status).toBe(201);
    job = JSON.parse(created.body) as Job;

    expect(await readJob(job.id)).toMatchObject({ id: job.id, type: 'compose.check', payload: { n: 1 } });
  });

  it('is healthy again after `restart api`, with the job still there', async () => {
    const s = running();
    const before = await s.inspect('api');
    const started = Date.now();

    await s.compose(['restart', 'api'], 90_000);
    // Healthy on a check that ran after the restart (not a status left over from before it).
    await waitFor(
      async () => {
        const api = await s.inspect('api');
        const last = api.health?.log.at(-1);
        return (
          api.startedAt > before.startedAt && api.health?.status === 'healthy' && last && last.start > api.startedAt
        );
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'the restarted api to be healthy' },
    );
    timings.apiRestartToHealthyMs = Date.now() - started;

    expect(await s.status('/health/ready')).toBe(200);
    expect(await readJob(job?.id ?? 'no-job')).toMatchObject({ id: job?.id, status: 'pending' });
  }, 200_000);

  it('when redis stops: readiness 503 within 2 s, liveness 200, and the api container turns unhealthy', async () => {
    const s = running();
    const hc = (await s.inspect('api')).healthcheck;
    if (!hc) throw new Error('the api container has no healthcheck');

    await s.compose(['stop', 'redis'], 60_000);
    const stopped = Date.now();
    await waitFor(async () => (await s.status('/health/ready')) === 503, {
      timeoutMs: 2_000,
      intervalMs: 50,
      description: 'readiness 503 after redis stopped',
    });
    timings.redisStopToReady503Ms = Date.now() - stopped;
    const live = await s.status('/health/live');
    // `retries` failed checks in a row, one `interval` apart, the first within one interval.
    const unhealthyWithinMs = hc.intervalMs * (hc.retries + 1) + hc.timeoutMs + 5_000;
    const api = await waitFor(
      async () => {
        const info = await s.inspect('api');
        return info.health?.status === 'unhealthy' && info;
      },
      { timeoutMs: unhealthyWithinMs, intervalMs: 250, description: 'the api container to turn unhealthy' },
    );
    timings.redisStopToUnhealthyMs = Date.now() - stopped;

    expect(live).toBe(200);
    expect(api.health?.failingStreak).toBeGreaterThanOrEqual(hc.retries);
    // The healthcheck failed for the right reason: readiness names redis.
    expect(api.health?.log.at(-1)?.output).toMatch(/^ready: 503 error \(.*redis: /);
  }, 120_000);

  it('when redis starts again: all healthy, the job still there (AOF on the volume)', async () => {
    const s = running();
    const started = Date.now();

    await s.compose(['start', 'redis'], 60_000);
    await waitHealthy(['redis', 'api'], 90_000, 'redis and api to be healthy again');
    timings.redisStartToHealthyMs = Date.now() - started;
    const persistence = await s.compose(['exec', '-T', 'redis', 'redis-cli', 'INFO', 'persistence'], 30_000);

    expect(await s.status('/health/ready')).toBe(200);
    expect(await readJob(job?.id ?? 'no-job')).toMatchObject({ id: job?.id, status: 'pending' });
    expect(persistence.stdout).toMatch(/^aof_enabled:1\r?$/m);
  }, 200_000);

  it('stops the api with exit code 0 within stop_grace_period, logging each shutdown phase', async () => {
    const s = running();
    const { stopTimeoutS } = await s.inspect('api');
    const started = Date.now();

    await s.compose(['stop', 'api'], 120_000);
    const api = await s.inspect('api');
    timings.apiStopMs = api.finishedAt - started;
    // pino JSON lines of this stop only (the restart above logged a shutdown too).
    const lines = (await s.logs('api'))
      .map((line) => {
        try {
          return JSON.parse(line) as { time?: number; msg?: string; phase?: string };
        } catch {
          return {};
        }
      })
      .filter((entry) => (entry.time ?? 0) >= started - 500);
    const at = (test: (entry: { msg?: string; phase?: string }) => boolean): number => lines.findIndex(test);
    const began = at((e) => /^shutdown started by SIGTERM/.test(e.msg ?? ''));
    const phases = ['drain', 'http', 'redis', 'database'].map((phase) => at((e) => e.phase === phase));

    expect(api.status).toBe('exited');
    expect(api.exitCode).toBe(0);
    expect(stopTimeoutS).toBe(30);
    expect(timings.apiStopMs).toBeLessThan((stopTimeoutS ?? 0) * 1000);
    expect(began).toBeGreaterThanOrEqual(0);
    expect(phases.every((i) => i > began)).toBe(true);
    // drain, then the listener, then the clients (redis and database close side by side).
    expect(phases[0]).toBeLessThan(phases[1]);
    expect(phases[1]).toBeLessThan(Math.min(phases[2], phases[3]));
  }, 180_000);

  it('`down -v` removes its containers, network and volumes', async () => {
    const s = running();
    const filter = `label=com.docker.compose.project=${s.project}`;

    const started = Date.now();
    await s.down();
    timings.downMs = Date.now() - started;
    const left = await Promise.all(
      [
        ['docker', 'ps', '-aq', '--filter', filter],
        ['docker', 'volume', 'ls', '-q', '--filter', filter],
        ['docker', 'network', 'ls', '-q', '--filter', filter],
      ].map((argv) => run(argv, { timeoutMs: 30_000 })),
    );

    expect(left.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(left.map((r) => r.stdout.trim())).toEqual(['', '', '']);
  }, 180_000);
});

/**
 * Readiness under dependency faults, against the built app and throwaway
 * redis-server / PostgreSQL processes: how fast a dead PostgreSQL shows, how
 * many check calls a paused dependency receives, and what a wrong database
 * password looks like.
 */
import Redis from 'ioredis';
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import type { PostgresFixture } from './support/postgres-server';
import type { RedisFixture } from './support/redis-server';
import { useServices } from './support/services';
import { waitFor } from './support/wait';

const DETAILS_TOKEN = 'details-token-for-fault-tests-0123';
const AUTHORIZED = { authorization: `Bearer ${DETAILS_TOKEN}` };

interface Entry {
  status: string;
  message?: string;
  reason?: string;
  checkedAt?: string;
}
interface Readiness {
  status: number;
  text: string;
  body: { status: string; error: Record<string, Entry>; details: Record<string, Entry> };
}

async function readiness(app: AppProcess, headers: Record<string, string> = {}): Promise<Readiness> {
  const response = await fetch(app.url('/health/ready'), { headers, signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Readiness['body'] };
}

function env(redis: RedisFixture, pg: PostgresFixture, extra: Record<string, string>): Record<string, string> {
  return {
    REDIS_URL: redis.url(0),
    DATABASE_URL: pg.url(),
    HEALTH_DETAILS_TOKEN: DETAILS_TOKEN,
    SHUTDOWN_DRAIN_MS: '0',
    ...extra,
  };
}

beforeAll(() => ensureBuilt());

describe('PostgreSQL stopped with pg_ctl stop -m immediate under the running app', () => {
  const services = useServices();
  const INTERVAL_MS = 500;
  const CHECK_TIMEOUT_MS = 400;
  /** Timer lateness and the test's own polling on a loaded 2-core machine. */
  const MARGIN_MS = 500;
  let app: AppProcess;

  beforeAll(async () => {
    app = await startApp(
      env(services.redis, services.pg, {
        HEALTH_INTERVAL_MS: String(INTERVAL_MS),
        HEALTH_FAILURE_INTERVAL_MS: '250',
        HEALTH_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS),
      }),
    );
    await waitFor(async () => (await readiness(app)).status === 200, { timeoutMs: 10_000, description: 'ready' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers 503 with a classified message within HEALTH_INTERVAL_MS + HEALTH_CHECK_TIMEOUT_MS, and 200 again once it is back', async () => {
    const bound = INTERVAL_MS + CHECK_TIMEOUT_MS + MARGIN_MS;
    const pid = app.pid;
    const stoppedAt = performance.now();
    await services.pg.stopImmediate();
    const down = await waitFor(
      async () => {
        const r = await readiness(app);
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, description: 'readiness 503 after the immediate stop' },
    );
    const elapsedMs = performance.now() - stoppedAt;
    expect(down.body.error.db?.message).toMatch(/^(connection reset|connection refused|not connected)$/);
    expect({ elapsedMs, bound, withinBound: elapsedMs <= bound }).toMatchObject({ withinBound: true });

    await services.pg.start();
    await waitFor(async () => (await readiness(app)).status === 200, {
      timeoutMs: 15_000,
      description: 'readiness 200 after PostgreSQL is back',
    });
    expect(app.pid).toBe(pid);
    expect(app.exitCode()).toBeNull();
  });
});

/**
 * A check call that outlives its deadline is not abandoned: the next run of
 * that check waits for it to settle. So a paused dependency holds one call
 * per client, however long it stays paused (up to the client's own timeout,
 * set above the pause here). The failure interval and the observation window
 * are long enough that, without that rule, each client would send at least
 * two more calls while paused, and that the first run after the resume
 * comes well after the count is taken.
 */
describe('a paused dependency receives at most one check call per client', () => {
  const services = useServices();
  const INTERVAL_MS = 1000;
  const FAILURE_INTERVAL_MS = 1500;
  const CHECK_TIMEOUT_MS = 400;
  /** Long enough for two more calls per client if each run did not wait for the previous call. */
  const WINDOW_MS = 2 * (FAILURE_INTERVAL_MS + CHECK_TIMEOUT_MS) + 200;
  const REDIS_CLIENTS = ['redis', 'redis-cache'];
  let app: AppProcess;

  beforeAll(async () => {
    services.pg.requirePgStatStatements();
    app = await startApp(
      env(services.redis, services.pg, {
        REDIS__CACHE_DB: '1',
        HEALTH_INTERVAL_MS: String(INTERVAL_MS),
        HEALTH_FAILURE_INTERVAL_MS: String(FAILURE_INTERVAL_MS),
        HEALTH_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS),
        // The clients' own timeouts outlast the pause, so the held call cannot settle early.
        REDIS_COMMAND_TIMEOUT_MS: '20000',
        DB_STATEMENT_TIMEOUT_MS: '20000',
      }),
    );
    await waitFor(async () => (await readiness(app)).status === 200, { timeoutMs: 10_000, description: 'ready' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  /**
   * Waits until every check in `checks` ran within the last 250 ms: the next
   * runs are then at least 750 ms away, time enough to take a baseline and
   * pause before any of them.
   */
  async function justAfterChecks(checks: string[]): Promise<void> {
    await waitFor(
      async () => {
        const { body } = await readiness(app, AUTHORIZED);
        return checks.every((name) => {
          const checkedAt = body.details[name]?.checkedAt;
          return body.details[name]?.status === 'up' && checkedAt && Date.now() - Date.parse(checkedAt) < 250;
        });
      },
      { timeoutMs: 10_000, intervalMs: 10, description: `fresh runs of ${checks.join(', ')}` },
    );
  }

  async function downWithTimeout(checks: string[]): Promise<void> {
    await waitFor(
      async () => {
        const { body } = await readiness(app);
        return checks.every((name) => body.error[name]?.message === 'timeout');
      },
      { timeoutMs: 10_000, intervalMs: 20, description: `${checks.join(', ')} down with timeout` },
    );
  }

  const observeWindow = () =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, WINDOW_MS);
    });

  it('Redis: one PING per client while paused (INFO commandstats after resuming)', async () => {
    // Connected before the pause, so the count after the resume takes one round trip.
    const counter = new Redis(services.redis.url(0), { lazyConnect: true, maxRetriesPerRequest: 0 });
    counter.on('error', () => undefined);
    await counter.connect();
    const pings = async () => Number(/cmdstat_ping:calls=(\d+)/.exec(await counter.info('commandstats'))?.[1] ?? 0);
    try {
      await justAfterChecks(REDIS_CLIENTS);
      const before = await pings();
      await services.redis.pause();
      try {
        await downWithTimeout(REDIS_CLIENTS);
        await observeWindow();
      } finally {
        await services.redis.resume();
      }
      // After SIGCONT the server may read this client's INFO before the PINGs it held on the
      // app's sockets: wait for the first to be counted, then read once more (one more round
      // trip, by which the server has read everything that was waiting when it resumed).
      await waitFor(async () => (await pings()) > before, {
        timeoutMs: 5000,
        intervalMs: 10,
        description: 'the PING held during the pause to be counted',
      });
      const whilePaused = (await pings()) - before;
      expect(whilePaused).toBeGreaterThan(0);
      expect(whilePaused).toBeLessThanOrEqual(REDIS_CLIENTS.length);
    } finally {
      counter.disconnect();
    }
  });

  it('PostgreSQL: one SELECT 1 for the db check while paused (pg_stat_statements after resuming)', async () => {
    const selects = async () => {
      const [row] = await services.pg.query<{ calls: string | null }>(
        "SELECT sum(calls) AS calls FROM pg_stat_statements WHERE query IN ('SELECT 1', 'SELECT $1')",
      );
      return Number(row.calls ?? 0);
    };
    await justAfterChecks(['db']);
    const before = await selects();
    await services.pg.pause();
    try {
      await downWithTimeout(['db']);
      await observeWindow();
    } finally {
      await services.pg.resume();
    }
    // pg_stat_statements counts a statement when it finishes: wait for the held one to finish.
    await waitFor(
      async () => (await services.pg.appConnections('probe-ready-api')).every((backend) => backend.state !== 'active'),
      { timeoutMs: 5000, intervalMs: 10, description: "the app's held query to finish" },
    );
    const whilePaused = (await selects()) - before;
    expect(whilePaused).toBe(1);
  });
});

describe('a wrong DATABASE_URL password', () => {
  const services = useServices();
  const wrong = 'Wr0ng-db-password-Kz19';
  let app: AppProcess;

  beforeAll(async () => {
    app = await startApp(
      env(services.redis, services.pg, {
        DATABASE_URL: services.pg.url().replace(services.pg.password, wrong),
        NODE_ENV: 'production',
      }),
    );
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('is answered authentication failed, and neither password reaches a response or a log line', async () => {
    const anonymous = await waitFor(
      async () => {
        const r = await readiness(app);
        return r.body.error.db?.message === 'authentication failed' ? r : undefined;
      },
      { timeoutMs: 10_000, description: 'db down with authentication failed' },
    );
    expect(anonymous.status).toBe(503);
    const authorized = await readiness(app, AUTHORIZED);
    expect(authorized.body.error.db).toMatchObject({
      message: 'authentication failed',
      reason: expect.stringContaining('password authentication failed'),
    });
    const dbCheck = await fetch(app.url('/health/db'), { headers: AUTHORIZED });
    const texts = [anonymous.text, authorized.text, await dbCheck.text()];
    await app.stop(); // shutdown logs too
    for (const text of [...texts, app.output()]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(services.pg.password);
    }
    expect(app.output()).toContain('authentication failed');
  });
});

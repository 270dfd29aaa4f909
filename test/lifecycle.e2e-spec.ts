/**
 * Graceful shutdown and resilience. The app runs as a child
 * process so SIGTERM is a real signal.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ensureBuilt, startApp, stopAllApps, AppExit, AppProcess } from './support/app-process';
import type { PostgresFixture } from './support/postgres-server';
import type { RedisFixture } from './support/redis-server';
import { useServices } from './support/services';
import { isProcessGone, waitFor } from './support/wait';

const DB_APP_NAME = 'probe-ready-api';
const RECOVERY_BUDGET_MS = 15_000;

function env(redis: RedisFixture, pg: PostgresFixture, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url(0),
    DATABASE_URL: pg.url(),
    HEALTH_INTERVAL_MS: '500',
    HEALTH_FAILURE_INTERVAL_MS: '250',
    SHUTDOWN_DRAIN_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '8000',
    SHUTDOWN_CLIENT_CLOSE_MS: '1000',
    ...extra,
  };
}

/** A readiness answer; status 0 when no HTTP answer came (refused, reset, timed out). */
async function readiness(app: AppProcess): Promise<{ status: number; bodyStatus?: string }> {
  try {
    const response = await fetch(app.url('/health/ready'), { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { status?: string };
    return { status: response.status, bodyStatus: body.status };
  } catch {
    return { status: 0 };
  }
}

/** GET over `agent`: status and Connection header, or a rejection on a network error. */
function get(agent: Agent, url: string): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The readiness body as text, to explain a failed wait. */
async function readinessBody(app: AppProcess): Promise<string> {
  try {
    return await (await fetch(app.url('/health/ready'), { signal: AbortSignal.timeout(2000) })).text();
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

/** The JSON log lines of the app (NODE_ENV=test logs JSON), each with its index in the output. */
function jsonLines(app: AppProcess): Array<Record<string, unknown>> {
  return app.lines().flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

async function status(app: AppProcess, path: string): Promise<number> {
  try {
    return (await fetch(app.url(path), { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

beforeAll(() => ensureBuilt());
// Every app here lives for one test: none outlives it, whatever the outcome.
afterEach(() => stopAllApps(), 30_000);

describe('SIGTERM under a steady stream of requests', () => {
  const services = useServices();

  it('fails no request, turns readiness 503 shutting_down before closing, keeps liveness 200, exits 0 and closes every connection', async () => {
    const drainMs = 1500;
    const app = await startApp(env(services.redis, services.pg, { SHUTDOWN_DRAIN_MS: String(drainMs) }));
    await waitFor(async () => (await status(app, '/health/ready')) === 200, { timeoutMs: 5000, description: 'ready' });

    // A load balancer: sends traffic while readiness says 200, stops soon after it says 503.
    let routing = true;
    let signalledAt = 0;
    let firstNotReady: { status: number; bodyStatus?: string } | undefined;
    const results: { path: string; status: number; at: number }[] = [];
    const watcher = (async () => {
      while (routing) {
        const answer = await readiness(app);
        if (answer.status !== 200 && signalledAt) {
          firstNotReady = answer;
          setTimeout(() => (routing = false), 300); // the LB's own reaction time
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const worker = async () => {
      while (routing) {
        for (const path of ['/health/live', '/metrics', '/jobs?limit=1']) {
          const s = await status(app, path);
          results.push({ path, status: s, at: Date.now() });
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);

    let exit: AppExit;
    try {
      await waitFor(() => results.length > 100, { timeoutMs: 5000, description: 'traffic flowing' });
      signalledAt = Date.now();
      app.signal('SIGTERM');
      app.signal('SIGTERM'); // a second signal must not start a second shutdown
      exit = await app.exited;
    } finally {
      routing = false;
      await Promise.all([watcher, ...workers]);
      await app.stop();
    }
    if (process.env.DEBUG_SHUTDOWN)
      process.stdout.write(
        `${app
          .lines()
          .filter((l) => /Shutdown|closed/.test(l))
          .join(
            '\n',
          )}\nexit after ${Date.now() - signalledAt} ms, ${results.filter((r) => r.at >= signalledAt).length} requests during drain\n`,
      );

    const duringDrain = results.filter((r) => r.at >= signalledAt);
    // The gate's own answer, served while the listener was still open: a refused connection
    // (the listener already closed) or Fastify's closing 503 would mean readiness failed too late.
    expect(firstNotReady).toEqual({ status: 503, bodyStatus: 'shutting_down' });
    expect(duringDrain.filter((r) => r.path === '/health/live').every((r) => r.status === 200)).toBe(true);
    expect(duringDrain.length).toBeGreaterThan(20);
    const failed = results.filter((r) => r.status !== 200);
    expect(failed).toEqual([]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.output().match(/shutdown started/g)).toHaveLength(1);
    expect((await services.redis.clientList()).filter((c) => c.name?.startsWith('app-'))).toEqual([]);
    expect(await services.pg.appConnections(DB_APP_NAME)).toEqual([]);
  });

  it.each(['Redis', 'PostgreSQL'] as const)('exits 0 within the timeout while %s is paused', async (which) => {
    const paused = which === 'Redis' ? services.redis : services.pg;
    const app = await startApp(env(services.redis, services.pg));
    await waitFor(async () => (await status(app, '/health/ready')) === 200, { timeoutMs: 5000, description: 'ready' });
    await paused.pause();
    try {
      const started = Date.now();
      app.signal('SIGTERM');
      const exit = await app.exited;
      expect(Date.now() - started).toBeLessThan(8000);
      expect(exit.code).toBe(0);
    } finally {
      await paused.resume();
    }
  });
});

describe('shutdown deadlines', () => {
  const services = useServices();

  it('answers a request that needs Redis and is in flight at SIGTERM, then logs each phase once, in order', async () => {
    const app = await startApp(env(services.redis, services.pg, { SHUTDOWN_DRAIN_MS: '200' }));
    await waitFor(async () => (await status(app, '/health/ready')) === 200, { timeoutMs: 5000, description: 'ready' });

    // POST /jobs with its body held back: the request is in flight from the 100 Continue on,
    // and its handler (a Redis write) runs only once the body arrives, after the drain.
    const body = JSON.stringify({ type: 'in.flight', payload: { at: 'sigterm' } });
    const socket = connect(app.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = once(socket, 'close');
    try {
      socket.write(
        'POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
      );
      await waitFor(() => received.includes('100 Continue'), { timeoutMs: 5000, description: '100 Continue' });
      app.signal('SIGTERM');
      await app.waitForLine(/drain finished/);
      socket.write(body);
      await closed; // the answer says Connection: close; the in-flight deadline bounds the wait
    } finally {
      socket.destroy();
    }
    expect(received).toMatch(/HTTP\/1\.1 201 /);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const lines = jsonLines(app);
    const phases = ['drain', 'http', 'redis', 'database'];
    const logged = lines.filter((l) => typeof l.phase === 'string');
    expect(logged.map((l) => l.phase).sort()).toEqual([...phases].sort());
    for (const line of logged) expect(line).toMatchObject({ durationMs: expect.any(Number), level: 30 });
    const at = (phase: string) => lines.findIndex((l) => l.phase === phase);
    expect(at('drain')).toBeLessThan(at('http'));
    expect(at('http')).toBeLessThan(Math.min(at('redis'), at('database')));
    expect(logged.find((l) => l.phase === 'drain')?.durationMs).toBeGreaterThanOrEqual(200);
    // A planned shutdown is not an incident: no client closed on purpose may read as a lost connection.
    const fromSigterm = lines.slice(lines.findIndex((l) => /shutdown started/.test(String(l.msg))));
    const clientWarnings = fromSigterm.filter(
      (l) => Number(l.level) >= 40 && ['Redis', 'Database'].includes(String(l.context)),
    );
    expect(clientWarnings.map((l) => l.msg)).toEqual([]);
  });

  it('from SIGTERM on answers with Connection: close, so a keep-alive client moves to another instance without an error', async () => {
    const [draining, other] = await Promise.all([
      startApp(env(services.redis, services.pg, { SHUTDOWN_DRAIN_MS: '1500' })),
      startApp(env(services.redis, services.pg)),
    ]);
    for (const app of [draining, other])
      await waitFor(async () => (await status(app, '/health/ready')) === 200, {
        timeoutMs: 5000,
        description: 'ready',
      });

    // A client with a keep-alive pool behind a load balancer that routes new connections
    // to `draining` until its readiness says 503 (the LB's reaction time: 300 ms).
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let target = draining;
    let sending = true;
    let signalledAt = 0;
    const answers: { app: AppProcess; status: number; connection?: string; at: number; error?: string }[] = [];
    const lb = (async () => {
      while (sending && target === draining) {
        if (signalledAt && (await readiness(draining)).status !== 200) {
          await new Promise((r) => setTimeout(r, 300));
          target = other;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const client = async () => {
      while (sending) {
        const app = target;
        const at = Date.now();
        try {
          const answer = await get(agent, app.url('/jobs?limit=1'));
          answers.push({ app, at, ...answer });
        } catch (error) {
          answers.push({ app, at, status: 0, error: (error as Error).message });
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    try {
      await waitFor(() => answers.length > 50, { timeoutMs: 5000, description: 'traffic flowing' });
      signalledAt = Date.now();
      draining.signal('SIGTERM');
      await waitFor(() => answers.some((a) => a.app === other && a.at > signalledAt), {
        timeoutMs: 5000,
        description: 'the client to move to the other instance',
      });
      expect(await draining.exited).toEqual({ code: 0, signal: null });
    } finally {
      sending = false;
      await Promise.all([lb, ...clients]);
      agent.destroy();
      await Promise.all([draining.stop(), other.stop()]);
    }
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Once the app has seen the signal (its first Connection: close), every later request to it is told to close.
    const fromDraining = answers.filter((a) => a.app === draining && a.at > signalledAt);
    const firstClose = fromDraining.find((a) => a.connection === 'close');
    expect(firstClose).toBeDefined();
    const later = fromDraining.filter((a) => a.at > (firstClose?.at ?? Infinity) + 20);
    expect(later.filter((a) => a.connection !== 'close')).toEqual([]);
  });

  describe('SIGTERM during boot, before the server listens', () => {
    // A PostgreSQL that accepts connections and never answers holds boot in its first-connect wait.
    let silentPg: Server;
    const sockets = new Set<Socket>();
    beforeEach(async () => {
      silentPg = createServer((socket) => {
        sockets.add(socket);
        socket.resume(); // read (and drop) what the client sends, so its FIN is seen
        socket.on('close', () => sockets.delete(socket));
      });
      silentPg.listen(0, '127.0.0.1');
      await once(silentPg, 'listening');
    });
    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      silentPg.close();
      await once(silentPg, 'close');
    });

    it('closes what was opened, logs one line and exits 0 when it arrives while PostgreSQL is connecting', async () => {
      const { port } = silentPg.address() as AddressInfo;
      const app = await startApp(
        env(services.redis, services.pg, { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/app` }),
        { waitFor: 'none' },
      );
      await waitFor(() => sockets.size > 0, { timeoutMs: 10_000, description: 'a connection to PostgreSQL' });
      app.signal('SIGTERM');
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.output()).not.toMatch(/listening on/);
      expect(app.output().match(/shutdown before the server listened/g)).toHaveLength(1);
      expect(
        jsonLines(app)
          .filter((l) => typeof l.phase === 'string')
          .map((l) => l.phase),
      ).toEqual(expect.arrayContaining(['redis', 'database']));
      await waitFor(() => sockets.size === 0, { timeoutMs: 5000, description: 'the PostgreSQL connection closed' });
      expect((await services.redis.clientList()).filter((c) => c.name?.startsWith('app-'))).toEqual([]);
    });
  });

  it('closes the socket of a request still running at the listener deadline, and still exits 0 within SHUTDOWN_TIMEOUT_MS', async () => {
    const timeoutMs = 6000;
    const app = await startApp(
      env(services.redis, services.pg, {
        SHUTDOWN_TIMEOUT_MS: String(timeoutMs),
        SHUTDOWN_CLIENT_CLOSE_MS: '500',
      }),
    );
    await waitFor(async () => (await status(app, '/health/ready')) === 200, { timeoutMs: 5000, description: 'ready' });

    // A client that starts a request and stalls mid-body: the request is running, not idle.
    const socket = connect(app.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = once(socket, 'close');
    socket.write(
      'POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\nExpect: 100-continue\r\n\r\n',
    );
    // Node answers 100 Continue once it has parsed the headers: from then on the request is in flight.
    await waitFor(() => received.includes('100 Continue'), { timeoutMs: 5000, description: '100 Continue' });
    socket.write('{"type":"stalled",');

    const signalledAt = Date.now();
    app.signal('SIGTERM');
    await closed;
    const socketClosedMs = Date.now() - signalledAt;
    const exit = await app.exited;
    const exitMs = Date.now() - signalledAt;

    expect(received).not.toMatch(/HTTP\/1\.1 [2-5]\d\d /); // cut, not answered
    expect(app.output().match(/in-flight requests overran their deadline/g)).toHaveLength(1);
    // The watchdog would have exited 1 at SHUTDOWN_TIMEOUT_MS; the margin is for process teardown on a loaded machine.
    expect(exit).toEqual({ code: 0, signal: null });
    expect(socketClosedMs).toBeLessThan(exitMs);
    expect(exitMs).toBeLessThan(timeoutMs + 1000);
  });

  it('exits 1 with one log line when the whole sequence overruns SHUTDOWN_TIMEOUT_MS', async () => {
    // A drain longer than the whole shutdown budget: only the watchdog can end it in time.
    const app = await startApp(
      env(services.redis, services.pg, { SHUTDOWN_DRAIN_MS: '20000', SHUTDOWN_TIMEOUT_MS: '1000' }),
    );
    await waitFor(async () => (await status(app, '/health/ready')) === 200, { timeoutMs: 5000, description: 'ready' });
    const signalledAt = Date.now();
    app.signal('SIGTERM');
    const exit = await app.exited;
    const exitMs = Date.now() - signalledAt;

    expect(exit).toEqual({ code: 1, signal: null });
    expect(exitMs).toBeLessThan(20_000);
    const errors = jsonLines(app).filter((l) => typeof l.level === 'number' && l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0].msg).toBe('shutdown exceeded SHUTDOWN_TIMEOUT_MS (1000 ms); exiting');
  });
});

describe('resilience', () => {
  const services = useServices();

  it('survives 5 Redis and 5 PostgreSQL restarts under probe traffic without growing', async () => {
    const app = await startApp(env(services.redis, services.pg));
    // Probe traffic until the test ends, whatever its outcome (finally below).
    let probing = true;
    let traffic: Promise<void> | undefined;
    try {
      await waitFor(async () => (await status(app, '/health/ready')) === 200, {
        timeoutMs: 5000,
        description: 'ready',
      });
      traffic = (async () => {
        while (probing) await Promise.all(['/health/ready', '/health/live', '/health/db'].map((p) => status(app, p)));
      })();
      // The baseline is RSS once the heap has grown to what this traffic needs (two samples
      // a second apart within 1 %, a few seconds in): growth after that is what restarts leave.
      let previous = 0;
      const rssBefore = await waitFor(
        async () => {
          await new Promise((r) => setTimeout(r, 1000));
          const now = rssKb(app.pid);
          const settled = Math.abs(now - previous) < previous * 0.01;
          previous = now;
          return settled && now;
        },
        { timeoutMs: 30_000, intervalMs: 0, description: 'RSS to settle under probe traffic' },
      );
      const fdsBefore = openFds(app.pid);
      const recoveries: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < 5; i++) {
        await services.redis.restart();
        await services.pg.restart();
        // Both are back and accepting: the app owes 200 within one failure interval plus
        // one check timeout, plus Redis' capped reconnect delay (the budget is in
        // readinessAfterRestartMs).
        const back = Date.now();
        await waitFor(async () => (await status(app, '/health/ready')) === 200, {
          timeoutMs: RECOVERY_BUDGET_MS,
          description: `ready after restart ${i + 1}`,
        }).catch(async (error: Error) => {
          throw new Error(
            `${error.message}; readiness now: ${await readinessBody(app)}\n${app.lines().slice(-15).join('\n')}`,
          );
        });
        recoveries.push(Date.now() - back);
        rss.push(rssKb(app.pid));
      }
      const rssAfter = rss[rss.length - 1];
      if (process.env.DEBUG_SHUTDOWN)
        process.stdout.write(
          `restart loop: recoveries ${recoveries.join(', ')} ms; fds ${fdsBefore} -> ${openFds(app.pid)}; RSS ${rssBefore}, then ${rss.join(', ')} kB (${((rssAfter / rssBefore - 1) * 100).toFixed(1)} %)\n`,
        );
      expect(isProcessGone(app.pid)).toBe(false);
      // What a restart could leak is sockets, clients and pools: they show as file descriptors.
      // RSS only gets a coarse bound; under load the heap keeps growing toward its plateau.
      expect(openFds(app.pid)).toBeLessThanOrEqual(fdsBefore + 2);
      expect(rssAfter / rssBefore).toBeLessThan(1.5);
      expect(await status(app, '/health/ready')).toBe(200);
    } finally {
      probing = false;
      await traffic;
      await app.stop();
    }
  });

  it.each(['redis', 'postgres'] as const)(
    'boots with %s down and becomes ready when it starts, without a restart',
    async (which) => {
      if (which === 'redis') await services.redis.kill();
      else await services.pg.stop();
      const app = await startApp(env(services.redis, services.pg));
      try {
        expect(await status(app, '/health/live')).toBe(200);
        // Startup is about the process: 200 once the first round of checks ran, with the dependency still down.
        await waitFor(async () => (await status(app, '/health/startup')) === 200, {
          timeoutMs: 5_000,
          description: 'startup 200 while the dependency is down',
        });
        expect(await status(app, '/health/ready')).toBe(503);
        if (which === 'redis') await services.redis.start();
        else await services.pg.start();
        await waitFor(async () => (await status(app, '/health/ready')) === 200, {
          timeoutMs: 10_000,
          description: 'ready 200',
        });
      } finally {
        await app.stop();
      }
    },
  );

  it('boots with Redis paused and becomes ready when it resumes', async () => {
    await services.redis.pause();
    let app: AppProcess | undefined;
    try {
      app = await startApp(env(services.redis, services.pg));
      // A hung Redis shows as a timeout in the first round; startup passes regardless, readiness does not.
      const booted = app;
      await waitFor(async () => (await status(booted, '/health/startup')) === 200, {
        timeoutMs: 5_000,
        description: 'startup 200 while redis is paused',
      });
      expect(await status(app, '/health/ready')).toBe(503);
    } finally {
      await services.redis.resume();
    }
    try {
      await waitFor(async () => (await status(app, '/health/ready')) === 200, {
        timeoutMs: 10_000,
        description: 'ready 200',
      });
    } finally {
      await app.stop();
    }
  });
});

/**
 * Logs of the built app (`node dist/main.js`, NODE_ENV=production: JSON on
 * stdout): request ids, probes left out of the access log, LOG_LEVEL, and no
 * credential anywhere in the output while errors are provoked with a wrong
 * Redis password and a password in DATABASE_URL.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { ensureBuilt, startApp, type AppProcess } from './support/app-process';
import { startPostgres, type PostgresFixture } from './support/postgres-server';
import { startRedis, type RedisFixture } from './support/redis-server';
import { waitFor } from './support/wait';

/** Strings that must never reach the log output. */
const SECRETS = {
  redisServer: 'redis-server-pw-Qm41',
  redisGiven: 'wrong-redis-pw-Zq81',
  database: 'pg-url-pw-Xk27',
  detailsToken: 'details-token-Hv55-abcdefgh',
  bearer: 'client-bearer-Jt93',
  cookie: 'session-cookie-Lw06',
  queryToken: 'query-token-Rb12',
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface LogLine {
  level: number;
  msg?: string;
  failure?: string;
  reqId?: string;
  req?: { id?: string; method?: string; url?: string; headers?: Record<string, string> };
  res?: { statusCode?: number };
  check?: string;
  from?: string;
  to?: string;
  reason?: string;
}

/** The JSON lines of the captured output (anything else is skipped). */
function jsonLines(app: AppProcess): LogLine[] {
  return app.lines().flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** The access line of one request (pino-http's `request completed` / `request errored`). */
const accessLine = (app: AppProcess, reqId: string): LogLine | undefined =>
  jsonLines(app).find((l) => l.reqId === reqId && l.req !== undefined && l.res !== undefined);

async function awaitAccessLine(app: AppProcess, reqId: string): Promise<LogLine> {
  return waitFor(() => accessLine(app, reqId), { timeoutMs: 5000, description: `access line of ${reqId}` });
}

describe('logging (built app, NODE_ENV=production)', () => {
  let redis: RedisFixture;
  let pg: PostgresFixture;

  beforeAll(async () => {
    ensureBuilt();
    [redis, pg] = await Promise.all([startRedis({ password: SECRETS.redisServer }), startPostgres()]);
  });

  afterAll(async () => {
    await Promise.all([redis?.stop(), pg?.destroy()]);
  });

  describe('with a wrong Redis password and a password in DATABASE_URL', () => {
    let app: AppProcess;

    beforeAll(async () => {
      app = await startApp({
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        REDIS_URL: `redis://:${SECRETS.redisGiven}@127.0.0.1:${redis.port}/0`,
        DATABASE_URL: pg.url().replace(pg.password, SECRETS.database), // refused: authentication failed
        HEALTH_DETAILS_TOKEN: SECRETS.detailsToken,
        SHUTDOWN_DRAIN_MS: '0',
      });
      // Readiness turns 503 for the reason the provoked error gives.
      await waitFor(
        async () => {
          const response = await fetch(app.url('/health/ready'));
          const body = (await response.json()) as { error?: Record<string, { message?: string }> };
          return response.status === 503 && body.error?.redis?.message === 'authentication failed';
        },
        { timeoutMs: 10_000, description: 'readiness 503 with redis authentication failed' },
      );
    });

    afterAll(async () => {
      await app?.stop();
    });

    it('returns a valid caller X-Request-Id and logs it on the request line', async () => {
      const response = await fetch(app.url('/jobs'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': 'obs-e2e.req:1',
          authorization: `Bearer ${SECRETS.bearer}`,
          cookie: `sid=${SECRETS.cookie}`,
        },
        body: JSON.stringify({ type: 'report.render', payload: { password: SECRETS.database } }),
      });
      expect(response.status).toBe(503); // the job store is Redis, which refuses the password
      expect(response.headers.get('x-request-id')).toBe('obs-e2e.req:1');

      const line = await awaitAccessLine(app, 'obs-e2e.req:1');
      expect(line.req).toMatchObject({ id: 'obs-e2e.req:1', method: 'POST', url: '/jobs' });
      expect(line.res?.statusCode).toBe(503);
      expect(line.req?.headers?.authorization).toBe('***');
      expect(line.req?.headers?.cookie).toBe('***');
    });

    it('replaces an invalid X-Request-Id with a UUID, in the header and on the request line', async () => {
      const response = await fetch(app.url('/no-such-route'), { headers: { 'x-request-id': 'not valid; has spaces' } });
      expect(response.status).toBe(404);
      const id = response.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      const line = await awaitAccessLine(app, id);
      expect(line.req?.url).toBe('/no-such-route');
    });

    it('logs a jobs request that meets an unavailable Redis once, at warn, with the reason and the request id', async () => {
      const response = await fetch(app.url('/jobs'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'obs-e2e-inner' },
        body: '{"type":"a","payload":{}}',
      });
      expect(response.status).toBe(503);
      await awaitAccessLine(app, 'obs-e2e-inner');
      const lines = jsonLines(app).filter((l) => l.reqId === 'obs-e2e-inner');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 40,
        msg: expect.stringMatching(
          /^job store unavailable: POST \/jobs answered 503 \((not connected|authentication failed)\)$/,
        ),
        failure: expect.any(String),
        reason: expect.any(String),
        res: { statusCode: 503 },
      });
      expect(lines[0]).not.toHaveProperty('err');
    });

    it('does not log a client that aborts its request body as an unhandled error', async () => {
      const socket = connect(app.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        'POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          'X-Request-Id: obs-aborted\r\nContent-Length: 1000\r\n\r\n{"type":"a",',
      );
      // Headers and the first body bytes handed to the kernel, then hang up mid-body.
      await waitFor(() => socket.bytesWritten > 0 && socket.writableLength === 0, {
        timeoutMs: 5000,
        intervalMs: 10,
        description: 'the partial request to be written',
      });
      socket.destroy();
      const line = await waitFor(() => jsonLines(app).find((l) => l.reqId === 'obs-aborted'), {
        timeoutMs: 5000,
        description: 'the access line of the aborted request',
      });
      expect(line.msg).toBe('request aborted');
      // A later request's line is out, so any line the abort caused would be too.
      await fetch(app.url('/no-such-route'), { headers: { 'x-request-id': 'after-abort' } });
      await awaitAccessLine(app, 'after-abort');
      expect(jsonLines(app).filter((l) => l.reqId === 'obs-aborted')).toHaveLength(1);
      expect(app.output()).not.toMatch(/unhandled error/);
    });

    it('answers a traversal attempt on the /docs assets 403 and logs it as a 4xx, not as an unhandled error', async () => {
      const response = await fetch(app.url('/docs/..%5cpackage.json'), { headers: { 'x-request-id': 'obs-403' } });
      expect(response.status).toBe(403);
      const line = await awaitAccessLine(app, 'obs-403');
      expect(line).toMatchObject({ level: 40, res: { statusCode: 403 } });
      expect(jsonLines(app).filter((l) => l.reqId === 'obs-403')).toHaveLength(1);
      expect(app.output()).not.toMatch(/unhandled error/);
    });

    it('does not access-log probes or scrapes', async () => {
      const probes = [
        '/health',
        '/health/live',
        '/health/ready',
        '/health/startup',
        '/health/redis',
        '/health/ready/db',
        '/health/',
        '/metrics',
      ];
      for (const [i, path] of probes.entries()) {
        const response = await fetch(app.url(path), { headers: { 'x-request-id': `probe-${i}` } });
        await response.arrayBuffer();
        expect(response.headers.get('x-request-id')).toBe(`probe-${i}`);
      }
      // A logged request after them: once its line is out, theirs would be too.
      await fetch(app.url('/no-such-route'), { headers: { 'x-request-id': 'after-probes' } });
      await awaitAccessLine(app, 'after-probes');
      const probeLines = app.lines().filter((l) => /"probe-\d+"/.test(l));
      expect(probeLines).toEqual([]);
    });

    it('logs the Redis health change once, with check, from, to and the classified reason', async () => {
      // Several failing runs happen per second (HEALTH_FAILURE_INTERVAL_MS 500): still one line.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const changes = jsonLines(app).filter((l) => l.check === 'redis' && l.to === 'down');
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ from: 'pending', to: 'down' });
      expect(changes[0].msg).toMatch(/health check redis: pending -> down \(authentication failed/);
    });

    it('never writes a password, token or cookie, even through provoked errors', async () => {
      // Authorized details (the redacted raw reason), a credential in a query string, a 4xx and 5xx.
      const details = await fetch(app.url('/health/redis'), {
        headers: { authorization: `Bearer ${SECRETS.detailsToken}` },
      });
      expect(details.status).toBe(503);
      const body = await details.text();
      expect(body).toContain('"reason"');
      await fetch(app.url(`/jobs?token=${SECRETS.queryToken}&next=redis://u:${SECRETS.redisGiven}@h/0`), {
        headers: { 'x-request-id': 'query-secret' },
      });
      await awaitAccessLine(app, 'query-secret');
      await app.stop(); // shutdown logs too

      const output = app.output();
      expect(output).toContain('authentication failed'); // the errors were provoked and logged
      for (const secret of Object.values(SECRETS)) expect(output).not.toContain(secret);
      expect(body).not.toContain(SECRETS.redisGiven);
    });
  });

  it('honours LOG_LEVEL: at warn, 4xx access lines are written and info lines are not', async () => {
    const app = await startApp({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url(0),
      DATABASE_URL: pg.url(),
      SHUTDOWN_DRAIN_MS: '0',
    });
    try {
      const ok = await fetch(app.url('/docs-json'), { headers: { 'x-request-id': 'level-ok' } });
      expect(ok.status).toBe(200);
      await fetch(app.url('/no-such-route'), { headers: { 'x-request-id': 'level-404' } });
      const line = await awaitAccessLine(app, 'level-404');
      expect(line.level).toBe(40);
      expect(accessLine(app, 'level-ok')).toBeUndefined();
      expect(jsonLines(app).filter((l) => l.level < 40)).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});

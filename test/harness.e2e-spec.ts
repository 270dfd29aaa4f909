/**
 * Self-test of the real-service harness (test/support/): the fixtures start,
 * can be made to fail (pause, kill) and recover (resume, restart keeps data),
 * and clean up, also when the process that started them dies.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { startPostgres, type PostgresFixture } from './support/postgres-server';
import { startRedis, type RedisFixture } from './support/redis-server';
import { isProcessGone, waitFor, WaitTimeoutError } from './support/wait';

/** One PING on a fresh connection that gives up after `timeoutMs`. */
async function pingWithin(fixture: RedisFixture, timeoutMs: number): Promise<string> {
  const client = new Redis({
    host: fixture.host,
    port: fixture.port,
    password: fixture.password,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

describe('harness: waitFor', () => {
  it('returns the first truthy value', async () => {
    let calls = 0;
    await expect(
      waitFor(() => ++calls >= 3 && calls, { timeoutMs: 1_000, intervalMs: 1, description: 'three calls' }),
    ).resolves.toBe(3);
  });

  it('fails naming what it waited for, also when one call hangs', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 100, intervalMs: 10, description: 'the impossible' }),
    ).rejects.toThrow(new WaitTimeoutError('the impossible', 100));
    const hang = waitFor(() => new Promise<boolean>(() => undefined), {
      timeoutMs: 100,
      description: 'a hanging check',
    });
    await expect(hang).rejects.toThrow(/Timed out after 100 ms waiting for a hanging check/);
  });
});

describe('harness: redis-server fixture', () => {
  let redis: RedisFixture;

  beforeAll(async () => {
    redis = await startRedis({ password: 's3cret pass', appendonly: true });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('starts on a free loopback port (never 6379) and answers PING', async () => {
    expect(redis.port).not.toBe(6379);
    expect(redis.url(2)).toBe(`redis://:s3cret%20pass@127.0.0.1:${redis.port}/2`);
    expect(await pingWithin(redis, 1_000)).toBe('PONG');
    expect(await redis.command('PING')).toBe('PONG');
  });

  it('requires the password', async () => {
    const client = new Redis({
      port: redis.port,
      host: redis.host,
      // RESP2 as the app speaks it: under RESP3 the NOAUTH answers the connect's HELLO 3 instead of the GET.
      protocol: 2,
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await expect(client.get('k')).rejects.toThrow(/NOAUTH/);
    } finally {
      client.disconnect();
    }
  });

  it('lists clients without the asking connection', async () => {
    const client = new Redis(redis.url(), { connectionName: 'harness-probe' });
    try {
      await client.ping();
      const clients = await redis.clientList();
      expect(clients.map((c) => c.name)).toEqual(['harness-probe']);
    } finally {
      client.disconnect();
    }
  });

  it('pause makes PING time out (open and new connections), resume makes it answer again', async () => {
    const open = new Redis(redis.url(), { commandTimeout: 300, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    open.on('error', () => undefined);
    try {
      expect(await open.ping()).toBe('PONG');
      await redis.pause();
      try {
        await expect(open.ping()).rejects.toThrow(/timed out/i);
        await expect(pingWithin(redis, 300)).rejects.toThrow();
      } finally {
        await redis.resume();
      }
      expect(await pingWithin(redis, 1_000)).toBe('PONG');
    } finally {
      open.disconnect();
    }
  });

  it('restart with appendonly keeps data, on the same port with a new pid', async () => {
    await redis.command('SET', 'harness:key', 'kept');
    const { port, pid } = redis;
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(pid);
    expect(isProcessGone(pid)).toBe(true);
    expect(await redis.command('GET', 'harness:key')).toBe('kept');
  });

  it('restart without appendonly loses data (the control for the test above)', async () => {
    const volatile = await startRedis();
    try {
      await volatile.command('SET', 'harness:key', 'lost');
      await volatile.restart();
      expect(await volatile.command('GET', 'harness:key')).toBeNull();
    } finally {
      await volatile.stop();
    }
  });

  it('kill stops answering, start brings it back', async () => {
    await redis.kill();
    await expect(pingWithin(redis, 300)).rejects.toThrow();
    await redis.start();
    expect(await pingWithin(redis, 1_000)).toBe('PONG');
  });

  it('stop removes the process and the temp dir', async () => {
    const { pid, dir } = redis;
    await redis.stop();
    expect(isProcessGone(pid)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('harness: postgres fixture', () => {
  let pg: PostgresFixture;

  beforeAll(async () => {
    pg = await startPostgres();
  });

  afterAll(async () => {
    await pg?.destroy();
  });

  it('starts its own cluster on a free loopback port (never 5432) with database app', async () => {
    expect(pg.port).not.toBe(5432);
    expect(pg.url()).toBe(`postgres://app:${pg.password}@127.0.0.1:${pg.port}/app`);
    const [row] = await pg.query<{ db: string; answer: number }>(
      'SELECT current_database() AS db, $1::int AS answer',
      [42],
    );
    expect(row).toEqual({ db: 'app', answer: 42 });
    const [{ setting }] = await pg.query<{ setting: string }>(
      `SELECT setting FROM pg_settings WHERE name = 'data_directory'`,
    );
    expect(setting).toBe(pg.dataDir);
    // pid is the postmaster itself (not a runuser wrapper).
    expect(readFileSync(`/proc/${pg.pid}/cmdline`, 'utf8').split('\0')).toEqual(
      expect.arrayContaining(['-D', pg.dataDir]),
    );
    expect(readFileSync(`/proc/${pg.pid}/comm`, 'utf8').trim()).toBe('postgres');
  });

  it('lets the app role in with its password only (scram-sha-256)', async () => {
    const good = new Client({ connectionString: pg.url() });
    await good.connect();
    try {
      const [row] = (await good.query<{ user: string }>('SELECT current_user AS user')).rows;
      expect(row.user).toBe('app');
    } finally {
      await good.end();
    }
    const wrong = new Client({ connectionString: pg.url().replace(pg.password, 'wrong-password') });
    wrong.on('error', () => undefined);
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
    const [{ verifier }] = await pg.query<{ verifier: string }>(
      "SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = 'app'",
    );
    expect(verifier).toMatch(/^SCRAM-SHA-256\$/);
  });

  it('has pg_stat_statements (tests that count statements fail without it)', async () => {
    pg.requirePgStatStatements();
    const rows = await pg.query('SELECT count(*) FROM pg_stat_statements');
    expect(rows).toHaveLength(1);
  });

  it('lists app connections without the asking backend', async () => {
    const client = new Client({ connectionString: pg.url(), application_name: 'harness-probe' });
    await client.connect();
    try {
      const rows = await pg.appConnections();
      expect(rows.map((r) => r.application_name)).toEqual(['harness-probe']);
      expect(await pg.appConnections('nobody')).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('pause makes queries on an existing connection time out, resume recovers', async () => {
    const client = new Client({ connectionString: pg.url(), query_timeout: 300 });
    client.on('error', () => undefined);
    await client.connect();
    await pg.pause();
    try {
      await expect(client.query('SELECT 1')).rejects.toThrow(/timeout/i);
      const fresh = new Client({ connectionString: pg.url(), connectionTimeoutMillis: 300 });
      fresh.on('error', () => undefined);
      await expect(fresh.connect()).rejects.toThrow(/timeout/i);
    } finally {
      await pg.resume();
      await client.end().catch(() => undefined);
    }
    const rows = await pg.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('restart keeps a table, on the same port', async () => {
    await pg.query('CREATE TABLE harness_kept (id int PRIMARY KEY)');
    await pg.query('INSERT INTO harness_kept VALUES (7)');
    const { port, pid } = pg;
    await pg.restart();
    expect(pg.port).toBe(port);
    expect(pg.pid).not.toBe(pid);
    expect(await pg.query('SELECT id FROM harness_kept')).toEqual([{ id: 7 }]);
  });

  it('kill takes the postmaster and its backends down, start brings it back', async () => {
    const client = new Client({ connectionString: pg.url() });
    client.on('error', () => undefined);
    await client.connect();
    const [{ backend }] = (await client.query<{ backend: number }>('SELECT pg_backend_pid() AS backend')).rows;
    const postmaster = pg.pid;
    await pg.kill();
    expect(isProcessGone(postmaster)).toBe(true);
    expect(isProcessGone(backend)).toBe(true);
    await client.end().catch(() => undefined);
    await pg.start();
    expect(await pg.query('SELECT id FROM harness_kept')).toEqual([{ id: 7 }]);
  });

  it('destroy removes the processes and the temp dir', async () => {
    const { pid, dir } = pg;
    await pg.destroy();
    await waitFor(() => isProcessGone(pid), { timeoutMs: 5_000, description: 'postmaster to be gone' });
    expect(existsSync(dir)).toBe(false);
  });
});

describe('harness: a test process that dies leaves nothing behind', () => {
  it('SIGKILLs the servers and removes their dirs when the owning process is SIGKILLed', async () => {
    // A stand-in for a crashed jest worker: starts both fixtures, prints their pids, kills itself.
    const script = `
      const { startRedis } = require('./test/support/redis-server');
      const { startPostgres } = require('./test/support/postgres-server');
      Promise.all([startRedis(), startPostgres()]).then(([redis, pg]) => {
        process.stdout.write(JSON.stringify({ pids: [redis.pid, pg.pid], dirs: [redis.dir, pg.dir] }) + '\\n', () => process.kill(process.pid, 'SIGKILL'));
      });`;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const signal = await new Promise<string | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const { pids, dirs } = JSON.parse(stdout) as { pids: number[]; dirs: string[] };
    expect(pids.every((pid) => pid > 0)).toBe(true);
    await waitFor(() => pids.every(isProcessGone) && !dirs.some((dir) => existsSync(dir)), {
      timeoutMs: 10_000,
      description: `orphaned servers ${pids.join(', ')} and dirs ${dirs.join(', ')} to be cleaned up`,
    });
  });
});

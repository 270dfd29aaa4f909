/**
 * Jobs API against a real redis-server (AOF on, password set) and
 * the built app as a child process. PostgreSQL is deliberately absent: the
 * jobs API must not depend on it (readiness is 503, jobs work).
 *
 * Lifecycle, concurrency, restarts and faults go over real sockets to the
 * child process; input and query cases run in process (see below). Order
 * matters: the fault tests (restart, kill, pause) run last and each leaves
 * Redis serving again.
 */
import { performance } from 'node:perf_hooks';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import type { Job, JobPage } from '../src/jobs/dto/job.dto';
import { isValidPath } from '../src/jobs/job-transitions';
import { JOB_STATUSES } from '../src/jobs/jobs.constants';
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import { freePort } from './support/ports';
import { RedisFixture, startRedis } from './support/redis-server';
import { waitFor } from './support/wait';

const DB = 3;
const PREFIX = 'e2e:jobs:';
const RETENTION_SECONDS = 60;
const COMMAND_TIMEOUT_MS = 1000;
const PASSWORD = 'jobs-e2e-secret-pw';
const UNAVAILABLE = { statusCode: 503, message: 'job store unavailable' };

let redis: RedisFixture;
let app: AppProcess;
let env: Record<string, string>;

interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
  ms: number;
}

interface Raw {
  status: number;
  headers: Headers;
  text: string;
}
/** Sends one request to the app: over HTTP to the child process, or inject() in process. */
type Transport = (method: string, path: string, headers: Record<string, string>, body?: string) => Promise<Raw>;

const overHttp: Transport = async (method, path, headers, body) => {
  const response = await fetch(app.url(path), { method, headers, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, headers: response.headers, text: await response.text() };
};

const inject =
  (target: NestFastifyApplication): Transport =>
  async (method, path, headers, body) => {
    const response = await target.inject({ method: method as 'GET', url: path, headers, payload: body });
    const answered = new Headers();
    for (const [name, value] of Object.entries(response.headers))
      if (value !== undefined) answered.set(name, String(value));
    return { status: response.statusCode, headers: answered, text: response.body };
  };

let transport: Transport = overHttp;

async function call<T = unknown>(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const response = await transport(method, path, headers, body);
  const ms = performance.now() - started;
  let json: unknown = undefined;
  try {
    json = JSON.parse(response.text);
  } catch {
    // not JSON; assertions on `json` will fail with the text in view
  }
  return { ...response, json: json as T, ms };
}

const createJob = async (
  body: unknown = { type: 'report.render', payload: { reportId: 1 } },
  headers?: Record<string, string>,
) => {
  const answer = await call<Job>('POST', '/jobs', { body, headers });
  expect(answer.status).toBe(201);
  return answer.json;
};
const patchJob = (id: string, body: unknown) => call<Job>('PATCH', `/jobs/${id}`, { body });

/** Runs `fn` on a short-lived client of the app's logical DB (inspection and fault injection only). */
async function inDb<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(redis.url(DB), {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

const jobKey = (id: string) => `${PREFIX}job:${id}`;
const memberOf = (id: string) => inDb(async (r) => (await r.hget(jobKey(id), 'member')) ?? '');
/** Which of the index sets (all, per status, expiry) reference `member`. */
const indexesHolding = (member: string) =>
  inDb(async (r) => {
    const sets = [`${PREFIX}index`, ...JOB_STATUSES.map((s) => `${PREFIX}index:${s}`), `${PREFIX}expiry`];
    const scores = await Promise.all(sets.map((key) => r.zscore(key, member)));
    return sets.filter((_, i) => scores[i] !== null).map((key) => key.slice(PREFIX.length));
  });

async function listAll(query = ''): Promise<Job[]> {
  const items: Job[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '';
    const path: string = `/jobs?${query}${sep}limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const page: Answer<JobPage> = await call<JobPage>('GET', path);
    expect(page.status).toBe(200);
    items.push(...page.json.items);
    cursor = page.json.next_cursor;
  } while (cursor);
  return items;
}

const unavailableLines = () => app.lines().filter((line) => line.includes('job store unavailable:')).length;

beforeAll(async () => {
  ensureBuilt();
  redis = await startRedis({ appendonly: true, password: PASSWORD });
  env = {
    REDIS_URL: redis.url(DB),
    // Nothing listens there: the jobs API must not need PostgreSQL.
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/app`,
    NODE_ENV: 'test',
    SHUTDOWN_DRAIN_MS: '0',
    JOBS_RETENTION_SECONDS: String(RETENTION_SECONDS),
    JOBS_KEY_PREFIX: PREFIX,
    REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
  };
  app = await startApp(env);
  await waitFor(async () => (await call('GET', '/jobs?limit=1')).status === 200, {
    timeoutMs: 10_000,
    description: 'the jobs API to answer 200',
  });
});

afterAll(async () => {
  await app?.stop();
  await redis?.stop();
});

describe('create and get', () => {
  it('creates a pending job with every field, 201, and the correlation id echoed', async () => {
    const answer = await call<Job>('POST', '/jobs', {
      body: { type: 'report.render', payload: { reportId: 42, tags: ['a'], nested: { empty: [], none: null } } },
      headers: { 'X-Request-Id': 'req-abc.123:x' },
    });

    expect(answer.status).toBe(201);
    expect(answer.headers.get('x-request-id')).toBe('req-abc.123:x');
    const job = answer.json;
    expect(job).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      type: 'report.render',
      status: 'pending',
      payload: { reportId: 42, tags: ['a'], nested: { empty: [], none: null } },
      created_at: expect.any(String),
      updated_at: job.created_at,
      correlation_id: 'req-abc.123:x',
      history: [{ status: 'pending', at: job.created_at }],
    });
    expect(Math.abs(Date.parse(job.created_at) - Date.now())).toBeLessThan(5000);
  });

  it('stores a payload and a result at the bounds (32 levels, 10,000 keys in the body) exactly as sent', async () => {
    // the body is level 1, payload level 2, payload.chain level 3, … the innermost array level 32
    let chain: unknown = ['leaf', 1, null, true];
    for (let level = 31; level >= 3; level--) chain = { [`l${level}`]: chain };
    // keys: type, payload, chain, 29 in the chain and 9,968 wide ones = 10,000
    const payload = { chain, ...Object.fromEntries(Array.from({ length: 9_968 }, (_, i) => [`k${i}`, i])) };

    const job = await createJob({ type: 'bounds', payload });
    expect(job.payload).toEqual(payload);
    expect((await call<Job>('GET', `/jobs/${job.id}`)).json.payload).toEqual(payload);

    await patchJob(job.id, { status: 'running' });
    const done = await patchJob(job.id, { status: 'succeeded', result: [chain] });
    expect(done.status).toBe(200);
    expect(done.json.result).toEqual([chain]);
  });

  it('generates a correlation id when X-Request-Id is absent or invalid, and echoes it', async () => {
    for (const headers of [undefined, { 'X-Request-Id': 'has spaces and "quotes"' }]) {
      const answer = await call<Job>('POST', '/jobs', { body: { type: 't', payload: {} }, headers });

      expect(answer.status).toBe(201);
      expect(answer.json.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers.get('x-request-id')).toBe(answer.json.correlation_id);
    }
  });

  it('returns the job by id, and 404 naming it when there is none', async () => {
    const job = await createJob();

    const found = await call<Job>('GET', `/jobs/${job.id}`);
    const missing = await call<{ message: string }>('GET', '/jobs/00000000-0000-4000-8000-000000000000');

    expect(found.status).toBe(200);
    expect(found.json).toEqual(job);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      statusCode: 404,
      message: 'job 00000000-0000-4000-8000-000000000000 not found',
    });
  });

  it('stores the job under the configured prefix in the configured logical DB only', async () => {
    const job = await createJob();

    expect(await inDb((r) => r.exists(jobKey(job.id)))).toBe(1);
    expect(await inDb((r) => r.ttl(jobKey(job.id)))).toBe(-1); // pending jobs do not expire
    expect(await redis.command('DBSIZE')).toBe(0); // DB 0 untouched
  });
});

describe('update', () => {
  it('walks pending → running → succeeded, records result, history and expiry', async () => {
    const job = await createJob();

    const running = await patchJob(job.id, { status: 'running' });
    const done = await patchJob(job.id, { status: 'succeeded', result: { pages: 3, urls: [] } });

    expect(running.status).toBe(200);
    expect(running.json.status).toBe('running');
    expect(running.json.expires_at).toBeUndefined();
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      id: job.id,
      status: 'succeeded',
      result: { pages: 3, urls: [] },
      created_at: job.created_at,
    });
    expect(done.json.history.map((h) => h.status)).toEqual(['pending', 'running', 'succeeded']);
    expect(Date.parse(done.json.updated_at)).toBeGreaterThanOrEqual(Date.parse(running.json.updated_at));
    expect(Date.parse(done.json.expires_at ?? '')).toBe(Date.parse(done.json.updated_at) + RETENTION_SECONDS * 1000);
    expect(await call('GET', `/jobs/${job.id}`)).toMatchObject({ status: 200, json: done.json });
  });

  it('allows pending → failed with an error, and running → failed', async () => {
    const a = await createJob();
    const b = await createJob();
    await patchJob(b.id, { status: 'running' });

    const failedA = await patchJob(a.id, { status: 'failed', error: 'could not start' });
    const failedB = await patchJob(b.id, { status: 'failed', error: { code: 'E_RENDER', retryable: false } });

    expect(failedA.json).toMatchObject({ status: 'failed', error: 'could not start' });
    expect(failedA.json.history.map((h) => h.status)).toEqual(['pending', 'failed']);
    expect(failedB.json).toMatchObject({ status: 'failed', error: { code: 'E_RENDER', retryable: false } });
  });

  it.each([
    [['running', 'running'], 'running'],
    [['failed', 'running'], 'failed'],
    [['running', 'succeeded', 'failed'], 'succeeded'],
    [['failed', 'failed'], 'failed'],
  ])('answers 409 naming the current status for the invalid step at the end of %j', async (steps, current) => {
    const job = await createJob();
    for (const status of steps.slice(0, -1)) expect((await patchJob(job.id, { status })).status).toBe(200);

    const answer = await call<{ statusCode: number; message: string; current_status: string }>(
      'PATCH',
      `/jobs/${job.id}`,
      {
        body: { status: steps.at(-1) },
      },
    );

    expect(answer.status).toBe(409);
    expect(answer.json.message).toContain(`current status is ${current}`);
    expect(answer.json.current_status).toBe(current);
  });

  it('answers 409 for pending → succeeded (a job must run first)', async () => {
    const job = await createJob();

    const answer = await call<{ message: string }>('PATCH', `/jobs/${job.id}`, {
      body: { status: 'succeeded', result: 1 },
    });

    expect(answer.status).toBe(409);
    expect(answer.json.message).toContain('current status is pending');
  });

  it('answers 404 for a transition of an unknown job', async () => {
    const answer = await patchJob('00000000-0000-4000-8000-000000000000', { status: 'running' });

    expect(answer.status).toBe(404);
  });

  it('keeps one valid state and a consistent history under 100 concurrent PATCHes', async () => {
    const job = await createJob();
    const targets = Array.from({ length: 100 }, (_, i) => ['running', 'succeeded', 'failed'][i % 3]);

    const answers = await Promise.all(
      targets.map((status) => call<Job & { message: string }>('PATCH', `/jobs/${job.id}`, { body: { status } })),
    );

    const ok = answers.filter((a) => a.status === 200);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(ok.length + conflicts.length).toBe(100);
    const final = (await call<Job>('GET', `/jobs/${job.id}`)).json;
    const path = final.history.map((h) => h.status);
    expect(isValidPath(path)).toBe(true);
    expect(final.status).toBe(path.at(-1));
    // every accepted PATCH is exactly one step of the history, none lost, none doubled
    expect(ok.length).toBe(path.length - 1);
    expect(ok.map((a) => a.json.status).sort()).toEqual(path.slice(1).sort());
    for (const a of ok) expect(path.slice(0, a.json.history.length)).toEqual(a.json.history.map((h) => h.status));
    for (const a of conflicts) expect(a.json.message).toMatch(/current status is (pending|running|succeeded|failed)/);
    // the indexes agree with the hash: the job is in its final status' set only
    const member = await memberOf(job.id);
    const expected = ['index', `index:${final.status}`, ...(final.status === 'running' ? [] : ['expiry'])];
    expect((await indexesHolding(member)).sort()).toEqual(expected.sort());
  });

  it('creates 100 jobs concurrently with distinct ids, all listed', async () => {
    await inDb((r) => r.flushdb());

    const created = await Promise.all(
      Array.from({ length: 100 }, (_, i) => createJob({ type: 'burst', payload: { i } })),
    );

    expect(new Set(created.map((j) => j.id)).size).toBe(100);
    const listed = await listAll();
    expect(listed.map((j) => j.id).sort()).toEqual(created.map((j) => j.id).sort());
  });
});

/**
 * The same app, built in this process by createApp() and driven with
 * Fastify's inject(): fast for the many small input and query cases, and it
 * lets coverage see the jobs code. Same Redis, same DB and prefix.
 */
describe('in process (createApp + inject)', () => {
  let inProcess: NestFastifyApplication;

  beforeAll(async () => {
    Object.assign(process.env, { ...env, LOG_LEVEL: 'silent' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createApp } = require('../src/app.factory') as typeof import('../src/app.factory');
    ({ app: inProcess } = await createApp());
    await inProcess.init();
    await inProcess.getHttpAdapter().getInstance().ready();
    transport = inject(inProcess);
  });

  afterAll(async () => {
    transport = overHttp;
    await inProcess?.close();
  });

  describe('list and pagination', () => {
    let created: Job[];

    beforeAll(async () => {
      await inDb((r) => r.flushdb());
      created = [];
      // one after the other: creation order is the expected (reversed) list order
      for (let i = 0; i < 25; i++) created.push(await createJob({ type: 'page', payload: { i } }));
      for (const i of [3, 10, 20]) await patchJob(created[i].id, { status: 'running' });
    });

    it('pages through every job newest first with an opaque cursor', async () => {
      const pages: JobPage[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page: Answer<JobPage> = await call<JobPage>('GET', `/jobs?limit=10${query}`);
        expect(page.status).toBe(200);
        pages.push(page.json);
        cursor = page.json.next_cursor;
      } while (cursor);

      expect(pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
      expect(pages.flatMap((p) => p.items.map((j) => j.id))).toEqual([...created].reverse().map((j) => j.id));
      expect(pages[0].next_cursor).not.toContain(created[15].id);
    });

    it('defaults to 20 items and accepts up to 100', async () => {
      const first = await call<JobPage>('GET', '/jobs');
      const all = await call<JobPage>('GET', '/jobs?limit=100');

      expect(first.json.items).toHaveLength(20);
      expect(first.json.next_cursor).toEqual(expect.any(String));
      expect(all.json.items).toHaveLength(25);
      expect(all.json.next_cursor).toBeNull();
    });

    it('filters by status, newest first', async () => {
      const running = await call<JobPage>('GET', '/jobs?status=running');
      const pending = await listAll('status=pending');

      expect(running.json.items.map((j) => j.id)).toEqual([20, 10, 3].map((i) => created[i].id));
      expect(running.json.items.every((j) => j.status === 'running')).toBe(true);
      expect(pending).toHaveLength(22);
    });

    it('keeps a cursor stable while newer jobs are created', async () => {
      const first = await call<JobPage>('GET', '/jobs?limit=5');
      await createJob({ type: 'page', payload: { late: true } });

      const second = await call<JobPage>('GET', `/jobs?limit=5&cursor=${first.json.next_cursor}`);

      expect(second.json.items.map((j) => j.id)).toEqual([19, 18, 17, 16, 15].map((i) => created[i].id));
    });
  });

  describe('expiry', () => {
    it('sets the retention TTL on finished jobs only, at the same instant as the expiry index', async () => {
      const job = await createJob();
      await patchJob(job.id, { status: 'running' });
      expect(await inDb((r) => r.pttl(jobKey(job.id)))).toBe(-1);

      const done = (await patchJob(job.id, { status: 'succeeded' })).json;

      const pttl = await inDb((r) => r.pttl(jobKey(job.id)));
      expect(pttl).toBeGreaterThan((RETENTION_SECONDS - 5) * 1000);
      expect(pttl).toBeLessThanOrEqual(RETENTION_SECONDS * 1000);
      const expiresAt = await inDb((r) => r.pexpiretime(jobKey(job.id)));
      const score = await inDb(async (r) =>
        r.zscore(`${PREFIX}expiry`, (await r.hget(jobKey(job.id), 'member')) ?? ''),
      );
      expect(Number(score)).toBe(expiresAt);
      expect(Date.parse(done.expires_at ?? '')).toBe(expiresAt);
    });

    it('never lists an expired job, and the list drops its index entries', async () => {
      const keep = await createJob({ type: 'keep', payload: {} });
      const gone = await createJob({ type: 'gone', payload: {} });
      await patchJob(gone.id, { status: 'failed', error: 'boom' });
      const member = await memberOf(gone.id);
      expect((await indexesHolding(member)).sort()).toEqual(['expiry', 'index', 'index:failed']);

      await inDb((r) => r.pexpire(jobKey(gone.id), 1));
      await waitFor(async () => (await inDb((r) => r.exists(jobKey(gone.id)))) === 0, {
        timeoutMs: 2000,
        description: 'the job key to expire',
      });

      expect((await call('GET', `/jobs/${gone.id}`)).status).toBe(404);
      const listed = await listAll();
      expect(listed.map((j) => j.id)).toContain(keep.id);
      expect(listed.map((j) => j.id)).not.toContain(gone.id);
      expect(await indexesHolding(member)).toEqual([]);
    });

    it('sweeps index entries whose retention has passed on any write, without a list', async () => {
      const job = await createJob();
      await patchJob(job.id, { status: 'running' });
      await patchJob(job.id, { status: 'succeeded', result: 'ok' });
      const member = await memberOf(job.id);
      // retention passed: the key is gone and its expiry score lies in the past
      await inDb(async (r) => {
        await r.pexpire(jobKey(job.id), 1);
        await r.zadd(`${PREFIX}expiry`, 'XX', Date.now() - 1000, member);
      });

      await createJob();

      expect(await indexesHolding(member)).toEqual([]);
    });
  });

  describe('bad requests', () => {
    const ID = '3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c';
    const junkCursor = Buffer.from('not an index member').toString('base64url');
    type Case = [
      name: string,
      method: string,
      path: string,
      status: number,
      message: string,
      request: { raw?: string; body?: unknown; headers?: Record<string, string> },
    ];
    const cases: Case[] = [
      ['malformed JSON', 'POST', '/jobs', 400, 'not valid JSON', { raw: '{"type": "a", payload' }],
      [
        'empty JSON body',
        'POST',
        '/jobs',
        400,
        'Body cannot be empty',
        { raw: '', headers: { 'content-type': 'application/json' } },
      ],
      ['body is an array', 'POST', '/jobs', 400, 'body must be a JSON object', { body: [{ type: 'a', payload: {} }] }],
      ['body is a string', 'POST', '/jobs', 400, 'body must be a JSON object', { body: 'job' }],
      [
        'body is text/plain',
        'POST',
        '/jobs',
        400,
        'body must be a JSON object',
        { raw: 'type=a', headers: { 'content-type': 'text/plain' } },
      ],
      ['empty object', 'POST', '/jobs', 400, 'type is required', { body: {} }],
      ['missing type', 'POST', '/jobs', 400, 'type is required', { body: { payload: {} } }],
      ['missing payload', 'POST', '/jobs', 400, 'payload is required', { body: { type: 'a' } }],
      ['numeric type', 'POST', '/jobs', 400, 'type must be a string', { body: { type: 5, payload: {} } }],
      ['blank type', 'POST', '/jobs', 400, 'type must not be blank', { body: { type: '   ', payload: {} } }],
      [
        'overlong type',
        'POST',
        '/jobs',
        400,
        'type must be at most 128 characters',
        { body: { type: 'x'.repeat(129), payload: {} } },
      ],
      [
        'array payload',
        'POST',
        '/jobs',
        400,
        'payload must be a JSON object',
        { body: { type: 'a', payload: [1, 2] } },
      ],
      ['string payload', 'POST', '/jobs', 400, 'payload must be a JSON object', { body: { type: 'a', payload: 'x' } }],
      ['null payload', 'POST', '/jobs', 400, 'payload is required', { body: { type: 'a', payload: null } }],
      [
        'unknown field',
        'POST',
        '/jobs',
        400,
        'property status should not exist',
        { body: { type: 'a', payload: {}, status: 'running' } },
      ],
      [
        'prototype pollution',
        'POST',
        '/jobs',
        400,
        'JSON',
        { raw: '{"type":"a","payload":{"__proto__":{"admin":true}}}' },
      ],
      [
        'oversize body',
        'POST',
        '/jobs',
        413,
        'too large',
        { body: { type: 'a', payload: { blob: 'x'.repeat(1100 * 1024) } } },
      ],
      [
        'payload nested 100,000 objects deep',
        'POST',
        '/jobs',
        400,
        'body is nested too deeply (at most 32 levels of objects and arrays)',
        { raw: `{"type":"a","payload":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}` },
      ],
      [
        'result nested 100,000 arrays deep',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'body is nested too deeply (at most 32 levels of objects and arrays)',
        { raw: `{"status":"succeeded","result":${'['.repeat(100_000)}${']'.repeat(100_000)}}` },
      ],
      [
        'error object nested to level 33 of the body',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'body is nested too deeply (at most 32 levels of objects and arrays)',
        { raw: `{"status":"failed","error":${'{"a":'.repeat(31)}{}${'}'.repeat(31)}}` },
      ],
      [
        'payload with 50,000 keys',
        'POST',
        '/jobs',
        400,
        'body has too many keys (at most 10000 object keys, nested ones included)',
        { body: { type: 'a', payload: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) } },
      ],
      [
        'one key over the limit',
        'POST',
        '/jobs',
        400,
        'body has too many keys',
        { body: { type: 'a', payload: Object.fromEntries(Array.from({ length: 9_999 }, (_, i) => [`k${i}`, i])) } },
      ],
      [
        '30 unknown fields',
        'POST',
        '/jobs',
        400,
        'property k0 should not exist; property k1 should not exist; property k2 should not exist; property k3 should not exist; property k4 should not exist; and 25 more unknown properties',
        { body: { type: 'a', payload: {}, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])) } },
      ],
      ['invalid id on GET', 'GET', '/jobs/not-a-uuid', 400, 'id must be a UUID v4', {}],
      ['UUID v1 id on GET', 'GET', '/jobs/3f1c2a9e-8b7d-11ee-9a5b-0d1e2f3a4b5c', 400, 'id must be a UUID v4', {}],
      ['invalid id on PATCH', 'PATCH', '/jobs/123', 400, 'id must be a UUID v4', { body: { status: 'running' } }],
      ['missing status', 'PATCH', `/jobs/${ID}`, 400, 'status is required', { body: {} }],
      [
        'unknown status',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'status must be one of: running, succeeded, failed',
        { body: { status: 'done' } },
      ],
      ['status back to pending', 'PATCH', `/jobs/${ID}`, 400, 'status must be one of', { body: { status: 'pending' } }],
      ['numeric status', 'PATCH', `/jobs/${ID}`, 400, 'status must be one of', { body: { status: 1 } }],
      [
        'result while running',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'result is only allowed when status is succeeded',
        { body: { status: 'running', result: 1 } },
      ],
      [
        'error with succeeded',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'error is only allowed when status is failed',
        { body: { status: 'succeeded', error: 'x' } },
      ],
      [
        'numeric error',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'error must be a string or a JSON object',
        { body: { status: 'failed', error: 42 } },
      ],
      [
        'unknown PATCH field',
        'PATCH',
        `/jobs/${ID}`,
        400,
        'property type should not exist',
        { body: { status: 'running', type: 'b' } },
      ],
      ['limit 0', 'GET', '/jobs?limit=0', 400, 'limit must be an integer from 1 to 100', {}],
      ['limit 101', 'GET', '/jobs?limit=101', 400, 'limit must be an integer from 1 to 100', {}],
      ['limit not a number', 'GET', '/jobs?limit=ten', 400, 'limit must be an integer', {}],
      ['limit fractional', 'GET', '/jobs?limit=2.5', 400, 'limit must be an integer', {}],
      ['limit repeated', 'GET', '/jobs?limit=1&limit=2', 400, 'limit must be an integer', {}],
      [
        'unknown status filter',
        'GET',
        '/jobs?status=done',
        400,
        'status must be one of: pending, running, succeeded, failed',
        {},
      ],
      ['garbage cursor', 'GET', '/jobs?cursor=%24%24%24', 400, 'cursor is invalid', {}],
      ['well-formed but foreign cursor', 'GET', `/jobs?cursor=${junkCursor}`, 400, 'cursor is invalid', {}],
      ['unknown query parameter', 'GET', '/jobs?sort=asc', 400, 'property sort should not exist', {}],
    ];

    it.each(cases)('%s: %s %s → %i %s', async (_name, method, path, status, message, request) => {
      const answer = await call<{ statusCode: number; message: string }>(method, path, request);

      expect(answer.status).toBe(status);
      expect(answer.json).toMatchObject({ statusCode: status });
      expect(answer.json.message).toContain(message);
      expect(answer.text).not.toMatch(/"stack"|\bat .+:\d+:\d+/);
    });

    it('has a table of at least 20 cases', () => {
      expect(cases.length).toBeGreaterThanOrEqual(20);
    });
  });
});

describe('restarts', () => {
  it('returns a job created before an app restart', async () => {
    const job = await createJob({ type: 'survivor', payload: { app: true } });
    await patchJob(job.id, { status: 'running' });
    const before = (await call<Job>('GET', `/jobs/${job.id}`)).json;

    await app.stop();
    app = await startApp(env);

    const after = await waitFor(
      async () => {
        const answer = await call<Job>('GET', `/jobs/${job.id}`);
        return answer.status === 200 ? answer.json : undefined;
      },
      { timeoutMs: 10_000, description: 'the job after the app restart' },
    );
    expect(after).toEqual(before);
  });

  it('returns a job created before a Redis restart (AOF), and accepts writes again', async () => {
    const job = await createJob({ type: 'survivor', payload: { redis: true } });
    const before = (await patchJob(job.id, { status: 'running' })).json;

    await redis.restart();

    const after = await waitFor(
      async () => {
        const answer = await call<Job>('GET', `/jobs/${job.id}`);
        return answer.status === 200 ? answer.json : undefined;
      },
      { timeoutMs: 10_000, description: 'the job after the Redis restart' },
    );
    expect(after).toEqual(before);
    // the script cache is empty after a restart: EVALSHA falls back to EVAL
    const done = await patchJob(job.id, { status: 'succeeded', result: 'after restart' });
    expect(done.status).toBe(200);
    expect(done.json.history.map((h) => h.status)).toEqual(['pending', 'running', 'succeeded']);
  });
});

describe('Redis faults', () => {
  const expectUnavailable = (answer: Answer) => {
    expect(answer.status).toBe(503);
    expect(answer.json).toEqual(UNAVAILABLE);
    expect(answer.text).not.toContain(PASSWORD);
    expect(answer.text).not.toContain('127.0.0.1');
    expect(answer.text).not.toContain(String(redis.port));
  };
  const recovered = () =>
    waitFor(async () => (await call('GET', '/jobs?limit=1')).status === 200, {
      timeoutMs: 10_000,
      description: 'the jobs API to answer 200 again',
    });

  it('answers 503 quickly while Redis is killed, logs each failure once, redacted, and recovers after start', async () => {
    const job = await createJob();
    const logged = unavailableLines();
    await redis.kill();
    try {
      const first = await call('POST', '/jobs', { body: { type: 'a', payload: {} } });
      expectUnavailable(first);
      expect(first.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
      // once the client knows the connection is gone, nothing waits: every call fails fast
      for (const answer of [
        await call('GET', `/jobs/${job.id}`),
        await call('PATCH', `/jobs/${job.id}`, { body: { status: 'running' } }),
        await call('GET', '/jobs'),
      ]) {
        expectUnavailable(answer);
        expect(answer.ms).toBeLessThan(500);
      }
      await waitFor(() => unavailableLines() === logged + 4, {
        timeoutMs: 2000,
        description: 'one log line per failed request',
      });
      expect(app.output()).not.toContain(PASSWORD);
    } finally {
      await redis.start();
    }

    await recovered();
    expect((await call<Job>('GET', `/jobs/${job.id}`)).json.id).toBe(job.id);
  });

  it('answers 503 within the command timeout while Redis is paused, and recovers after resume', async () => {
    const job = await createJob();
    await redis.pause();
    try {
      const answers = await Promise.all([
        call('POST', '/jobs', { body: { type: 'a', payload: {} } }),
        call('GET', `/jobs/${job.id}`),
        call('PATCH', `/jobs/${job.id}`, { body: { status: 'running' } }),
        call('GET', '/jobs'),
      ]);

      for (const answer of answers) {
        expectUnavailable(answer);
        expect(answer.ms).toBeLessThan(2500);
        expect(answer.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 100); // it did wait for Redis, not guess
      }
    } finally {
      await redis.resume();
    }

    await recovered();
    const after = (await call<Job>('GET', `/jobs/${job.id}`)).json;
    // the PATCH sent while paused may have been applied after resume; either way the state is valid
    expect(isValidPath(after.history.map((h) => h.status))).toBe(true);
  });
});

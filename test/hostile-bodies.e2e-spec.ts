/**
 * Hostile bodies against the built app. Bodies over BODY_LIMIT_BYTES (below,
 * "a body over the limit") are answered 413 every time, also when the client
 * writes the whole body at once and only then reads. Bodies under BODY_LIMIT_BYTES
 * (default 1 MiB) nested or wide enough to hurt are answered 400 naming the
 * limit, never 5xx, and are refused before they are parsed: what grows with
 * nesting and key count (JSON.parse, validation, serialization) never runs on
 * them, so a client sending them cannot hold the event loop long enough to get
 * a healthy pod restarted by its liveness probe. How long the bodies within the
 * limits hold the loop is a figure for the bench, not a test.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import { freePort } from './support/ports';
import { RedisFixture, startRedis } from './support/redis-server';
import { reapOnExit, unrefChild, waitFor, waitForGone } from './support/wait';

const BODY_LIMIT_BYTES = 1_048_576;
/** Fastify's answer to a body its JSON parser rejects. */
const NOT_JSON = "Body is not valid JSON but content-type is set to 'application/json'";

let redis: RedisFixture;
let app: AppProcess;

/** Status and message of the app's answer to `body`. */
async function send(method: string, path: string, body: string): Promise<{ status: number; message: string }> {
  const response = await fetch(app.url(path), {
    method,
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let message = text.slice(0, 200);
  try {
    message = String((JSON.parse(text) as { message?: unknown }).message);
  } catch {
    // not JSON: the raw text is in view
  }
  return { status: response.status, message };
}

/** `body` with its last character replaced: not JSON any more, but only from its very end. */
const brokenAtTheEnd = (body: string): string => `${body.slice(0, -1)}x`;

const deepObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const deepArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const wideObject = (keys: number, value = (i: number) => String(i)) =>
  `{${Array.from({ length: keys }, (_, i) => `"key${i}":${value(i)}`).join(',')}}`;
const ID = '3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c';

type Case = [name: string, method: string, path: string, body: string, status: number, message: string];
const TOO_DEEP = 'body is nested too deeply (at most 32 levels of objects and arrays)';
const TOO_MANY_KEYS = 'body has too many keys (at most 10000 object keys, nested ones included)';
const cases: Case[] = [
  [
    'payload nested 170,000 objects deep',
    'POST',
    '/jobs',
    `{"type":"a","payload":${deepObjects(170_000)}}`,
    400,
    TOO_DEEP,
  ],
  [
    'result nested 500,000 arrays deep',
    'PATCH',
    `/jobs/${ID}`,
    `{"status":"succeeded","result":${deepArrays(500_000)}}`,
    400,
    TOO_DEEP,
  ],
  [
    'error nested in an array 150,000 objects deep',
    'PATCH',
    `/jobs/${ID}`,
    `{"status":"failed","error":{"trace":[${deepObjects(150_000)}]}}`,
    400,
    TOO_DEEP,
  ],
  ['payload of 60,000 keys', 'POST', '/jobs', `{"type":"a","payload":${wideObject(60_000)}}`, 400, TOO_MANY_KEYS],
  [
    'result of 30,000 objects of two keys',
    'PATCH',
    `/jobs/${ID}`,
    `{"status":"succeeded","result":[${Array.from({ length: 30_000 }, (_, i) => `{"i":${i},"v":"x"}`).join(',')}]}`,
    400,
    TOO_MANY_KEYS,
  ],
  [
    '60,000 unknown fields',
    'POST',
    '/jobs',
    wideObject(60_000).replace('{', '{"type":"a","payload":{},'),
    400,
    TOO_MANY_KEYS,
  ],
  [
    '9,000 unknown fields (within the key limit)',
    'POST',
    '/jobs',
    wideObject(9_000).replace('{', '{"type":"a","payload":{},'),
    400,
    'and 8995 more unknown properties',
  ],
  [
    'payload at the key limit, padded to 1 MiB with brackets and colons in strings (accepted)',
    'POST',
    '/jobs',
    `{"type":"a","payload":${wideObject(9_998, () => `"${'{[:'.repeat(30)}"`)}}`,
    201,
    'undefined',
  ],
];

beforeAll(async () => {
  ensureBuilt();
  redis = await startRedis();
  app = await startApp({
    REDIS_URL: redis.url(0),
    // Nothing listens there: the jobs API does not need PostgreSQL.
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/app`,
    SHUTDOWN_DRAIN_MS: '0',
    LOG_LEVEL: 'warn',
  });
  await waitFor(async () => (await fetch(app.url('/jobs?limit=1'))).status === 200, {
    timeoutMs: 10_000,
    description: 'the jobs API to answer 200',
  });
});

afterAll(async () => {
  await app?.stop();
  await redis?.stop();
});

describe.each(cases)('%s', (_name, method, path, body, status, message) => {
  it(`is under the body limit and answered ${status}`, async () => {
    expect(Buffer.byteLength(body)).toBeLessThan(BODY_LIMIT_BYTES);
    expect(await send(method, path, body)).toEqual({
      status,
      message: status === 201 ? 'undefined' : expect.stringContaining(message),
    });
  });

  // The limits are decided by one pass over the text before the parser runs: a body past a
  // limit, made invalid only at its last byte, still gets the limit's answer (the parser would
  // have said "not JSON"), while a body within the limits broken the same way reaches the parser.
  const breaksALimit = message === TOO_DEEP || message === TOO_MANY_KEYS;
  const answeredBy = breaksALimit ? 'the limit: it never reaches the parser' : 'the parser';
  it(`broken at its last byte, is answered by ${answeredBy}`, async () => {
    expect(await send(method, path, brokenAtTheEnd(body))).toEqual({
      status: 400,
      message: breaksALimit ? message : NOT_JSON,
    });
  });
});

it('keeps answering liveness between hostile bodies', async () => {
  expect((await fetch(app.url('/health/live'))).status).toBe(200);
});

/**
 * What a plain client gets for a body over the limit, sent as the issue's
 * client sends it: Content-Length, `Connection: close`, headers and the whole
 * body in one write, and only then the answer is read. Before the fix the
 * app answered and destroyed the socket with most of the body unread, the
 * kernel reset the connection, and the client got ECONNRESET/EPIPE instead
 * of the 413 (16 of 20 tries on a loaded machine for 2 MiB, 3 of 10 on a
 * quiet one for 16 MiB).
 *
 * HOSTILE_BODIES_BUSY_CORES=2 runs two busy loops beside the app while these
 * cases run (killed by PID in afterAll), as CI on a shared 2-core machine;
 * it is off by default so that it does not slow the suites running beside.
 */
describe('a body over the limit', () => {
  const MiB = 1_048_576;
  /** Bound of one try, so that a failure ends the test instead of hanging it. */
  const TRY_TIMEOUT_MS = 15_000;
  const busyLoops: number[] = [];

  beforeAll(() => {
    const count = Number(process.env.HOSTILE_BODIES_BUSY_CORES ?? 0);
    for (let i = 0; i < count; i++) {
      const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
      child.on('error', () => undefined);
      if (child.pid === undefined) continue;
      unrefChild(child);
      reapOnExit(child.pid);
      busyLoops.push(child.pid);
    }
  });

  afterAll(async () => {
    try {
      for (const pid of busyLoops) process.kill(pid, 'SIGKILL');
    } finally {
      await waitForGone(busyLoops);
    }
  });

  interface Answer {
    status: number | null;
    connection: string | undefined;
    body: string;
    /** The socket error the client saw, if any (EPIPE, ECONNRESET). */
    error: string | undefined;
    /** Whether the connection ended with the server's FIN rather than a reset or the client giving up. */
    cleanClose: boolean;
  }

  /**
   * Writes `method path` with a `size`-byte body in one write and reads the
   * answer. `untilClose`: wait for the connection to end (to see how it
   * ended); otherwise stop once the answer is complete, as a client that has
   * its answer does (the app then stops reading past twice the limit and
   * closes after its linger time, which need not be waited for).
   */
  function sendOversized(method: string, path: string, size: number, untilClose: boolean): Promise<Answer> {
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${size}\r\nConnection: close\r\n\r\n`;
    const body = Buffer.alloc(size, 0x20);
    body[0] = 0x7b; // '{': it would be JSON if it were read
    let socket: Socket | undefined;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<Answer>((resolve) => {
      const received: Buffer[] = [];
      let error: string | undefined;
      const answer = (cleanClose: boolean): Answer => {
        const text = Buffer.concat(received).toString('utf8');
        const [headers = '', ...rest] = text.split('\r\n\r\n');
        return {
          status: headers.startsWith('HTTP/1.1 ') ? Number(headers.slice(9, 12)) : null,
          connection: /^connection: *(.*)$/im.exec(headers)?.[1]?.trim(),
          body: rest.join('\r\n\r\n'),
          error,
          cleanClose,
        };
      };
      const complete = (): boolean => {
        const text = Buffer.concat(received).toString('utf8');
        const end = text.indexOf('\r\n\r\n');
        const length = /^content-length: *(\d+)/im.exec(text.slice(0, end))?.[1];
        return end >= 0 && length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length);
      };
      socket = connect({ host: '127.0.0.1', port: app.port });
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        if (!untilClose && complete()) resolve(answer(false));
      });
      socket.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
      });
      socket.on('close', (hadError) => resolve(answer(!hadError && error === undefined)));
      timer = global.setTimeout(() => {
        error ??= `no close within ${TRY_TIMEOUT_MS} ms`;
        resolve(answer(false));
      }, TRY_TIMEOUT_MS);
      socket.write(Buffer.concat([Buffer.from(head), body]));
    }).finally(() => {
      clearTimeout(timer);
      socket?.destroy();
    });
  }

  const PATCH_PATH = `/jobs/${ID}`;
  const oversized: [name: string, method: string, path: string, size: number, tries: number, untilClose: boolean][] = [
    ['POST /jobs, 2 MiB', 'POST', '/jobs', 2 * MiB, 20, true],
    ['PATCH /jobs/:id, 2 MiB', 'PATCH', PATCH_PATH, 2 * MiB, 20, true],
    ['POST /jobs, 16 MiB', 'POST', '/jobs', 16 * MiB, 10, false],
    ['PATCH /jobs/:id, 16 MiB', 'PATCH', PATCH_PATH, 16 * MiB, 10, false],
  ];

  it.each(oversized)(
    '%s: every try gets the 413 with its JSON body and Connection: close',
    async (name, method, path, size, tries, untilClose) => {
      const answers: Answer[] = [];
      for (let i = 0; i < tries; i++) answers.push(await sendOversized(method, path, size, untilClose));
      const tally: Record<string, number> = {};
      for (const a of answers) {
        const key = `${a.status ?? 'no answer'}${a.error ? ` ${a.error}` : ''}`;
        tally[key] = (tally[key] ?? 0) + 1;
      }
      if (process.env.DEBUG_STALLS) process.stdout.write(`${name}: ${JSON.stringify(tally)}\n`);
      for (const a of answers) {
        expect({
          tally,
          status: a.status,
          connection: a.connection,
          body: a.body ? JSON.parse(a.body) : a.body,
        }).toEqual({
          tally,
          status: 413,
          connection: 'close',
          body: { statusCode: 413, message: 'Request body is too large' },
        });
      }
      // Twice the limit is read and discarded after the answer: a 2 MiB body is read to its end,
      // so the connection ends with FIN on both sides, never a reset.
      if (untilClose)
        for (const a of answers) expect({ tally, cleanClose: a.cleanClose }).toEqual({ tally, cleanClose: true });
    },
  );

  it('leaves liveness answering', async () => {
    expect((await fetch(app.url('/health/live'), { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
  });
});

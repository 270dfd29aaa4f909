/**
 * Logging with a bound, against the built app: with stdout a pipe nobody
 * reads, at most LOG_BUFFER_MAX_BYTES (16 MiB) of log lines is held; past it
 * lines are dropped and counted in log_lines_dropped_total, probes keep
 * answering, and once the pipe is read again the backlog is written followed
 * by one warning line with the count.
 *
 * Access lines are made about 8.5 kB long (an 8 kB header, which the access
 * line logs) so that 4,000 of them (about 34 MB) overflow the bound. Without
 * the bound they all stayed in memory and RSS grew with every request
 * (measured: +45 MiB per 4,000 such requests, without end).
 */
import { readFileSync } from 'node:fs';
import { LOG_BUFFER_MAX_BYTES, LOG_DROPPED_MESSAGE } from '../src/logging/log-sink';
import { AppProcess, ensureBuilt, startApp } from './support/app-process';
import { freePort } from './support/ports';
import { waitFor, waitForGone } from './support/wait';

const REQUESTS = 4_000;
const WARM_UP_REQUESTS = 4_000;
const CONCURRENCY = 8;
const PAD = 'p'.repeat(8_000);
/** The probes' timeoutSeconds in deploy/k8s/deployment.yaml. */
const PROBE_BUDGET_MS = 2_000;
/**
 * What may sit between the app's buffer and this test besides the bound:
 * the socket pair's kernel buffers and the reading stream's own buffer.
 */
const PIPE_SLACK_BYTES = 2 * 1_048_576;
/**
 * Allowed RSS growth over the stalled requests: the bound, plus the heap
 * that serving 4,000 requests with 8 kB headers takes even when stdout is
 * read (measured: 30-50 MiB after a warm-up of as many), with room for a
 * loaded machine. This only catches gross growth: over 4,000 requests the
 * heap's own growth is as large as the unbounded buffer was (34 MB), which
 * shows only over longer runs (measured: +45 MiB per further 4,000 without
 * the bound, flat with it). The bound itself is checked exactly below, by
 * the size of the backlog written once stdout is read again.
 */
const RSS_GROWTH_LIMIT_MIB = 16 + 64;

let app: AppProcess;

function rssMiB(): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${app.pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${app.pid}`);
  return Number(kib) / 1024;
}

/** Sends `count` logged requests (404s, access-logged at warn), `CONCURRENCY` at a time. */
async function sendLogged(count: number, tag: 'warm' | 'stalled'): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const response = await fetch(app.url(`/no-such-route?${tag}=${next}`), {
          headers: { 'x-pad': PAD },
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
      }
    }),
  );
}

async function droppedCounter(): Promise<number> {
  const text = await (await fetch(app.url('/metrics'), { signal: AbortSignal.timeout(5_000) })).text();
  const value = /^log_lines_dropped_total (\S+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error('log_lines_dropped_total missing from /metrics');
  return Number(value);
}

/** Status and time of a probe, which must answer within its budget. */
async function probe(path: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const response = await fetch(app.url(path), { signal: AbortSignal.timeout(PROBE_BUDGET_MS) });
  await response.arrayBuffer();
  return { status: response.status, ms: Math.round(performance.now() - start) };
}

const accessLines = (lines: string[], tag: string): number => lines.filter((l) => l.includes(`${tag}=`)).length;
const warnings = (lines: string[]): { dropped: number }[] =>
  lines.filter((l) => l.includes(LOG_DROPPED_MESSAGE)).map((l) => JSON.parse(l) as { dropped: number });

beforeAll(async () => {
  ensureBuilt();
  // Nothing listens on either port: no request here needs Redis or PostgreSQL.
  app = await startApp({
    REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/app`,
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_MS: '0',
  });
});

afterAll(async () => {
  await app?.stop(); // resumes stdout first
});

it('holds at most the bound while stdout is stalled, counts what it drops, and says so once it can write again', async () => {
  // Warm-up with stdout read, so that the RSS below compares like with like.
  await sendLogged(WARM_UP_REQUESTS, 'warm');
  const rssBefore = rssMiB();
  const linesBefore = app.lines().length;

  app.pauseStdout();
  const probes: { status: number; ms: number }[] = [];
  const stalled = sendLogged(REQUESTS, 'stalled');
  // Probes while the requests are being logged into a full pipe.
  for (let i = 0; i < 10; i++) probes.push(await probe('/health/live'), await probe('/health/ready'));
  await stalled;
  probes.push(await probe('/health/live'), await probe('/health/ready'));
  const rssAfter = rssMiB();
  const dropped = await droppedCounter();
  const figures = {
    rssBeforeMiB: Math.round(rssBefore),
    rssAfterMiB: Math.round(rssAfter),
    dropped,
    slowestProbeMs: Math.max(...probes.map((p) => p.ms)),
  };
  if (process.env.DEBUG_LOG_BOUND) process.stdout.write(`stalled: ${JSON.stringify(figures)}\n`);

  expect({ figures, live: probes.filter((_, i) => i % 2 === 0).every((p) => p.status === 200) }).toEqual({
    figures,
    live: true,
  });
  // Readiness answers (503: its dependencies are down on purpose) within budget like liveness.
  expect({ figures, ready: probes.filter((_, i) => i % 2 === 1).every((p) => p.status === 503) }).toEqual({
    figures,
    ready: true,
  });
  expect({ figures, dropped: dropped > 0 }).toEqual({ figures, dropped: true });
  expect({ figures, bounded: rssAfter - rssBefore < RSS_GROWTH_LIMIT_MIB }).toEqual({ figures, bounded: true });

  // Reading again: the backlog arrives, then the warning; what was buffered fits the bound.
  app.resumeStdout();
  await app.waitForLine(new RegExp(LOG_DROPPED_MESSAGE), 30_000);
  // Every dropped line is reported by a warning (one per stall; the warm-up may have had its own).
  await waitFor(async () => warnings(app.lines()).reduce((sum, w) => sum + w.dropped, 0) === (await droppedCounter()), {
    timeoutMs: 10_000,
    description: 'the warnings to report every dropped line',
  });
  const after = app.lines().slice(linesBefore);
  const firstWarning = after.findIndex((l) => l.includes(LOG_DROPPED_MESSAGE));
  const backlogBytes = after.slice(0, firstWarning).reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
  expect(backlogBytes).toBeLessThanOrEqual(LOG_BUFFER_MAX_BYTES + PIPE_SLACK_BYTES);

  // Accounting: every access line was either written or counted as dropped; a few other lines
  // (connection warnings) may have been dropped as well.
  const droppedAccessLines =
    WARM_UP_REQUESTS - accessLines(app.lines(), 'warm') + REQUESTS - accessLines(app.lines(), 'stalled');
  const droppedNow = await droppedCounter();
  expect(droppedNow).toBeGreaterThanOrEqual(droppedAccessLines);
  expect(droppedNow).toBeLessThanOrEqual(droppedAccessLines + 20);
  const warning = warnings(after)[0];
  expect(warning).toMatchObject({ level: 40, context: 'Logging' });
});

it('exits promptly on SIGTERM while stdout is stalled, instead of waiting on the log flush', async () => {
  app.pauseStdout();
  // Enough to fill the buffer again (about 2,000 lines fit).
  await sendLogged(3_000, 'stalled');
  expect(await droppedCounter()).toBeGreaterThan(0);
  const start = performance.now();
  app.signal('SIGTERM');
  // Before the exit flush was bounded, pino retried the write every 100 ms for ever and the
  // process only ended at SIGKILL. Now: the shutdown sequence, plus at most 1 s of flushing.
  // Gone from the process table, not 'close' (which also waits for the paused pipe).
  await waitForGone([app.pid], 15_000);
  const ms = Math.round(performance.now() - start);
  if (process.env.DEBUG_LOG_BOUND) process.stdout.write(`exit after SIGTERM with stdout stalled: ${ms} ms\n`);
  app.resumeStdout();
  expect(await app.exited).toEqual({ code: 0, signal: null });
});

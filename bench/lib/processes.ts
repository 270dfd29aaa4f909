/**
 * The processes of a bench run: the app under test (from a private copy of
 * dist/), the reference servers, tools whose last output line is JSON, the
 * test harness's throwaway redis-server and PostgreSQL, and cleanup of every
 * process the bench started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports';
import { startPostgres, type PostgresFixture } from '../../test/support/postgres-server';
import { startRedis, type RedisFixture } from '../../test/support/redis-server';
import { descendantPids, signalQuietly } from '../../test/support/wait';
import { RESULTS_DIR, ROOT, SCRIPTS_DIR } from './paths';
import { now } from './system';

/** Every child this bench spawned itself (apps, reference servers, load generators). */
const children = new Set<ChildProcess>();

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

function pidOf(child: ChildProcess, what: string): number {
  if (child.pid === undefined) throw new Error(`could not spawn ${what}`);
  return child.pid;
}

let exitHookInstalled = false;
/**
 * On any exit (normal, error, Ctrl-C): SIGKILL what is still running among
 * the children this bench spawned and, as a last sweep, every process that
 * descends from this one (autocannon, the apps of the jobs and observability
 * scenarios). Install it after the harness fixtures started, so their own
 * exit hooks (which also remove temp dirs and shared memory) run first.
 */
export function installExitCleanup(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of children) if (isRunning(child)) signalQuietly(child.pid, 'SIGKILL');
    for (const pid of descendantPids(process.pid)) {
      signalQuietly(pid, 'SIGCONT');
      signalQuietly(pid, 'SIGKILL');
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      process.exit(130);
    });
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!child || !isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalQuietly(child.pid, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    signalQuietly(child.pid, 'SIGTERM');
  });
}

/** Spawns `command args`, collects stdout, and parses its last line as JSON (of the shape `T` the tool prints). */
export function runForJson<T>(command: string, args: string[], what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`${what} exited ${code} without JSON: ${stderr || stdout.slice(-4000)}`));
      }
    });
  });
}

// ------------------------------------------------------------------ services

/** The harness's throwaway redis-server and PostgreSQL, and one stop() for both. */
export interface Services {
  redis: RedisFixture;
  postgres: PostgresFixture;
  stop(): Promise<void>;
}

/**
 * The harness's throwaway redis-server and PostgreSQL cluster (free loopback
 * ports, temp dirs, pg_stat_statements preloaded; PostgreSQL as the postgres
 * OS user via runuser when root). Never the machine's own 5432/6379.
 */
export async function startServices(): Promise<Services> {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  if (!postgres.hasPgStatStatements)
    process.stderr.write('bench: pg_stat_statements is not available; PostgreSQL call counts will be missing\n');
  return {
    redis,
    postgres,
    stop: async () => {
      await Promise.allSettled([redis.stop(), postgres.destroy()]);
    },
  };
}

// ------------------------------------------------------------------ the app

/**
 * The environment the container image sets for the app (every `ENV NAME=value`
 * of the Dockerfile's final stage: NODE_OPTIONS' heap flags, MALLOC_ARENA_MAX,
 * NODE_ENV, PORT), so the bench measures the app as it is deployed. The
 * deploy e2e test reads the same lines to run the build output as the image does.
 */
export const IMAGE_ENV: Readonly<Record<string, string>> = (() => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of finalStage.split('\n').filter((l) => /^ENV\s/.test(l))) {
    for (const m of line.matchAll(/([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|(\S+))/g)) env[m[1]] = m[2] ?? m[3];
  }
  return env;
})();

/** The app as deployed: the image's ENV, production logging, default health settings. */
export function imageAppEnv(urls: { redisUrl: string; databaseUrl: string }): Record<string, string> {
  return {
    ...IMAGE_ENV,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: urls.redisUrl,
    DATABASE_URL: urls.databaseUrl,
    // Only shortens the bench's own stops; no health setting is changed.
    SHUTDOWN_DRAIN_MS: '0',
  };
}

let buildDir: string | undefined;
/**
 * Copies dist/ (and package.json, which the app reads its version from) to
 * bench/results/.build-<pid>/ and runs the app from there: other work on
 * this checkout (a test run's `nest build`) may rebuild dist/ while the bench
 * runs, and every figure must come from the one build measured. Module
 * resolution walks up to the checkout's node_modules as before. Removed on exit.
 */
export function snapshotBuild(): string {
  if (buildDir) return buildDir;
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js not found: run `npm run build` first');
  const dir = join(RESULTS_DIR, `.build-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  buildDir = dir;
  return dir;
}

const TAIL_CHARS = 8000;

/** One app process under test. */
export interface AppHandle {
  child: ChildProcess;
  pid: number;
  port: number;
  baseUrl: string;
  /** performance.now() at spawn. */
  spawnedAt: number;
  /** Bytes the app wrote to stdout and stderr, and (for error messages) the last 8000 characters of them. */
  output: { bytes: number; tail(): string };
  /** True until the process has exited. */
  alive: () => boolean;
  stop(): Promise<void>;
}

export interface SpawnAppOptions {
  /** The app's environment (PATH, HOST=127.0.0.1 and a free PORT are added). */
  env: Record<string, string>;
  /** Node flags (before the script). */
  nodeArgs?: string[];
  /** Another file in dist/ than main.js. */
  entry?: string;
}

/**
 * Spawns `node [nodeArgs] dist/main.js` from the snapshot (see snapshotBuild).
 * Its output goes to a pipe that is drained (as under a container runtime)
 * and counted, the tail kept for errors. Does not wait for anything.
 */
export async function spawnApp({ env, nodeArgs = [], entry = 'main.js' }: SpawnAppOptions): Promise<AppHandle> {
  const main = join(snapshotBuild(), 'dist', entry);
  const port = await freePort();
  const spawnedAt = now();
  const child = track(
    spawn(process.execPath, [...nodeArgs, main], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  // The last chunks are kept as they came and decoded only when asked for: draining the app's
  // log stays as cheap as counting it (this process also runs in-process load generators).
  const recent: Buffer[] = [];
  let recentBytes = 0;
  const output = {
    bytes: 0,
    tail: () => Buffer.concat(recent).toString().slice(-TAIL_CHARS),
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output.bytes += chunk.length;
      recent.push(chunk);
      recentBytes += chunk.length;
      while (recentBytes - recent[0].length >= TAIL_CHARS) recentBytes -= recent.shift()?.length ?? 0;
    });
  }
  return {
    child,
    pid: pidOf(child, 'the app'),
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    spawnedAt,
    output,
    alive: () => isRunning(child),
    stop: () => stopChild(child),
  };
}

// ------------------------------------------------------------------ reference servers

/** A reference server process and the URL it answers on. */
export interface ReferenceServer {
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

export interface ReferenceServerOptions {
  /** The compiled script beside this bench (default the bare node:http ceiling). */
  script?: 'ceiling-server.js' | 'nest-reference-server.js' | 'terminus-reference-app.js';
  /** The URL path it answers on. */
  path?: string;
  /** Its whole environment (PATH is added); default this process's. */
  env?: Record<string, string>;
}

/**
 * A reference server as its own process, `node [nodeArgs] SCRIPT PORT`: by
 * default the bare node:http ceiling (bench/ceiling-server.ts). Resolves once
 * it printed its first line (`listening PORT`).
 */
export async function startReferenceServer(
  nodeArgs: string[] = [],
  { script = 'ceiling-server.js', path = '/', env }: ReferenceServerOptions = {},
): Promise<ReferenceServer> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [...nodeArgs, join(SCRIPTS_DIR, script), String(port)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(env ? { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } } : {}),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 10_000);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  child.stdout.resume();
  return {
    child,
    pid: pidOf(child, script),
    url: `http://127.0.0.1:${port}${path}`,
    stop: () => stopChild(child, 5_000),
  };
}

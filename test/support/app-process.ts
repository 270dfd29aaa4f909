import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './ports';
import { reapOnExit, testSignal, unrefChild, waitFor, waitForExit } from './wait';

/** Repository root (this file lives in test/support/). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** How the app process ended. */
export interface AppExit {
  code: number | null;
  signal: string | null;
}

/** Options for {@link startApp}. */
export interface StartAppOptions {
  /** 'listening' (default): resolve once GET /health/live answers 200. 'none': resolve right after spawn. */
  waitFor?: 'listening' | 'none';
  /** Script to run with node, relative to the repo root (default dist/main.js). */
  entry?: string;
}

/** A `node dist/main.js` child process with its captured output. */
export interface AppProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:PORT/path`. */
  url(path?: string): string;
  /** Captured stdout and stderr, joined with newlines. */
  output(): string;
  /** Captured stdout and stderr lines, in arrival order. */
  lines(): string[];
  /** Resolves with the first (past or future) line matching `pattern`; rejects on timeout, exit or the end of the test. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The exit code once exited; null while running (or after death by a signal). */
  exitCode(): number | null;
  /** Same as exitCode() (kept for specs that spell it this way). */
  exitCodeSync(): number | null;
  /** Settles when the process has exited and its output is fully captured. */
  readonly exited: Promise<AppExit>;
  /** Sends a signal (no-op once exited). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after 15 s; resolves with the exit. */
  stop(): Promise<AppExit>;
  /**
   * Stops reading the app's stdout: once the pipe is full, the app's writes
   * to it stall, as with a log collector that stopped reading.
   */
  pauseStdout(): void;
  /** Reads stdout again after pauseStdout(). */
  resumeStdout(): void;
}

const HEALTH_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 15_000;

/** Every app started in this jest worker and not yet exited (see stopAllApps). */
const running = new Set<AppProcess>();

/**
 * Stops every app this worker started that is still running: the e2e setup
 * calls it after each file, and specs whose apps live for one test call it
 * after each test, so a failed or timed-out test cannot leave an app (or a
 * loop waiting on one) behind.
 */
export async function stopAllApps(): Promise<void> {
  await Promise.all([...running].map((app) => app.stop()));
}

/**
 * Spawns `node <entry>` from the repo root with only PATH and HOME of the
 * test's environment plus `env` (PORT defaults to a free port, NODE_ENV to
 * 'test'). With waitFor 'listening' it resolves once GET /health/live answers
 * 200 (15 s), and fails with the captured output if the process exits first.
 */
export async function startApp(env: Record<string, string>, opts: StartAppOptions = {}): Promise<AppProcess> {
  const port = env.PORT ?? String(await freePort());
  const childEnv: Record<string, string> = { NODE_ENV: 'test' };
  for (const key of ['PATH', 'HOME']) {
    const value = process.env[key];
    if (value !== undefined) childEnv[key] = value;
  }
  Object.assign(childEnv, env, { PORT: port });

  const child = spawn(process.execPath, [opts.entry ?? join('dist', 'main.js')], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('error', () => undefined); // Reported through the missing pid / exit below.
  if (child.pid === undefined) throw new Error('startApp: could not spawn node');
  unrefChild(child);
  const pid = child.pid;
  const forget = reapOnExit(pid);

  const captured: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  const readers = [child.stdout, child.stderr].map((stream) =>
    createInterface({ input: stream }).on('line', (line) => {
      captured.push(line);
      for (const listener of lineListeners) listener(line);
    }),
  );
  let stdoutClosed = false;
  readers[0].once('close', () => (stdoutClosed = true));

  let exitInfo: AppExit | undefined;
  const exited = new Promise<AppExit>((resolveExit) => {
    // 'close' fires after exit once stdout/stderr are drained.
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(app);
      forget();
      resolveExit(exitInfo);
    });
  });

  const output = (): string => captured.join('\n');
  const signal = (sig: NodeJS.Signals): void => {
    if (exitInfo === undefined) child.kill(sig);
  };

  const app: AppProcess = {
    pid,
    port: Number(port),
    url: (path = '/') => `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
    output,
    lines: () => [...captured],
    exited,
    exitCode: () => exitInfo?.code ?? null,
    exitCodeSync: () => exitInfo?.code ?? null,
    signal,
    waitForLine(pattern, timeoutMs = 10_000) {
      const matches = (line: string): boolean => {
        pattern.lastIndex = 0;
        return pattern.test(line);
      };
      const seen = captured.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      const signal = testSignal();
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return new Promise<string>((resolveLine, reject) => {
        // Like waitFor, the wait ends with the test that started it.
        const onAbort = (): void => {
          done();
          reject(signal?.reason as Error);
        };
        const done = (): void => {
          clearTimeout(timer);
          lineListeners.delete(onLine);
          signal?.removeEventListener('abort', onAbort);
        };
        const onLine = (line: string): void => {
          if (!matches(line)) return;
          done();
          resolveLine(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`No output line matched ${pattern} within ${timeoutMs} ms\n--- app output ---\n${output()}`),
          );
        }, timeoutMs);
        lineListeners.add(onLine);
        signal?.addEventListener('abort', onAbort, { once: true });
        void exited.then((exit) => {
          if (!lineListeners.has(onLine)) return;
          done();
          reject(
            new Error(
              `App exited (${describeExit(exit)}) before a line matched ${pattern}\n--- app output ---\n${output()}`,
            ),
          );
        });
      });
    },
    pauseStdout: () => readers[0].pause(),
    // Once the app has exited its stdout reader is closed, and resume() would throw.
    resumeStdout: () => void (stdoutClosed || readers[0].resume()),
    async stop() {
      if (exitInfo !== undefined) return exitInfo;
      // A stalled stdout would hold the app's last log flush, and with it the exit.
      app.resumeStdout();
      signal('SIGTERM');
      const killTimer = setTimeout(() => signal('SIGKILL'), KILL_AFTER_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(killTimer);
      }
    },
  };

  running.add(app);
  if ((opts.waitFor ?? 'listening') === 'listening') {
    try {
      await waitFor(
        async () => {
          if (exitInfo !== undefined) throw new Error(`App exited (${describeExit(exitInfo)}) before it was listening`);
          try {
            const response = await fetch(app.url('/health/live'), { signal: AbortSignal.timeout(1_000) });
            await response.arrayBuffer();
            return response.status === 200;
          } catch {
            return false; // Not listening yet.
          }
        },
        { timeoutMs: HEALTH_TIMEOUT_MS, intervalMs: 50, description: `GET ${app.url('/health/live')} to answer 200` },
      );
    } catch (error) {
      signal('SIGKILL');
      await waitForExit(() => exitInfo !== undefined, `app ${pid}`);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}\n--- app output ---\n${output()}`, { cause: error });
    }
  }
  return app;
}

function describeExit(exit: AppExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

let buildChecked = false;
const BUILD_TIMEOUT_MS = 300_000;

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

function isBuildStale(): boolean {
  const main = join(REPO_ROOT, 'dist', 'main.js');
  const inputs = newestMtimeMs(join(REPO_ROOT, 'src'));
  return !existsSync(main) || statSync(main).mtimeMs < inputs;
}

/** Blocks the thread for `ms` (used only while another worker holds the build lock). */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `npm run build` (nest build; synchronously, at most once per jest worker) when
 * dist/main.js is missing or older than any file under src/. A lock dir in
 * the temp dir keeps parallel workers from building (and, with deleteOutDir,
 * deleting dist/) at the same time.
 */
export function ensureBuilt(): void {
  if (buildChecked) return;
  const lock = join(tmpdir(), `nest-build-${createHash('sha1').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than a build can take was left by a killed worker.
      const lockedAt = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (lockedAt !== undefined && Date.now() - lockedAt > BUILD_TIMEOUT_MS)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline)
        throw new Error(`ensureBuilt: timed out waiting for the build lock ${lock}`, { cause: error });
      blockFor(200);
    }
  }
  try {
    if (isBuildStale()) {
      execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: BUILD_TIMEOUT_MS });
    }
  } catch (error) {
    const details = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(
      `npm run build failed: ${details.message}\n${details.stdout?.toString() ?? ''}${details.stderr?.toString() ?? ''}`,
      { cause: error },
    );
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  buildChecked = true;
}

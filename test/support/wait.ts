/**
 * Waiting without fixed sleeps: `waitFor` polls a condition under a deadline.
 * Also the process helpers the fixtures share: /proc state checks for
 * SIGSTOP/SIGCONT/exit, and the reaper that kills whatever a dead test
 * process left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Total deadline for the whole wait, in milliseconds. */
  timeoutMs: number;
  /** Pause between two attempts, in milliseconds (default 50). */
  intervalMs?: number;
  /** What is being waited for; named in the timeout error. */
  description: string;
  /**
   * Ends the wait early, rejecting with the signal's reason. Defaults to
   * {@link testSignal}: a wait started by a test ends with that test. `null`
   * ties the wait to nothing (cleanup that must finish whatever happened).
   */
  signal?: AbortSignal | null;
}

/** Thrown by {@link waitFor} when the condition never became truthy in time. */
export class WaitTimeoutError extends Error {
  constructor(description: string, timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    this.name = 'WaitTimeoutError';
  }
}

/** The reason of {@link testSignal}: the test that started a wait is over. */
export class TestEndedError extends Error {
  constructor() {
    super('the test ended (it failed or timed out) before this wait did');
    this.name = 'TestEndedError';
  }
}

// Jest does not stop the body of a test that failed elsewhere or timed out: its
// waits would poll on, against servers already stopped, up to their own
// deadlines, and keep jest from exiting. The e2e setup opens a scope around
// every test (beginTest/endTest) so that whatever the test left waiting ends
// with it.
let currentTest: AbortController | undefined;

/** Aborted when the test that is running ends; undefined outside a test (hooks around all tests, bench). */
export function testSignal(): AbortSignal | undefined {
  return currentTest?.signal;
}

/** Before each test (test/support/e2e-setup.ts). */
export function beginTest(): void {
  currentTest = new AbortController();
}

/** After each test (test/support/e2e-setup.ts): every wait the test started rejects with {@link TestEndedError}. */
export function endTest(): void {
  currentTest?.abort(new TestEndedError());
  currentTest = undefined;
}

/**
 * Polls `fn` until it resolves to a truthy value and returns that value.
 * Throws {@link WaitTimeoutError} (naming `description`) once `timeoutMs` has
 * passed, also when a single call of `fn` hangs past the deadline. An error
 * thrown by `fn` ends the wait at once: catch transient errors inside `fn`.
 * So does the end of the test that started the wait (see `signal`).
 */
export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs, intervalMs = 50, description, signal = testSignal() }: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(description, timeoutMs);
    // Promise.resolve().then: a synchronous throw ends the wait like a rejection does.
    const result = await raceDeadline(Promise.resolve().then(fn), remaining, signal ?? undefined);
    if (result.timedOut) throw new WaitTimeoutError(description, timeoutMs);
    if (result.value) return result.value;
    const pause = Math.min(intervalMs, deadline - Date.now());
    if (pause > 0) await sleep(pause, signal ?? undefined);
  }
}

/** Resolves after `ms`; rejects with the signal's reason once `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type Raced<T> = { timedOut: true } | { timedOut: false; value: T };

/** `promise`'s value, or timedOut after `ms`; rejects with the reason once `signal` aborts. */
async function raceDeadline<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<Raced<T>> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), ms);
  });
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const settled = promise.then((value): Raced<T> => ({ timedOut: false, value }));
  // A call that rejects after the deadline must not become an unhandled rejection.
  settled.catch(() => undefined);
  try {
    return await Promise.race([settled, timeout, aborted]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The Linux scheduler state of `pid` from /proc/PID/stat ('R', 'S', 'T' for
 * stopped, 'Z' for zombie, ...), or undefined when there is no such process.
 */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid ...": comm may contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** True when `pid` no longer runs (absent, or a zombie waiting to be reaped). */
export function isProcessGone(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

/** Direct and indirect children of `pid`, read from /proc. */
export function descendantPids(pid: number): number[] {
  // pid 0/1 would mean "every process on the machine".
  if (!(pid > 1)) throw new Error(`descendantPids: refusing to list descendants of pid ${pid}`);
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // Exited meanwhile.
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}

/** process.kill that ignores a process already gone (and refuses pids that would signal a group). */
export function signalQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  // process.kill(0 or negative) would signal our own process group.
  if (pid === undefined || !(pid > 1)) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

// The process helpers below are bounded and part of pausing, resuming or stopping a fixture:
// the end of a test does not cut them short, so no fixture is left half-stopped.

/** Waits until every pid in `pids` is in the stopped state ('T') or gone. */
export function waitForStopped(pids: readonly number[], timeoutMs = 5_000): Promise<true> {
  return waitFor(() => pids.every((pid) => isProcessGone(pid) || processState(pid) === 'T'), {
    timeoutMs,
    intervalMs: 10,
    description: `processes ${pids.join(', ')} to be stopped (SIGSTOP)`,
    signal: null,
  });
}

/** Waits until no pid in `pids` is in the stopped state ('T') any more. */
export function waitForResumed(pids: readonly number[], timeoutMs = 5_000): Promise<true> {
  return waitFor(() => pids.every((pid) => processState(pid) !== 'T'), {
    timeoutMs,
    intervalMs: 10,
    description: `processes ${pids.join(', ')} to run again (SIGCONT)`,
    signal: null,
  });
}

/** Waits until every pid in `pids` has exited. */
export function waitForGone(pids: readonly number[], timeoutMs = 10_000): Promise<true> {
  return waitFor(() => pids.every(isProcessGone), {
    timeoutMs,
    intervalMs: 20,
    description: `processes ${pids.join(', ')} to exit`,
    signal: null,
  });
}

/**
 * Lets the test process exit while `child` still runs: unrefs the child and
 * its stdio pipes, so a fixture a test forgot to stop cannot hang jest (the
 * reaper below then SIGKILLs it).
 */
export function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

/** Waits (bounded, polling) until `isExited()` is true; `what` names the process in the error. */
export function waitForExit(isExited: () => boolean, what: string, timeoutMs = 10_000): Promise<true> {
  return waitFor(() => isExited(), { timeoutMs, intervalMs: 20, description: `${what} to exit`, signal: null });
}

// --- Reaper: nothing a test started outlives the test process ---------------
//
// process.on('exit') cannot do this under jest: every test file gets its own
// copy of `process` whose events never fire, and a worker killed by jest (or
// SIGKILL) runs no hooks at all. Instead a small detached watchdog process
// holds the read end of a pipe from us while anything is registered; when the
// test process goes away for any reason the pipe closes and the watchdog
// SIGKILLs every registered pid with all its descendants, then deletes the
// registered dirs (and shared memory segments the killed processes created). Once everything is unregistered the pipe is closed and the
// watchdog exits with nothing to do.

const WATCHDOG_SOURCE = `/* test/support/wait.ts reaper */
const fs = require('fs');
const pids = new Set();
const dirs = new Set();
let pending = '';
let reaping = false;
const stateOf = (pid) => {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
};
const withDescendants = (roots) => {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(name)) continue;
    const fields = stateOf(name);
    if (!fields) continue;
    const ppid = Number(fields[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const all = [];
  const queue = [...roots].filter((pid) => pid > 1);
  while (queue.length > 0) {
    const pid = queue.shift();
    all.push(pid);
    queue.push(...(children.get(pid) || []));
  }
  return all;
};
const reap = () => {
  if (reaping) return;
  reaping = true;
  const all = withDescendants(pids);
  for (const pid of all) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  const deadline = Date.now() + 5000;
  const finish = () => {
    const alive = all.filter((pid) => { const f = stateOf(pid); return f && f[0] !== 'Z' && f[0] !== 'X'; });
    if (alive.length > 0 && Date.now() < deadline) return setTimeout(finish, 20);
    for (const dir of dirs) { try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} }
    // SysV shared memory a killed postmaster created and nobody uses any more.
    try {
      for (const row of fs.readFileSync('/proc/sysvipc/shm', 'utf8').split('\\n').slice(1)) {
        const [, id, , , cpid, , nattch] = row.trim().split(/\\s+/);
        if (all.includes(Number(cpid)) && nattch === '0') require('child_process').spawnSync('ipcrm', ['-m', id]);
      }
    } catch {}
    process.exit(0);
  };
  finish();
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let i = pending.indexOf('\\n'); i >= 0; i = pending.indexOf('\\n')) {
    const message = JSON.parse(pending.slice(0, i));
    pending = pending.slice(i + 1);
    if (message.op === 'pid') pids.add(message.pid);
    if (message.op === 'unpid') pids.delete(message.pid);
    if (message.op === 'dir') dirs.add(message.path);
    if (message.op === 'undir') dirs.delete(message.path);
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
`;

type ReaperMessage = { op: 'pid' | 'unpid'; pid: number } | { op: 'dir' | 'undir'; path: string };

let watchdog: ChildProcess | undefined;
/** What the current watchdog would clean up; when it empties the watchdog is let go. */
const registered = new Set<string>();

function tellReaper(message: ReaperMessage): void {
  const key = 'pid' in message ? `pid:${message.pid}` : `dir:${message.path}`;
  const adding = message.op === 'pid' || message.op === 'dir';
  if (!adding && !registered.has(key)) return;
  if (!watchdog) {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.stdin?.on('error', () => undefined);
    unrefChild(watchdog);
  }
  watchdog.stdin?.write(`${JSON.stringify(message)}\n`);
  if (adding) registered.add(key);
  else registered.delete(key);
  if (registered.size === 0) {
    // Nothing left to protect: closing the pipe lets the watchdog exit.
    watchdog.stdin?.end();
    watchdog = undefined;
  }
}

/**
 * Makes sure `pid` and all its descendants are SIGKILLed if the test process
 * exits (or crashes, or is killed) before the returned function is called.
 */
export function reapOnExit(pid: number): () => void {
  if (!(pid > 1)) throw new Error(`reapOnExit: refusing pid ${pid}`);
  tellReaper({ op: 'pid', pid });
  return () => tellReaper({ op: 'unpid', pid });
}

/** Makes sure `path` is deleted (rm -rf) if the test process goes away before the returned function is called. */
export function removeOnExit(path: string): () => void {
  tellReaper({ op: 'dir', path });
  return () => tellReaper({ op: 'undir', path });
}

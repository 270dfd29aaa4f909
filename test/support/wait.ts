import { readFileSync } from 'node:fs';

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Total deadline for the whole wait, in milliseconds. */
  timeoutMs: number;
  /** Pause between two attempts, in milliseconds (default 50). */
  intervalMs?: number;
  /** What is being waited for; named in the timeout error. */
  description: string;
}

/** Thrown by {@link waitFor} when the condition never became truthy in time. */
export class WaitTimeoutError extends Error {
  constructor(description: string, timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `fn` until it resolves to a truthy value and returns that value.
 * Throws {@link WaitTimeoutError} (naming `description`) once `timeoutMs` has
 * passed, also when a single call of `fn` hangs past the deadline. An error
 * thrown by `fn` ends the wait at once: catch transient errors inside `fn`.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  { timeoutMs, intervalMs = 50, description }: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(description, timeoutMs);
    const result = await raceDeadline(fn(), remaining);
    if (result.timedOut) throw new WaitTimeoutError(description, timeoutMs);
    if (result.value) return result.value;
    const pause = Math.min(intervalMs, deadline - Date.now());
    if (pause > 0) await new Promise<void>((resolve) => setTimeout(resolve, pause));
  }
}

type Raced<T> = { timedOut: true } | { timedOut: false; value: T };

async function raceDeadline<T>(promise: Promise<T>, ms: number): Promise<Raced<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), ms);
  });
  const settled = promise.then((value): Raced<T> => ({ timedOut: false, value }));
  // A call that rejects after the deadline must not become an unhandled rejection.
  settled.catch(() => undefined);
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
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

/** Waits until every pid in `pids` is in the stopped state ('T') or gone. */
export function waitForStopped(pids: readonly number[], timeoutMs = 5_000): Promise<true> {
  return waitFor(async () => pids.every((pid) => isProcessGone(pid) || processState(pid) === 'T'), {
    timeoutMs,
    intervalMs: 10,
    description: `processes ${pids.join(', ')} to be stopped (SIGSTOP)`,
  });
}

/** Waits until no pid in `pids` is in the stopped state ('T') any more. */
export function waitForResumed(pids: readonly number[], timeoutMs = 5_000): Promise<true> {
  return waitFor(async () => pids.every((pid) => processState(pid) !== 'T'), {
    timeoutMs,
    intervalMs: 10,
    description: `processes ${pids.join(', ')} to run again (SIGCONT)`,
  });
}

/** Waits until every pid in `pids` has exited. */
export function waitForGone(pids: readonly number[], timeoutMs = 10_000): Promise<true> {
  return waitFor(async () => pids.every(isProcessGone), {
    timeoutMs,
    intervalMs: 20,
    description: `processes ${pids.join(', ')} to exit`,
  });
}

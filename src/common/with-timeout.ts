/** Rejection raised by `withTimeout`; its message is the classified reason `timeout`. */
export class TimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly ms: number,
  ) {
    super(`${operation} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles with `work`, or rejects with a TimeoutError after `ms`. The timer is
 * always cleared, so a settled race never keeps the event loop alive.
 * `work` itself is not cancelled: callers bound it with their client's own
 * timeout (ioredis commandTimeout, pg query_timeout).
 */
export function withTimeout<T>(work: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(operation, ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

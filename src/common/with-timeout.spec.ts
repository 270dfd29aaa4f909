import { classifyError } from './redact';
import { TimeoutError, withTimeout } from './with-timeout';

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('withTimeout', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('settles with the value of work that finishes before the deadline', async () => {
    const work = deferred<string>();
    const raced = withTimeout(work.promise, 1000, 'ping');

    work.resolve('PONG');

    await expect(raced).resolves.toBe('PONG');
  });

  it('passes on the rejection of work that fails before the deadline', async () => {
    const failure = new Error('connection refused');

    await expect(withTimeout(Promise.reject(failure), 1000, 'ping')).rejects.toBe(failure);
  });

  it('rejects with a TimeoutError naming the operation and the bound once the deadline passes', async () => {
    const raced = withTimeout(new Promise<never>(() => undefined), 1000, 'redis ping');
    const outcome = raced.catch((error: unknown) => error);

    await jest.advanceTimersByTimeAsync(1000);

    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', operation: 'redis ping', ms: 1000 });
    expect((error as TimeoutError).message).toBe('redis ping timed out after 1000 ms');
  });

  it('does not reject a millisecond before the deadline', async () => {
    let settled = false;
    void withTimeout(new Promise<never>(() => undefined), 1000, 'ping').catch(() => (settled = true));

    await jest.advanceTimersByTimeAsync(999);

    expect(settled).toBe(false);
  });

  it('clears its timer when the work settles first, so nothing keeps the event loop alive', async () => {
    const work = deferred<string>();
    const raced = withTimeout(work.promise, 60_000, 'ping');
    expect(jest.getTimerCount()).toBe(1);

    work.resolve('PONG');
    await raced;

    expect(jest.getTimerCount()).toBe(0);
  });

  it('clears its timer when the work fails first', async () => {
    await withTimeout(Promise.reject(new Error('reset')), 60_000, 'ping').catch(() => undefined);

    expect(jest.getTimerCount()).toBe(0);
  });

  it('raises an error that classifies as a timeout', async () => {
    const outcome = withTimeout(new Promise<never>(() => undefined), 10, 'database connect').catch(
      (error: unknown) => error,
    );
    await jest.advanceTimersByTimeAsync(10);

    expect(classifyError(await outcome)).toBe('timeout');
  });
});

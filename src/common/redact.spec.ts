import { classifyError, describeError, redact } from './redact';
import { TimeoutError, withTimeout } from './with-timeout';

describe('redact', () => {
  it('removes the password of a credentialed URL', () => {
    expect(redact('connect to redis://user:hunter2@h:6379/0 failed')).toBe(
      'connect to redis://user:***@h:6379/0 failed',
    );
    expect(redact('postgres://app:p%40ss@db/app')).not.toContain('p%40ss');
  });

  it('removes key=value secrets and AUTH arguments', () => {
    expect(redact('password=hunter2 token: abc')).toBe('password=*** token: ***');
    expect(redact('AUTH default hunter2')).toBe('AUTH ***');
  });

  it('describes non-Error values', () => {
    expect(describeError('redis://:hunter2@h')).toBe('redis://:***@h');
  });
});

describe('classifyError', () => {
  const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

  it.each([
    [new TimeoutError('x', 10), 'timeout'],
    [new Error('Command timed out'), 'timeout'],
    [withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'connection refused'],
    [withCode('ECONNRESET'), 'connection reset'],
    [withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere'), 'not resolvable'],
    [new Error('WRONGPASS invalid username-password pair'), 'authentication failed'],
    [withCode('28P01', 'password authentication failed for user "x"'), 'authentication failed'],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'not connected'],
    [new Error('something else'), 'error'],
  ])('classifies %s as %s', (error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
});

describe('withTimeout', () => {
  afterEach(() => jest.useRealTimers());

  it('resolves with the work when it is fast enough', async () => {
    await expect(withTimeout(Promise.resolve(42), 100, 'op')).resolves.toBe(42);
  });

  it('rejects with a TimeoutError naming the operation', async () => {
    jest.useFakeTimers();
    const pending = withTimeout(new Promise<never>(() => undefined), 50, 'ping');
    jest.advanceTimersByTime(50);
    await expect(pending).rejects.toThrow('ping timed out after 50 ms');
  });

  it('clears its timer once the work settles', async () => {
    jest.useFakeTimers();
    await withTimeout(Promise.resolve('ok'), 10_000, 'op');
    expect(jest.getTimerCount()).toBe(0);
  });
});

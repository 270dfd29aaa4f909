/**
 * A stand-in for `node:timers/promises` whose `setTimeout` runs on the global
 * timer functions. Jest's fake clock replaces the globals only, so code that
 * sleeps through `node:timers/promises` would wait in real time; a unit spec
 * swaps the module for this one to drive those sleeps with the fake clock:
 *
 *   jest.mock('node:timers/promises', () =>
 *     jest.requireActual<typeof import('../../test/support/fake-timers-promises')>('../../test/support/fake-timers-promises'),
 *   );
 *
 * Honours `signal` as Node does (rejects with an AbortError); `ref` has no
 * meaning on a fake clock and is ignored.
 */
export function setTimeout<T = void>(ms?: number, value?: T, options: { signal?: AbortSignal } = {}): Promise<T> {
  const { signal } = options;
  return new Promise<T>((resolve, reject) => {
    const aborted = (): void => reject(new DOMException('The operation was aborted', 'AbortError'));
    if (signal?.aborted) {
      aborted();
      return;
    }
    const timer = globalThis.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(value as T);
    }, ms);
    function onAbort(): void {
      globalThis.clearTimeout(timer);
      aborted();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

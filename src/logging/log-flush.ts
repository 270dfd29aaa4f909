import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { symbols } from 'pino';

/** How long the last lines may take to reach the log destination before the process exits anyway. */
export const LOG_FLUSH_TIMEOUT_MS = 1000;

/**
 * The part of pino's destination (sonic-boom) this needs. Its `flush(cb)` does not wait for a
 * write in flight when lines are written as they come (minLength 0), so the barrier reads
 * whether a write is in flight and how much is buffered, and re-checks after each 'write'.
 */
interface SonicBoomLike {
  _writing: boolean;
  _len: number;
  on(event: 'write', listener: () => void): unknown;
  off(event: 'write', listener: () => void): unknown;
}

/**
 * Lets the last log lines out before Nest's `process.exit()`. The destination
 * writes asynchronously; at exit pino can only write what is still buffered
 * synchronously, beside a write already in flight, so lines would come out
 * reordered or not at all. LoggingModule is global: Nest runs this hook after
 * every other module's, once the shutdown phases are logged. A stalled sink
 * gets LOG_FLUSH_TIMEOUT_MS.
 */
@Injectable()
export class LogFlush implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await flushLogs(LOG_FLUSH_TIMEOUT_MS);
  }
}

/** Waits until the root logger's destination has written everything (at most `timeoutMs`). */
export function flushLogs(timeoutMs: number): Promise<void> {
  const stream = (PinoLogger.root as unknown as Record<symbol, unknown> | undefined)?.[symbols.streamSym];
  if (!isSonicBoom(stream)) return Promise.resolve();
  const drained = (): boolean => !stream._writing && stream._len === 0;
  if (drained()) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      stream.off('write', onWrite);
      resolve();
    };
    const onWrite = (): void => {
      // 'write' fires before sonic-boom updates its state: look once it has.
      setImmediate(() => drained() && done());
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    stream.on('write', onWrite);
  });
}

function isSonicBoom(stream: unknown): stream is SonicBoomLike {
  const candidate = stream as Partial<SonicBoomLike> | undefined;
  return typeof candidate?._writing === 'boolean' && typeof candidate._len === 'number';
}

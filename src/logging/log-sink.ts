import { EventEmitter } from 'node:events';
import { Injectable, Logger, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { destination, type DestinationStream } from 'pino';

/**
 * Most bytes of log lines held in memory while stdout cannot take them (a
 * pipe nobody reads, a collector that fell behind). Past it new lines are
 * dropped: a stalled sink then costs at most this much memory instead of
 * growing until the pod is OOM-killed.
 */
export const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Longest the process waits at exit for stdout to take what is still
 * buffered. pino flushes its destination synchronously on exit and, while
 * the write keeps failing with EAGAIN (a pipe nobody reads), retries every
 * 100 ms without end: the process never exits and is only SIGKILLed at the
 * end of the pod's grace period.
 */
export const LOG_EXIT_FLUSH_MAX_MS = 1_000;

/** The warning written once the backlog has been written after lines were dropped. */
export const LOG_DROPPED_MESSAGE = 'log lines dropped while the log destination was not keeping up';

/**
 * The part of pino's SonicBoom destination this module uses. `_writing` and `_len` (a write in
 * flight, bytes buffered) are read by written(): SonicBoom's own `flush(cb)` returns at once
 * when lines are written as they come (minLength 0), without waiting for the write in flight.
 */
interface SonicBoomLike extends DestinationStream, EventEmitter {
  _writing: boolean;
  _len: number;
}

/**
 * stdout for the JSON log lines, buffered up to a bound: pino's own
 * asynchronous destination (SonicBoom) with `maxLength`. SonicBoom refuses a
 * line that would take its buffer past `maxLength` and emits `drop` with it,
 * so the lines dropped are always the newest and always whole; this class
 * counts them and emits `resumed` with the count once the backlog has been
 * written (`drain`), for the one warning line about them.
 */
export class LogSink extends EventEmitter<{ resumed: [dropped: number] }> {
  readonly stream: DestinationStream;
  private dropped = 0;
  private droppedSinceResume = 0;

  /** Set when the process exits: from then on a write that would block is retried only until then. */
  private exitDeadline: number | undefined;

  constructor(fd: number, maxBytes: number) {
    super();
    const stream = destination({
      dest: fd,
      sync: false,
      minLength: 0,
      maxLength: maxBytes,
      retryEAGAIN: () => this.exitDeadline === undefined || Date.now() < this.exitDeadline,
    }) as unknown as SonicBoomLike;
    stream.on('drop', (data: unknown) => {
      const lines = countLines(String(data));
      this.dropped += lines;
      this.droppedSinceResume += lines;
    });
    stream.on('drain', () => {
      if (this.droppedSinceResume === 0) return;
      const count = this.droppedSinceResume;
      this.droppedSinceResume = 0;
      this.emit('resumed', count);
    });
    this.stream = stream;
    // Before pino's own exit flush (prepended): flush within the deadline, then give up on the
    // rest, so that pino's flush finds nothing left to wait for.
    process.prependListener('exit', () => this.flushBeforeExit());
  }

  /** Flushes what is buffered, waiting at most LOG_EXIT_FLUSH_MAX_MS for stdout, then drops the rest. */
  flushBeforeExit(): void {
    const stream = this.stream as SonicBoomLike & { flushSync(): void; destroy(): void; destroyed: boolean };
    if (stream.destroyed) return;
    this.exitDeadline = Date.now() + LOG_EXIT_FLUSH_MAX_MS;
    try {
      stream.flushSync();
    } catch {
      // stdout did not take the rest in time (or is gone): what is left is lost either way.
      stream.destroy();
    }
  }

  /**
   * Resolves once everything buffered has been written, or after `timeoutMs`
   * (a stalled sink). Awaited before Nest's process.exit(): at exit pino can
   * only write the buffer synchronously, beside a write still in flight, so
   * the last lines would come out reordered or not at all.
   */
  written(timeoutMs: number): Promise<void> {
    const stream = this.stream as SonicBoomLike;
    const drained = (): boolean => !stream._writing && stream._len === 0;
    if (drained()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stream.off('write', onWrite);
        resolve();
      };
      // 'write' fires before SonicBoom updates its state: look once it has.
      const onWrite = (): void => void setImmediate(() => drained() && done());
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      stream.on('write', onWrite);
    });
  }

  /** Lines dropped since the process started. */
  get droppedTotal(): number {
    return this.dropped;
  }
}

/** pino writes one line per write; a write with several is counted by its line breaks. */
function countLines(data: string): number {
  let lines = 0;
  for (let i = data.indexOf('\n'); i >= 0; i = data.indexOf('\n', i + 1)) lines++;
  return Math.max(lines, 1);
}

let stdoutSink: LogSink | undefined;

/** The stdout sink if the logger uses it (JSON output); undefined with pretty development output. */
export function existingStdoutLogSink(): LogSink | undefined {
  return stdoutSink;
}

/**
 * The one sink for stdout in this process, made on first use. One per
 * process, not per app: apps built side by side in one process (tests) share
 * fd 1, and two buffers writing to it would interleave their lines.
 */
export function stdoutLogSink(): LogSink {
  stdoutSink ??= new LogSink(1, LOG_BUFFER_MAX_BYTES);
  return stdoutSink;
}

/**
 * Writes the one warning about dropped lines, through the app's logger (its
 * level and format), once the backlog has been written: a warning written
 * while the sink is still stalled would only be dropped too.
 */
@Injectable()
export class LogDropWarning implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Logging');
  private readonly warn = (dropped: number): void => {
    this.logger.warn({ dropped }, `${LOG_DROPPED_MESSAGE}: ${dropped}`);
  };

  onModuleInit(): void {
    existingStdoutLogSink()?.on('resumed', this.warn);
  }

  onModuleDestroy(): void {
    existingStdoutLogSink()?.off('resumed', this.warn);
  }
}

/**
 * Lets the last lines out before Nest's process.exit() (LogSink.written).
 * LoggingModule is global, so Nest runs this hook after every other
 * module's, once the shutdown phases are logged.
 */
@Injectable()
export class LogFlush implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await existingStdoutLogSink()?.written(LOG_EXIT_FLUSH_MAX_MS);
  }
}

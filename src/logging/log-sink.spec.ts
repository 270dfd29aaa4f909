import { EventEmitter } from 'node:events';
import { destination } from 'pino';
import { LogSink } from './log-sink';

jest.mock('pino', () => ({ destination: jest.fn() }));

/** Stands in for pino's SonicBoom: the events and methods LogSink uses. */
class FakeSonicBoom extends EventEmitter {
  destroyed = false;
  _writing = false;
  _len = 0;
  flushSync = jest.fn();
  destroy = jest.fn(() => {
    this.destroyed = true;
  });
}

type DestinationOptions = { retryEAGAIN: () => boolean; maxLength: number; sync: boolean };

function makeSink(): { sink: LogSink; stream: FakeSonicBoom; options: DestinationOptions } {
  const stream = new FakeSonicBoom();
  const mocked = destination as unknown as jest.Mock;
  mocked.mockReturnValueOnce(stream);
  const sink = new LogSink(1, 1024);
  const options = (mocked.mock.calls as DestinationOptions[][])[mocked.mock.calls.length - 1][0];
  return { sink, stream, options };
}

describe('LogSink', () => {
  it('written() waits for the write in flight and the buffer, and no longer than its timeout', async () => {
    const { sink, stream } = makeSink();
    await sink.written(10); // nothing pending: at once
    Object.assign(stream, { _writing: true, _len: 100 });
    let settled = false;
    const written = sink.written(60_000).then(() => (settled = true));
    stream.emit('write', 50); // half of it: still pending
    Object.assign(stream, { _len: 50 });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    Object.assign(stream, { _writing: false, _len: 0 });
    stream.emit('write', 50);
    await written;
    expect(settled).toBe(true);

    Object.assign(stream, { _writing: true, _len: 10 }); // a stalled sink
    const started = Date.now();
    await sink.written(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it("uses pino's asynchronous destination with the bound as maxLength", () => {
    const { options } = makeSink();
    expect(options).toMatchObject({ sync: false, maxLength: 1024 });
  });

  it('counts dropped lines and reports them once, when the backlog has been written', () => {
    const { sink, stream } = makeSink();
    const resumed = jest.fn();
    sink.on('resumed', resumed);
    stream.emit('drain'); // nothing dropped: nothing to say
    stream.emit('drop', '{"msg":"a"}\n');
    stream.emit('drop', '{"msg":"b"}\n{"msg":"c"}\n');
    expect(sink.droppedTotal).toBe(3);
    expect(resumed).not.toHaveBeenCalled();
    stream.emit('drain');
    stream.emit('drain');
    expect(resumed).toHaveBeenCalledTimes(1);
    expect(resumed).toHaveBeenCalledWith(3);
    stream.emit('drop', '{"msg":"d"}\n');
    stream.emit('drain');
    expect(resumed).toHaveBeenLastCalledWith(1);
    expect(sink.droppedTotal).toBe(4);
  });

  it('retries a write that would block while running, and only until the deadline once exiting', () => {
    const { sink, stream, options } = makeSink();
    expect(options.retryEAGAIN()).toBe(true);
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      stream.flushSync.mockImplementation(() => {
        expect(options.retryEAGAIN()).toBe(true);
        now.mockReturnValue(1_000_000 + 1_001);
        expect(options.retryEAGAIN()).toBe(false);
        throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
      });
      sink.flushBeforeExit();
    } finally {
      now.mockRestore();
    }
    // What stdout did not take is given up, so that pino's own exit flush has nothing to wait for.
    expect(stream.destroy).toHaveBeenCalled();
  });

  it('flushes at exit and keeps the stream when stdout takes everything', () => {
    const { sink, stream } = makeSink();
    sink.flushBeforeExit();
    expect(stream.flushSync).toHaveBeenCalled();
    expect(stream.destroy).not.toHaveBeenCalled();
  });
});

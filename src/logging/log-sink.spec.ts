import { EventEmitter } from 'node:events';
import { destination } from 'pino';
import { LogSink } from './log-sink';

jest.mock('pino', () => ({ destination: jest.fn() }));

/** Stands in for pino's SonicBoom: the events and methods LogSink uses. */
class FakeSonicBoom extends EventEmitter {
  destroyed = false;
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

import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { existingStdoutLogSink, LogSink } from '../logging/log-sink';
import { LogMetrics } from './log.metrics';

// The stdout sink is per process; the spec decides what it has dropped.
jest.mock('../logging/log-sink', () => ({ existingStdoutLogSink: jest.fn() }));
const sink = jest.mocked(existingStdoutLogSink);

describe('LogMetrics', () => {
  let metrics: LogMetrics;

  const dropped = async (): Promise<number> => (await metrics.counter.get()).values[0]?.value ?? NaN;

  beforeEach(async () => {
    sink.mockReset();
    const moduleRef = await Test.createTestingModule({
      providers: [LogMetrics, { provide: Registry, useValue: new Registry() }],
    }).compile();
    metrics = moduleRef.get(LogMetrics);
  });

  it('reads 0 before anything was logged to stdout', async () => {
    sink.mockReturnValue(undefined);

    await expect(dropped()).resolves.toBe(0);
  });

  it('reads the sink’s count of dropped lines at scrape time', async () => {
    sink.mockReturnValue({ droppedTotal: 17 } as LogSink);

    await expect(dropped()).resolves.toBe(17);
  });

  it('follows the sink’s count rather than adding it up across scrapes', async () => {
    sink.mockReturnValue({ droppedTotal: 17 } as LogSink);
    await dropped();
    sink.mockReturnValue({ droppedTotal: 20 } as LogSink);

    await expect(dropped()).resolves.toBe(20);
  });
});

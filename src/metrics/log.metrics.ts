import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { existingStdoutLogSink } from '../logging/log-sink';
import { METRIC_NAMES } from './metrics.constants';

/**
 * `log_lines_dropped_total`: log lines dropped because stdout did not keep
 * up (logging/log-sink.ts). Read from the sink at each scrape, so it counts
 * every drop of the process, also those before this app was built.
 */
@Injectable()
export class LogMetrics {
  readonly counter: Counter;

  constructor(registry: Registry) {
    this.counter = new Counter({
      name: METRIC_NAMES.logLinesDropped,
      help: 'Log lines dropped because the log destination (stdout) did not keep up and the buffer was full.',
      registers: [registry],
      collect() {
        // The sink keeps the count; a counter can only be incremented, so it is set by reset + inc.
        this.reset();
        this.inc(existingStdoutLogSink()?.droppedTotal ?? 0);
      },
    });
  }
}

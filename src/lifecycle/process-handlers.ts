import type { LoggerService } from '@nestjs/common';
import { describeError } from '../common/redact';

/**
 * Last-resort handlers. An unhandled rejection from background work (a
 * client call nobody awaited) is logged, redacted, and the process goes on:
 * dependency faults must not crash the service. An uncaught exception is a
 * programming error: it is logged and the process exits 1 so the orchestrator
 * restarts it, rather than running on in an unknown state. Install once, from main.ts.
 */
export function installProcessHandlers(logger: LoggerService): void {
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error(`unhandled promise rejection: ${describeError(reason)}`);
  });
  process.on('uncaughtException', (error: Error) => {
    logger.error(`uncaught exception: ${error.name}: ${describeError(error)}`);
    process.exit(1);
  });
}

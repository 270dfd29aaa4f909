// First import: source maps apply only to the modules loaded after it.
import './source-maps';
import 'reflect-metadata';
import { ConfigValidationError } from './config/environment';
import { loadEnvironment } from './config/load-environment';
import { BootSignals } from './lifecycle/boot-signals';

/**
 * Boot: validate the environment before Nest starts (a bad variable exits 1
 * with one line per variable, never its value), then build the app on
 * Fastify, enable shutdown hooks and listen. A SIGTERM or SIGINT before
 * that closes what was opened and exits 0.
 */
async function bootstrap(): Promise<void> {
  const boot = new BootSignals();
  try {
    // The one parse of this boot: ConfigModule and the sections reuse it.
    loadEnvironment();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(
        `configuration error: the service cannot start\n${error.lines.map((l) => `  ${l}`).join('\n')}\n`,
      );
      process.exit(1);
    }
    throw error;
  }
  // Loaded after validation so that no module reads an invalid environment. require(), not
  // import(): with `module: nodenext` a CommonJS build keeps import() as a native ESM import.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { createApp } = require('./app.factory') as typeof import('./app.factory');
  const { installProcessHandlers } =
    require('./lifecycle/process-handlers') as typeof import('./lifecycle/process-handlers');
  const { Logger } = require('@nestjs/common') as typeof import('@nestjs/common');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const created = await createApp();
  const { app } = created;
  installProcessHandlers(new Logger('Process'));
  // Module init opens the clients (each first connect has a short deadline). Nest's signal
  // handler would close the app while init still runs; until init is done, BootSignals holds them.
  await app.init();
  boot.release();
  if (boot.received) {
    // Nest holds boot logs until the server listens; it never will. ShutdownService logs the
    // one line about the signal: nothing was listening, so nothing is drained.
    app.flushLogs();
    await app.close();
    process.exit(0);
  }
  // listen() installs Nest's shutdown hooks first, in the same tick as release() above.
  await created.listen();
}

bootstrap().catch((error: unknown) => {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`boot failed: ${message.split('\n')[0]}\n`);
  process.exit(1);
});

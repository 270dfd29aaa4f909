import 'reflect-metadata';
import { ConfigValidationError, validateEnvironment } from './config/environment';

/**
 * Boot: validate the environment before Nest starts (a bad variable exits 1
 * with one line per variable, never its value), then build the app on
 * Fastify, enable shutdown hooks and listen.
 */
async function bootstrap(): Promise<void> {
  try {
    validateEnvironment(process.env);
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
  const app = await createApp();
  installProcessHandlers(new Logger('Process'));
  await app.listen();
}

bootstrap().catch((error: unknown) => {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`boot failed: ${message.split('\n')[0]}\n`);
  process.exit(1);
});

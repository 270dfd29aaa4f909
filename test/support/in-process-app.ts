import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freePort } from './ports';

/**
 * The application as createApp() builds it, in this process, with Redis and
 * PostgreSQL pointed at closed ports (it boots without them). Not yet
 * initialized, so a test can hook into Fastify first. Changes process.env:
 * restore it after the test.
 */
export async function createAppWithoutDependencies(): Promise<NestFastifyApplication> {
  const [deadRedis, deadPg] = await Promise.all([freePort(), freePort()]);
  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SHUTDOWN_DRAIN_MS: '0',
    REDIS_URL: `redis://127.0.0.1:${deadRedis}/0`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${deadPg}/app`,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createApp } = require('../../src/app.factory') as typeof import('../../src/app.factory');
  return (await createApp()).app;
}

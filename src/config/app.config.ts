import { ConfigType, registerAs } from '@nestjs/config';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadEnvironment } from './load-environment';

/**
 * The version in the nearest package.json above this module: the repo root
 * for src/ and dist/ alike.
 */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
      } catch {
        return '0.0.0';
      }
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

/** The process as a whole: environment, where it listens, its logs, its body limit, its version. */
export const appConfig = registerAs('app', () => {
  const e = loadEnvironment();
  return {
    nodeEnv: e.NODE_ENV,
    production: e.NODE_ENV === 'production',
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    version: process.env.npm_package_version ?? packageVersion(),
  };
});

export type AppConfig = ConfigType<typeof appConfig>;

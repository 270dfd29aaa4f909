import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { BodyParser, JSON_BODY_MAX_DEPTH, JSON_BODY_MAX_KEYS, limitedJsonParser } from './common/json-body';
import { installLingeringClose, LINGER_MAX_MS } from './common/lingering-close';
import { appConfig, AppConfig } from './config/app.config';
import { loadEnvironment } from './config/load-environment';
import { genRequestId, installRequestIdHeader } from './logging/request-id';
import { setupOpenApi } from './openapi/openapi.setup';

export interface CreatedApp {
  app: NestFastifyApplication;
  listen(): Promise<string>;
}

/**
 * Builds the application exactly as production runs it (used by main.ts and
 * by in-process e2e tests through `module`).
 */
export async function createApp(module: Parameters<typeof NestFactory.create>[0] = AppModule): Promise<CreatedApp> {
  // The adapter exists before Nest's ConfigModule: read the (already validated) environment directly.
  const { BODY_LIMIT_BYTES } = loadEnvironment();
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Idle keep-alive sockets are closed when the server closes; busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // request.id = a valid X-Request-Id or a new UUID; logs and the response header share it.
    genReqId: genRequestId,
  });
  installRequestIdHeader(adapter.getInstance());
  // A body over the limit gets its 413 before it is read; the connection then closes without a
  // reset, discarding up to twice the limit of what the client still sends (common/lingering-close.ts).
  installLingeringClose(adapter.getInstance(), { maxBytes: 2 * BODY_LIMIT_BYTES, maxMs: LINGER_MAX_MS });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  // Fastify's JSON parser, behind a cheap check of nesting and key count (src/common/json-body.ts).
  const { onProtoPoisoning, onConstructorPoisoning } = adapter.getInstance().initialConfig;
  const parseJson = adapter
    .getInstance()
    .getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error') as BodyParser<string>;
  app.useBodyParser(
    'application/json',
    { bodyLimit: BODY_LIMIT_BYTES },
    limitedJsonParser(parseJson, { maxDepth: JSON_BODY_MAX_DEPTH, maxKeys: JSON_BODY_MAX_KEYS }),
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  const config = app.get<AppConfig>(appConfig.KEY);
  setupOpenApi(app, config);
  return {
    app,
    listen: async () => {
      // Nest runs our shutdown sequence on these signals, once (a second signal is ignored),
      // then exits 0 with process.exit so async log transports flush. Installed here, not
      // in createApp, so that an app built in a test process leaves that process' signals alone.
      app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
      await app.listen(config.port, config.host);
      const url = await app.getUrl();
      new NestLogger('Bootstrap').log(
        `listening on ${config.host}:${config.port} (${config.nodeEnv}, v${config.version})`,
      );
      return url;
    },
  };
}

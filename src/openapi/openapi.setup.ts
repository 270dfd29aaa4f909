import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '../config/app.config';
import { HEALTH_DETAILS_SECURITY, PEERS_SECURITY } from '../health/health.constants';

/** Swagger UI at `/docs`, the document at `/docs-json` (and `/docs-yaml`). */
export const OPENAPI_PATH = 'docs';

/**
 * Serves the OpenAPI document. It is built on the first request for it, not
 * at boot, and swagger-ui's assets are served by an encapsulated
 * @fastify/static instance under /docs: neither adds a hook to other routes.
 */
export function setupOpenApi(app: NestFastifyApplication, config: AppConfig): void {
  const info = new DocumentBuilder()
    .setTitle('probe-ready-api')
    .setDescription(
      'Health probes over PostgreSQL and Redis, a jobs API and Prometheus metrics. ' +
        "Every response carries `X-Request-Id` (the caller's, when it matches `^[A-Za-z0-9._:-]{1,128}$`, otherwise a new UUID).",
    )
    .setVersion(config.version)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'HEALTH_DETAILS_TOKEN: adds reasons and details to health answers.',
      },
      HEALTH_DETAILS_SECURITY,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'HEALTH_PEERS_TOKEN: peers reading each other’s check states.' },
      PEERS_SECURITY,
    )
    .build();
  SwaggerModule.setup(OPENAPI_PATH, app, () => SwaggerModule.createDocument(app, info), {
    jsonDocumentUrl: `${OPENAPI_PATH}-json`,
    yamlDocumentUrl: `${OPENAPI_PATH}-yaml`,
  });
}

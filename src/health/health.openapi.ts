import type { Type } from '@nestjs/common';
import { getSchemaPath } from '@nestjs/swagger';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  PathsObject,
  ResponseObject,
  SecurityRequirementObject,
} from '@nestjs/swagger';
import { HEALTH_ROUTES } from './health.routes';
import {
  CheckEntrySchema,
  ErrorBodySchema,
  HEALTH_EXAMPLES,
  HealthBodySchema,
  LivenessBodySchema,
} from './health.schemas';

/** Name of the bearer scheme for HEALTH_DETAILS_TOKEN in the OpenAPI document. */
export const HEALTH_DETAILS_SECURITY = 'health-details';

/** Schemas the probe operations reference (given to SwaggerModule as extra models). */
export const HEALTH_OPENAPI_MODELS = [LivenessBodySchema, CheckEntrySchema, HealthBodySchema, ErrorBodySchema];

const NO_STORE = {
  'Cache-Control': { description: 'Always `no-store`.', schema: { type: 'string', example: 'no-store' } },
};

type Examples = Record<string, { summary: string; value: unknown }>;

function jsonResponse(
  description: string,
  schema: Type<unknown>,
  examples?: Examples,
  example?: unknown,
): ResponseObject {
  return {
    description,
    headers: NO_STORE,
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(schema) },
        ...(examples && { examples }),
        ...(example !== undefined && { example }),
      },
    },
  };
}

/** The details token is optional: without it (the empty requirement) the answer is the public view. */
const OPTIONAL_DETAILS_TOKEN: SecurityRequirementObject[] = [{}, { [HEALTH_DETAILS_SECURITY]: [] }];

function operation(
  summary: string,
  description: string,
  responses: Record<string, ResponseObject>,
  extra: Partial<OperationObject> = {},
): OperationObject {
  return { tags: ['health'], summary, description, responses, ...extra };
}

const liveness = operation(
  'Liveness (`/health` and `/health/live`)',
  'The process can serve. Checks no dependency and stays 200 while draining; never 503.',
  { 200: jsonResponse('The process is alive.', LivenessBodySchema) },
);

const exclude: ParameterObject = {
  name: 'exclude',
  in: 'query',
  required: false,
  description: 'Comma-separated check names to leave out (repeatable).',
  schema: { type: 'string', example: 'redis-cache' },
};

const readiness = operation(
  'Readiness',
  '200 when every required check is up (`degraded` when only optional ones are down); 503 when a required ' +
    'check is down or stale, or while shutting down. Read from the monitor snapshot: never waits on a dependency.',
  {
    200: jsonResponse('Ready.', HealthBodySchema, { ok: HEALTH_EXAMPLES.ok, degraded: HEALTH_EXAMPLES.degraded }),
    503: jsonResponse('Not ready.', HealthBodySchema, {
      error: HEALTH_EXAMPLES.error,
      shuttingDown: HEALTH_EXAMPLES.shuttingDown,
      authorized: HEALTH_EXAMPLES.authorized,
    }),
    400: jsonResponse('`exclude` names an unknown check.', ErrorBodySchema, undefined, {
      statusCode: 400,
      message: 'unknown health check in exclude: nope',
      error: 'Bad Request',
    }),
  },
  { parameters: [exclude], security: OPTIONAL_DETAILS_TOKEN },
);

const startup = operation(
  'Startup',
  '503 until every required check has been up once since boot; 200 from then on (except while shutting down).',
  {
    200: jsonResponse('Started.', HealthBodySchema, { ok: HEALTH_EXAMPLES.ok }),
    503: jsonResponse('Not started yet, or shutting down.', HealthBodySchema, {
      pending: HEALTH_EXAMPLES.startupPending,
      shuttingDown: HEALTH_EXAMPLES.shuttingDown,
    }),
  },
  { security: OPTIONAL_DETAILS_TOKEN },
);

const check: ParameterObject = {
  name: 'check',
  in: 'path',
  required: true,
  description: 'A registered check: `db`, `redis`, `redis-cache`, …',
  schema: { type: 'string', example: 'redis' },
};

const oneCheck = (summary: string): OperationObject =>
  operation(
    summary,
    'One check from the monitor snapshot: 200 when up, 503 when down or stale.',
    {
      200: jsonResponse('The check is up.', HealthBodySchema, { up: HEALTH_EXAMPLES.oneUp }),
      503: jsonResponse('The check is down or stale.', HealthBodySchema, {
        down: HEALTH_EXAMPLES.oneDown,
        authorized: HEALTH_EXAMPLES.authorized,
      }),
      404: jsonResponse('No check has that name.', ErrorBodySchema, undefined, {
        statusCode: 404,
        message: "unknown health check 'nope'",
        error: 'Not Found',
      }),
    },
    { parameters: [check], security: OPTIONAL_DETAILS_TOKEN },
  );

/** Fastify's `/health/:check` is OpenAPI's `/health/{check}`. */
const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * The probe operations (health.routes.ts serves them as plain Fastify
 * routes, which Nest's Swagger explorer does not see), keyed by the same
 * route table.
 */
export function healthOpenApiPaths(): PathsObject {
  const paths: PathsObject = {};
  for (const url of HEALTH_ROUTES.liveness) paths[url] = { get: liveness };
  paths[HEALTH_ROUTES.readiness] = { get: readiness };
  paths[openApiPath(HEALTH_ROUTES.readinessOne)] = { get: oneCheck('One readiness check by name') };
  paths[HEALTH_ROUTES.startup] = { get: startup };
  paths[openApiPath(HEALTH_ROUTES.dependency)] = { get: oneCheck('One dependency check by name') };
  return paths;
}

/** Adds the probe operations to a document built by SwaggerModule (with HEALTH_OPENAPI_MODELS as extra models). */
export function addHealthOperations(document: OpenAPIObject): OpenAPIObject {
  document.paths = { ...healthOpenApiPaths(), ...document.paths };
  return document;
}

import { applyDecorators, Header } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { HEALTH_DETAILS_SECURITY } from './health.constants';
import {
  CheckEntrySchema,
  ErrorBodySchema,
  HEALTH_EXAMPLES,
  HealthBodySchema,
  LivenessBodySchema,
} from './health.schemas';

/**
 * The probe routes' decorators, composed once per kind of route so that
 * `/health/ready` and `/ready` cannot drift apart. What they cannot say
 * (the body of `degraded`, per-check `responseTime`/`since`) is in the
 * schema classes of health.schemas.ts.
 */

const NO_STORE = {
  'Cache-Control': { description: 'Always `no-store`.', schema: { type: 'string', example: 'no-store' } },
};

/** Every probe answer, errors included, is `no-store`: set before the handler runs, so exceptions keep it. */
const NoStore = () => Header('Cache-Control', 'no-store');

type Examples = Record<string, { summary: string; value: unknown }>;

/**
 * The documentation of a Terminus `@HealthCheck()` route (the decorator itself
 * sits on the controller method, below this one): 200 and 503 with our schema
 * classes, which replace Terminus' generic one (it knows neither `degraded` nor
 * `responseTime`/`since`), examples, `no-store` and the optional details token.
 */
function HealthCheckRoute(summary: string, description: string, ok: Examples, unavailable: Examples) {
  const body = { $ref: getSchemaPath(HealthBodySchema) };
  return applyDecorators(
    NoStore(),
    // HealthBodySchema refers to CheckEntrySchema by $ref only, so both are registered.
    ApiExtraModels(HealthBodySchema, CheckEntrySchema),
    ApiOperation({ summary, description }),
    ApiOkResponse({ schema: body, headers: NO_STORE, examples: ok }),
    ApiServiceUnavailableResponse({ schema: body, headers: NO_STORE, examples: unavailable }),
    // The token is optional: without it (the empty requirement) the answer is the public view.
    ApiSecurity({}),
    ApiBearerAuth(HEALTH_DETAILS_SECURITY),
    ApiHeader({
      name: 'authorization',
      required: false,
      description: '`Bearer <HEALTH_DETAILS_TOKEN>` adds reasons and details; otherwise the public view.',
    }),
  );
}

export function LivenessRoute() {
  return applyDecorators(
    NoStore(),
    ApiOperation({
      summary: 'Liveness (`/health` and `/health/live`)',
      description: 'The process can serve. Checks no dependency and stays 200 while draining; never 503.',
    }),
    ApiOkResponse({ description: 'The process is alive.', type: LivenessBodySchema, headers: NO_STORE }),
  );
}

export function ReadinessRoute() {
  return applyDecorators(
    HealthCheckRoute(
      'Readiness',
      '200 when every required check is up (`degraded` when only optional ones are down); 503 when a required ' +
        'check is down or stale, or while shutting down. Read from the monitor snapshot: never waits on a dependency.',
      { ok: HEALTH_EXAMPLES.ok, degraded: HEALTH_EXAMPLES.degraded },
      {
        error: HEALTH_EXAMPLES.error,
        shuttingDown: HEALTH_EXAMPLES.shuttingDown,
        authorized: HEALTH_EXAMPLES.authorized,
      },
    ),
    ApiQuery({
      name: 'exclude',
      required: false,
      type: String,
      description: 'Comma-separated check names to leave out (repeatable).',
      example: 'redis-cache',
    }),
    ApiBadRequestResponse({
      description: '`exclude` names an unknown check.',
      type: ErrorBodySchema,
      headers: NO_STORE,
      example: { statusCode: 400, message: 'unknown health check in exclude: nope', error: 'Bad Request' },
    }),
  );
}

export function StartupRoute() {
  return HealthCheckRoute(
    'Startup',
    '503 until every required check has been up once since boot; 200 from then on (except while shutting down).',
    { ok: HEALTH_EXAMPLES.ok },
    { pending: HEALTH_EXAMPLES.startupPending, shuttingDown: HEALTH_EXAMPLES.shuttingDown },
  );
}

export function CheckRoute(summary: string) {
  return applyDecorators(
    HealthCheckRoute(
      summary,
      'One check from the monitor snapshot: 200 when up (`degraded` when an optional check is down), 503 when a ' +
        'required check is down or stale.',
      { up: HEALTH_EXAMPLES.oneUp },
      { down: HEALTH_EXAMPLES.oneDown, authorized: HEALTH_EXAMPLES.authorized },
    ),
    ApiParam({
      name: 'check',
      description: 'A registered check: `db`, `redis`, `redis-cache`, …',
      example: 'redis',
    }),
    ApiNotFoundResponse({
      description: 'No check has that name.',
      type: ErrorBodySchema,
      headers: NO_STORE,
      example: { statusCode: 404, message: "unknown health check 'nope'", error: 'Not Found' },
    }),
  );
}

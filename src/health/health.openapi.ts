import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CheckEntrySchema, ErrorBodySchema, HEALTH_EXAMPLES, HealthBodySchema, LivenessBodySchema } from './health.schemas';

/** Name of the bearer scheme for HEALTH_DETAILS_TOKEN in the OpenAPI document. */
export const HEALTH_DETAILS_SECURITY = 'health-details';

const NO_STORE = { 'Cache-Control': { description: 'Always `no-store`.', schema: { type: 'string', example: 'no-store' } } };

/**
 * The details token is optional: without it (the empty requirement) the
 * answer is the public view; with it, reasons and details are added.
 */
const OptionalDetailsToken = (): MethodDecorator & ClassDecorator =>
  applyDecorators(ApiSecurity({}), ApiBearerAuth(HEALTH_DETAILS_SECURITY));

/** On the controller: tag and the schemas referenced by `$ref`. */
export const ApiHealthController = (): ClassDecorator =>
  applyDecorators(ApiTags('health'), ApiExtraModels(CheckEntrySchema, HealthBodySchema));

export const ApiLiveness = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Liveness (`/health` and `/health/live`)',
      description: 'The process can serve. Checks no dependency and stays 200 while draining; never 503.',
    }),
    ApiOkResponse({ type: LivenessBodySchema, headers: NO_STORE }),
  );

export const ApiReadiness = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Readiness',
      description:
        '200 when every required check is up (`degraded` when only optional ones are down); 503 when a required ' +
        'check is down or stale, or while shutting down. Read from the monitor snapshot: never waits on a dependency.',
    }),
    OptionalDetailsToken(),
    ApiQuery({
      name: 'exclude',
      required: false,
      description: 'Comma-separated check names to leave out (repeatable).',
      schema: { type: 'string', example: 'redis-cache' },
    }),
    ApiOkResponse({ type: HealthBodySchema, headers: NO_STORE, examples: { ok: HEALTH_EXAMPLES.ok, degraded: HEALTH_EXAMPLES.degraded } }),
    ApiServiceUnavailableResponse({
      type: HealthBodySchema,
      headers: NO_STORE,
      examples: { error: HEALTH_EXAMPLES.error, shuttingDown: HEALTH_EXAMPLES.shuttingDown, authorized: HEALTH_EXAMPLES.authorized },
    }),
    ApiBadRequestResponse({
      type: ErrorBodySchema,
      description: '`exclude` names an unknown check.',
      example: { statusCode: 400, message: 'unknown health check in exclude: nope', error: 'Bad Request' },
    }),
  );

export const ApiStartup = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Startup',
      description: '503 until every required check has been up once since boot; 200 from then on (except while shutting down).',
    }),
    OptionalDetailsToken(),
    ApiOkResponse({ type: HealthBodySchema, headers: NO_STORE, examples: { ok: HEALTH_EXAMPLES.ok } }),
    ApiServiceUnavailableResponse({
      type: HealthBodySchema,
      headers: NO_STORE,
      examples: { pending: HEALTH_EXAMPLES.startupPending, shuttingDown: HEALTH_EXAMPLES.shuttingDown },
    }),
  );

/** `/health/{check}` and `/health/ready/{check}`: one check by name. */
export const ApiOneCheck = (summary: string): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary, description: 'One check from the monitor snapshot: 200 when up, 503 when down or stale.' }),
    OptionalDetailsToken(),
    ApiParam({ name: 'check', description: 'A registered check: `db`, `redis`, `redis-cache`, …', example: 'redis' }),
    ApiOkResponse({ type: HealthBodySchema, headers: NO_STORE, examples: { up: HEALTH_EXAMPLES.oneUp } }),
    ApiServiceUnavailableResponse({ type: HealthBodySchema, headers: NO_STORE, examples: { down: HEALTH_EXAMPLES.oneDown, authorized: HEALTH_EXAMPLES.authorized } }),
    ApiNotFoundResponse({
      type: ErrorBodySchema,
      description: 'No check has that name.',
      example: { statusCode: 404, message: "unknown health check 'nope'", error: 'Not Found' },
    }),
  );

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
import { CheckEntry, ErrorBody, HealthBody, LivenessBody } from './health-body.dto';

/**
 * The probe routes' decorators, composed once per kind of route so that
 * `/health/ready` and `/ready` cannot drift apart. What they cannot say
 * (the body of `degraded`, per-check `responseTime`/`since`) is in the
 * body classes of health-body.dto.ts.
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
  const body = { $ref: getSchemaPath(HealthBody) };
  return applyDecorators(
    NoStore(),
    // HealthBody refers to CheckEntry by $ref only, so both are registered.
    ApiExtraModels(HealthBody, CheckEntry),
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
    ApiOkResponse({ description: 'The process is alive.', type: LivenessBody, headers: NO_STORE }),
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
      type: ErrorBody,
      headers: NO_STORE,
      example: { statusCode: 400, message: 'unknown health check in exclude: nope', error: 'Bad Request' },
    }),
  );
}

export function StartupRoute() {
  return HealthCheckRoute(
    'Startup',
    '503 until the app has booted and every check has completed its first run; 200 from then on, whatever the results (dependencies only move readiness), except while shutting down.',
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
      type: ErrorBody,
      headers: NO_STORE,
      example: { statusCode: 404, message: "unknown health check 'nope'", error: 'Not Found' },
    }),
  );
}

const since = '2025-01-01T12:00:00.000Z';
const up: CheckEntry = { status: 'up', responseTime: 0.84, since };
const downRefused: CheckEntry = { status: 'down', message: 'connection refused', responseTime: 1.9, since };

/** Example bodies, named as they appear in the document. */
const HEALTH_EXAMPLES = {
  ok: {
    summary: 'every check up',
    value: { status: 'ok', info: { db: up, redis: up }, error: {}, details: { db: up, redis: up } },
  },
  degraded: {
    summary: 'an optional check down',
    value: {
      status: 'degraded',
      info: { db: up, redis: up },
      error: { 'redis-cache': downRefused },
      details: { db: up, redis: up, 'redis-cache': downRefused },
    },
  },
  error: {
    summary: 'a required check down',
    value: {
      status: 'error',
      info: { db: up },
      error: { redis: downRefused },
      details: { db: up, redis: downRefused },
    },
  },
  shuttingDown: {
    summary: 'draining after SIGTERM',
    value: { status: 'shutting_down', info: { db: up, redis: up }, error: {}, details: { db: up, redis: up } },
  },
  authorized: {
    summary: 'with the details token (Authorization: Bearer …)',
    value: {
      status: 'error',
      info: {},
      error: {
        redis: {
          ...downRefused,
          message: 'authentication failed',
          required: true,
          checkedAt: since,
          reason: 'WRONGPASS invalid username-password pair or user is disabled.',
          details: { host: 'redis', port: 6379, db: 0 },
        },
      },
      details: {},
    },
  },
  oneUp: {
    summary: 'the check is up',
    value: { status: 'ok', info: { redis: up }, error: {}, details: { redis: up } },
  },
  oneDown: {
    summary: 'the check is down',
    value: { status: 'error', info: {}, error: { redis: downRefused }, details: { redis: downRefused } },
  },
  startupPending: {
    summary: 'a check has not completed its first run yet',
    value: {
      status: 'error',
      info: { db: up },
      error: { redis: { status: 'down', message: 'pending', responseTime: null, since: null } },
      details: { db: up, redis: { status: 'down', message: 'pending', responseTime: null, since: null } },
    },
  },
} as const;

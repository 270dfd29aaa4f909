import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { FAILURE_CLASSES } from '../common/redact';
import type { HealthCheckStatus, HealthIndicatorStatus } from '@nestjs/terminus';
import type { CheckEntry, HealthBody, LivenessBody } from './health.views';

/**
 * OpenAPI schemas of the probe bodies, for the routes' `@ApiOkResponse`…
 * decorators (health.openapi.ts). Documentation only: the handlers return
 * the plain objects built in health.views.ts, and these classes are kept in
 * step with those interfaces by `implements`.
 */

const OVERALL_STATUSES: HealthCheckStatus[] = ['ok', 'degraded', 'error', 'shutting_down'];
const CHECK_STATUSES: HealthIndicatorStatus[] = ['up', 'degraded', 'down'];
const FAILURE_MESSAGES = [...FAILURE_CLASSES];

export class LivenessBodySchema implements LivenessBody {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';

  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:00:00.000Z' })
  timestamp: string;

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({ example: 3600 })
  uptime_seconds: number;
}

export class CheckEntrySchema implements CheckEntry {
  @ApiProperty({ enum: CHECK_STATUSES, description: '`degraded`: impaired but serving.' })
  status: HealthIndicatorStatus;

  @ApiPropertyOptional({
    enum: FAILURE_MESSAGES,
    description: 'Classified reason, when down. Safe for anonymous callers.',
  })
  message?: string;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Duration of the last completed check, in ms (null before the first).',
    example: 1.42,
  })
  responseTime: number | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the check entered its current state.',
  })
  since: string | null;

  @ApiPropertyOptional({ description: 'Authorized callers only: whether the check gates readiness.' })
  required?: boolean;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Authorized callers only: when the check last completed.',
  })
  checkedAt?: string | null;

  @ApiPropertyOptional({
    description: 'Authorized callers only: the redacted raw reason, when down.',
    example: 'WRONGPASS invalid username-password pair',
  })
  reason?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Authorized callers only: data the check attached.',
  })
  data?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Authorized callers only: facts about the dependency (host, port, version…), never credentials.',
    example: { host: 'redis', port: 6379, db: 0, redis_version: '7.2.4' },
  })
  details?: Record<string, unknown>;
}

const CHECK_MAP = { type: 'object', additionalProperties: { $ref: getSchemaPath(CheckEntrySchema) } } as const;

export class HealthBodySchema implements HealthBody {
  @ApiProperty({
    enum: OVERALL_STATUSES,
    description: '`degraded` (still 200): a check is impaired but serving, or only optional checks are down.',
  })
  status: HealthCheckStatus;

  @ApiProperty({ ...CHECK_MAP, description: 'Checks that are up or degraded.' })
  info: Record<string, CheckEntry>;

  @ApiProperty({ ...CHECK_MAP, description: 'Checks that are down.' })
  error: Record<string, CheckEntry>;

  @ApiProperty({ ...CHECK_MAP, description: 'Every check in the answer.' })
  details: Record<string, CheckEntry>;
}

/** Nest's error body (400 bad exclude, 404 unknown check). */
export class ErrorBodySchema {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({ example: "unknown health check 'nope'" })
  message: string;

  @ApiProperty({ example: 'Not Found' })
  error: string;
}

const since = '2025-01-01T12:00:00.000Z';
const up: CheckEntry = { status: 'up', responseTime: 0.84, since };
const downRefused: CheckEntry = { status: 'down', message: 'connection refused', responseTime: 1.9, since };

/** Example bodies, named as they appear in the document. */
export const HEALTH_EXAMPLES = {
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
    summary: 'a required check has not been up yet',
    value: {
      status: 'error',
      info: { db: up },
      error: { redis: { status: 'down', message: 'pending', responseTime: null, since: null } },
      details: { db: up, redis: { status: 'down', message: 'pending', responseTime: null, since: null } },
    },
  },
} as const;

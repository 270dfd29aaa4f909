import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { FAILURE_CLASSES } from '../common/redact';
import type { HealthCheckStatus, HealthIndicatorStatus } from '@nestjs/terminus';

/**
 * The probe bodies, declared once: the types the handlers return (built as
 * plain objects in health.views.ts) and, through their decorators, the
 * OpenAPI schemas of the routes (health.openapi.ts).
 */

const OVERALL_STATUSES: HealthCheckStatus[] = ['ok', 'degraded', 'error', 'shutting_down'];
const CHECK_STATUSES: HealthIndicatorStatus[] = ['up', 'degraded', 'down'];
const FAILURE_MESSAGES = [...FAILURE_CLASSES];

/** The liveness body: no dependency in it. */
export class LivenessBody {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';

  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:00:00.000Z' })
  timestamp: string;

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({ example: 3600 })
  uptime_seconds: number;
}

/** A required shared check that is down here and on enough peers: readiness stays 200. */
export class SharedOutageEntry {
  @ApiProperty({ description: 'Peers that see the check down too.', example: 2 })
  peersDown: number;

  @ApiProperty({ description: 'Peers that answered when asked.', example: 2 })
  peersAnswered: number;
}

/** One check in a body: the public view, plus the authorized-only fields. */
export class CheckEntry {
  @ApiProperty({ enum: CHECK_STATUSES, description: '`degraded`: impaired but serving.' })
  status: HealthIndicatorStatus;

  @ApiPropertyOptional({
    enum: FAILURE_MESSAGES,
    description: 'Classified reason, when down. Safe for anonymous callers.',
  })
  message?: string;

  @ApiPropertyOptional({
    type: SharedOutageEntry,
    description:
      'Present when the check is down in a shared outage (HEALTH_PEERS): down here and on at least half of the peers that answered.',
  })
  sharedOutage?: SharedOutageEntry;

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

const CHECK_MAP = { type: 'object', additionalProperties: { $ref: getSchemaPath(CheckEntry) } } as const;

/** Terminus' body shape with per-check responseTime and since. */
export class HealthBody {
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
export class ErrorBody {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({ example: "unknown health check 'nope'" })
  message: string;

  @ApiProperty({ example: 'Not Found' })
  error: string;
}

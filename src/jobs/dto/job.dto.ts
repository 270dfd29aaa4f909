import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ANY_JSON_SCHEMA, JOB_STATUSES, JobStatus } from '../jobs.constants';

/** One status change: the status entered and when (ISO 8601, Redis server clock). */
export class JobHistoryEntry {
  @ApiProperty({ enum: JOB_STATUSES, example: 'running' })
  status: JobStatus;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T12:00:01.250Z' })
  at: string;
}

/** A job as the API returns it. */
export class Job {
  @ApiProperty({ format: 'uuid', example: '3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c' })
  id: string;

  @ApiProperty({ example: 'report.render' })
  type: string;

  @ApiProperty({ enum: JOB_STATUSES, example: 'pending' })
  status: JobStatus;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { reportId: 42 } })
  payload: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Set when the job succeeded with a result (any JSON value).',
    ...ANY_JSON_SCHEMA,
    example: { pages: 3 },
  })
  result?: unknown;

  @ApiPropertyOptional({
    description: 'Set when the job failed with an error (string or JSON object).',
    oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }],
    example: 'renderer crashed',
  })
  error?: string | Record<string, unknown>;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T12:00:01.250Z' })
  updated_at: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Finished jobs only: when the job and its index entries disappear (JOBS_RETENTION_SECONDS).',
    example: '2026-01-08T12:00:01.250Z',
  })
  expires_at?: string;

  @ApiProperty({ description: 'X-Request-Id of the request that created the job.', example: 'req-7f3a' })
  correlation_id: string;

  @ApiProperty({ type: [JobHistoryEntry], description: 'Every status the job has had, oldest first.' })
  history: JobHistoryEntry[];
}

/** One page of `GET /jobs`, newest first. */
export class JobPage {
  @ApiProperty({ type: [Job] })
  items: Job[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `cursor` to get the next page; null on the last page.',
    example: 'MTc2NzIyNTYwMDEyMzQ1NjozZjFjMmE5ZS04YjdkLTRjNmUtOWE1Yi0wZDFlMmYzYTRiNWM',
  })
  next_cursor: string | null;
}

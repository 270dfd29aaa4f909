import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsOptional } from 'class-validator';
import {
  ANY_JSON_SCHEMA,
  JOB_ERROR_MAX_LENGTH,
  JOB_TARGET_STATUSES,
  JobTargetStatus,
  JOBS_MESSAGES,
} from '../jobs.constants';
import { JSON_BODY_LIMITS_TEXT } from '../../common/json-body';
import { IsJobError, OnlyWithStatus } from './job-validators';

/** Body of `PATCH /jobs/:id`: a status transition, with the outcome of a finished job. */
export class UpdateJobDto {
  @ApiProperty({
    enum: JOB_TARGET_STATUSES,
    description: 'pending → running → succeeded | failed, or pending → failed.',
    example: 'succeeded',
  })
  @IsDefined({ message: 'status is required' })
  @IsIn(JOB_TARGET_STATUSES, { message: `status must be one of: ${JOB_TARGET_STATUSES.join(', ')}` })
  status: JobTargetStatus;

  @ApiPropertyOptional({
    description: `Only with status succeeded, a JSON value of any type, stored as given. ${JSON_BODY_LIMITS_TEXT}`,
    ...ANY_JSON_SCHEMA,
    example: { pages: 3 },
  })
  @IsOptional()
  @OnlyWithStatus('succeeded', { message: JOBS_MESSAGES.resultNeedsSucceeded })
  result?: unknown;

  @ApiPropertyOptional({
    description: `Only with status failed: a string (at most ${JOB_ERROR_MAX_LENGTH} characters) or a JSON object, stored as given. ${JSON_BODY_LIMITS_TEXT}`,
    oneOf: [
      { type: 'string', maxLength: JOB_ERROR_MAX_LENGTH },
      { type: 'object', additionalProperties: true },
    ],
    example: 'renderer crashed',
  })
  @IsOptional()
  @OnlyWithStatus('failed', { message: JOBS_MESSAGES.errorNeedsFailed })
  @IsJobError()
  error?: string | Record<string, unknown>;
}

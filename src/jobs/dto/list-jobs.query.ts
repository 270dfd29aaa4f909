import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { JOB_STATUSES, JobStatus, JOBS_LIST_DEFAULT_LIMIT, JOBS_LIST_MAX_LIMIT } from '../jobs.constants';
import { IsJobCursor, ToInt } from './job-validators';

const LIMIT_MESSAGE = `limit must be an integer from 1 to ${JOBS_LIST_MAX_LIMIT}`;

/** Query of `GET /jobs`. */
export class ListJobsQuery {
  @ApiPropertyOptional({ enum: JOB_STATUSES, description: 'Only jobs with this status.' })
  @IsOptional()
  @IsIn(JOB_STATUSES, { message: `status must be one of: ${JOB_STATUSES.join(', ')}` })
  status?: JobStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: JOBS_LIST_MAX_LIMIT, default: JOBS_LIST_DEFAULT_LIMIT })
  @IsOptional()
  @ToInt()
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(JOBS_LIST_MAX_LIMIT, { message: LIMIT_MESSAGE })
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page (opaque).' })
  @IsOptional()
  @IsJobCursor()
  cursor?: string;
}

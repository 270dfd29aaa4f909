import { ApiProperty } from '@nestjs/swagger';
import { IsDefined } from 'class-validator';
import { JSON_BODY_LIMITS_TEXT } from '../../common/json-body';
import { JOB_TYPE_MAX_LENGTH, JOBS_MESSAGES } from '../jobs.constants';
import { IsJobType, IsPlainObject } from './job-validators';

/** Body of `POST /jobs`. */
export class CreateJobDto {
  @ApiProperty({
    description: 'What kind of job this is.',
    example: 'report.render',
    minLength: 1,
    maxLength: JOB_TYPE_MAX_LENGTH,
  })
  @IsDefined({ message: 'type is required' })
  @IsJobType()
  type: string;

  @ApiProperty({
    description: `Job input, a JSON object of any shape, stored as given. ${JSON_BODY_LIMITS_TEXT}`,
    type: 'object',
    additionalProperties: true,
    example: { reportId: 42 },
  })
  @IsDefined({ message: 'payload is required' })
  @IsPlainObject({ message: JOBS_MESSAGES.payloadNotObject })
  payload: Record<string, unknown>;
}

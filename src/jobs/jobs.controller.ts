import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CorrelationId } from './correlation-id';
import { CreateJobDto } from './dto/create-job.dto';
import { ListJobsQuery } from './dto/list-jobs.query';
import { UpdateJobDto } from './dto/update-job.dto';
import { Job, JobPage } from './dto/job.dto';
import { JobStoreReadyGuard } from './job-store-ready.guard';
import { JobStoreUnavailableFilter, STORE_UNAVAILABLE_BODY } from './job-store-unavailable.filter';
import { JobIdPipe, JobsValidationPipe } from './jobs-validation.pipe';
import { JOBS_MESSAGES } from './jobs.constants';
import { JobsService } from './jobs.service';

const EXAMPLE_ID = '3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c';
const errorExample = (statusCode: number, error: string, message: string) => ({
  schema: { example: { statusCode, message, error } },
});
const ID_PARAM = ApiParam({ name: 'id', format: 'uuid', description: 'Job id (UUID v4).', example: EXAMPLE_ID });

/** Redis-backed job state: create, read, move through the lifecycle, list. */
@ApiTags('jobs')
@ApiHeader({
  name: 'X-Request-Id',
  required: false,
  description: 'Correlation id (`[A-Za-z0-9._:-]{1,128}`); generated when absent or invalid, and echoed.',
})
@ApiServiceUnavailableResponse({
  description: 'Redis is unreachable or hung (answered at once while the redis health check is down).',
  schema: { example: STORE_UNAVAILABLE_BODY },
})
@Controller('jobs')
@UsePipes(JobsValidationPipe)
@UseGuards(JobStoreReadyGuard)
@UseFilters(JobStoreUnavailableFilter)
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Create a job (status pending)' })
  @ApiCreatedResponse({ type: Job, description: 'The new job.' })
  @ApiBadRequestResponse({
    description: 'Invalid body; the message names the field.',
    ...errorExample(400, 'Bad Request', JOBS_MESSAGES.payloadNotObject),
  })
  @ApiPayloadTooLargeResponse({ description: 'Body larger than BODY_LIMIT_BYTES (default 1 MiB).' })
  create(@Body() dto: CreateJobDto, @CorrelationId() correlationId: string): Promise<Job> {
    return this.jobs.create(dto, correlationId);
  }

  @Get()
  @ApiOperation({ summary: 'List jobs, newest first' })
  @ApiOkResponse({ type: JobPage })
  @ApiBadRequestResponse({
    description: 'Invalid status, limit or cursor.',
    ...errorExample(400, 'Bad Request', JOBS_MESSAGES.invalidCursor),
  })
  list(@Query() query: ListJobsQuery): Promise<JobPage> {
    return this.jobs.list(query);
  }

  @Get(':id')
  @ID_PARAM
  @ApiOperation({ summary: 'Get one job' })
  @ApiOkResponse({ type: Job })
  @ApiBadRequestResponse({
    description: 'The id is not a UUID v4.',
    ...errorExample(400, 'Bad Request', JOBS_MESSAGES.invalidId),
  })
  @ApiNotFoundResponse({
    description: 'No such job (or it expired).',
    ...errorExample(404, 'Not Found', JOBS_MESSAGES.notFound(EXAMPLE_ID)),
  })
  get(@Param('id', JobIdPipe) id: string): Promise<Job> {
    return this.jobs.get(id);
  }

  @Patch(':id')
  @ID_PARAM
  @ApiOperation({ summary: 'Change the status of a job (pending → running → succeeded | failed, pending → failed)' })
  @ApiOkResponse({ type: Job, description: 'The updated job.' })
  @ApiBadRequestResponse({
    description: 'Invalid id or body.',
    ...errorExample(400, 'Bad Request', 'status must be one of: running, succeeded, failed'),
  })
  @ApiNotFoundResponse({
    description: 'No such job (or it expired).',
    ...errorExample(404, 'Not Found', JOBS_MESSAGES.notFound(EXAMPLE_ID)),
  })
  @ApiConflictResponse({
    description: 'The transition is not allowed from the current status.',
    schema: {
      example: {
        statusCode: 409,
        message: JOBS_MESSAGES.invalidTransition('succeeded', 'running'),
        error: 'Conflict',
        current_status: 'succeeded',
      },
    },
  })
  update(@Param('id', JobIdPipe) id: string, @Body() dto: UpdateJobDto): Promise<Job> {
    return this.jobs.update(id, dto);
  }
}

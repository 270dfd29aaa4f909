import { BadRequestException, ConflictException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CreateJobDto } from './dto/create-job.dto';
import { ListJobsQuery } from './dto/list-jobs.query';
import { UpdateJobDto } from './dto/update-job.dto';
import { decodeCursor } from './job-cursor';
import { Job, JobPage } from './dto/job.dto';
import { JobStore } from './job-store';
import { JOBS_LIST_DEFAULT_LIMIT, JOBS_MESSAGES } from './jobs.constants';

/** The jobs use cases; HTTP mapping of outcomes (404, 409) happens here. */
@Injectable()
export class JobsService {
  constructor(private readonly store: JobStore) {}

  create(dto: CreateJobDto, correlationId: string): Promise<Job> {
    return this.store.create({ id: randomUUID(), type: dto.type, payload: dto.payload, correlationId });
  }

  async get(id: string): Promise<Job> {
    const job = await this.store.get(id);
    if (!job) throw new NotFoundException(JOBS_MESSAGES.notFound(id));
    return job;
  }

  async update(id: string, dto: UpdateJobDto): Promise<Job> {
    const change = await this.store.transition(id, {
      status: dto.status,
      ...(dto.result !== undefined && dto.result !== null ? { result: dto.result } : {}),
      ...(dto.error !== undefined && dto.error !== null ? { error: dto.error } : {}),
    });
    switch (change.outcome) {
      case 'ok':
        return change.job;
      case 'missing':
        throw new NotFoundException(JOBS_MESSAGES.notFound(id));
      case 'conflict':
        throw new ConflictException({
          statusCode: HttpStatus.CONFLICT,
          message: JOBS_MESSAGES.invalidTransition(change.current, dto.status),
          error: 'Conflict',
          current_status: change.current,
        });
    }
  }

  async list(query: ListJobsQuery): Promise<JobPage> {
    let after: string | undefined;
    if (query.cursor !== undefined) {
      const member = decodeCursor(query.cursor);
      if (member === null) throw new BadRequestException(JOBS_MESSAGES.invalidCursor);
      after = member;
    }
    const page = await this.store.list({ status: query.status, limit: query.limit ?? JOBS_LIST_DEFAULT_LIMIT, after });
    return { items: page.items, next_cursor: page.nextCursor };
  }
}

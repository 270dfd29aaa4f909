import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Job } from './dto/job.dto';
import { JobStore } from './job-store';
import { JOBS_LIST_DEFAULT_LIMIT, JOBS_MESSAGES } from './jobs.constants';
import { JobsService } from './jobs.service';

const job = { id: 'j1', type: 'report.render', status: 'running' } as Job;

describe('JobsService', () => {
  let service: JobsService;
  const store = { create: jest.fn(), get: jest.fn(), transition: jest.fn(), list: jest.fn() };

  beforeEach(async () => {
    jest.resetAllMocks();
    const moduleRef = await Test.createTestingModule({
      providers: [JobsService, { provide: JobStore, useValue: store }],
    }).compile();
    service = moduleRef.get(JobsService);
  });

  it('answers 404 for a job the store does not have', async () => {
    store.get.mockResolvedValue(null);
    await expect(service.get('nope')).rejects.toThrow(new NotFoundException(JOBS_MESSAGES.notFound('nope')));
  });

  it('returns the job a transition produced', async () => {
    store.transition.mockResolvedValue({ outcome: 'ok', job });
    await expect(service.update('j1', { status: 'running' } as never)).resolves.toBe(job);
  });

  it('answers 404 when the job to update is missing', async () => {
    store.transition.mockResolvedValue({ outcome: 'missing' });
    await expect(service.update('j1', { status: 'running' } as never)).rejects.toBeInstanceOf(NotFoundException);
  });

  it('answers 409 with the current status when the transition is not allowed', async () => {
    store.transition.mockResolvedValue({ outcome: 'conflict', current: 'succeeded' });
    const error = await service.update('j1', { status: 'running' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictException);
    expect((error as ConflictException).getResponse()).toEqual({
      statusCode: 409,
      message: JOBS_MESSAGES.invalidTransition('succeeded', 'running'),
      error: 'Conflict',
      current_status: 'succeeded',
    });
  });

  it('answers 400 for a cursor it cannot decode, without asking the store', async () => {
    await expect(service.list({ cursor: '%%%' })).rejects.toBeInstanceOf(BadRequestException);
    expect(store.list).not.toHaveBeenCalled();
  });

  it('lists with the default limit and returns the next cursor in the API shape', async () => {
    store.list.mockResolvedValue({ items: [job], nextCursor: 'abc' });
    await expect(service.list({})).resolves.toEqual({ items: [job], next_cursor: 'abc' });
    expect(store.list).toHaveBeenCalledWith({ status: undefined, limit: JOBS_LIST_DEFAULT_LIMIT, after: undefined });
  });
});

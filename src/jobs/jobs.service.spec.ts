import { BadRequestException, ConflictException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Job } from './dto/job.dto';
import { encodeCursor } from './job-cursor';
import { JobStore, JobStoreUnavailableError } from './job-store';
import { JOB_STATUSES, JOBS_LIST_DEFAULT_LIMIT, JOBS_MESSAGES } from './jobs.constants';
import { JobsService } from './jobs.service';

const ID = '3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c';
const job = { id: ID, type: 'report.render', status: 'running' } as Job;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The HttpException a call failed with. */
async function httpErrorOf(call: Promise<unknown>): Promise<HttpException> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HttpException)) throw new Error(`expected an HttpException, got ${String(error)}`);
  return error;
}

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

  describe('create', () => {
    it('stores the type, payload and correlation id under a new UUID v4', async () => {
      store.create.mockResolvedValue(job);

      await expect(service.create({ type: 'report.render', payload: { reportId: 42 } }, 'req-1')).resolves.toBe(job);
      expect(store.create).toHaveBeenCalledWith({
        id: expect.stringMatching(UUID_V4),
        type: 'report.render',
        payload: { reportId: 42 },
        correlationId: 'req-1',
      });
    });

    it('gives every job its own id', async () => {
      await service.create({ type: 't', payload: {} }, 'req-1');
      await service.create({ type: 't', payload: {} }, 'req-1');

      const [[first], [second]] = store.create.mock.calls as [[{ id: string }], [{ id: string }]];
      expect(first.id).not.toBe(second.id);
    });
  });

  describe('get', () => {
    it('returns the job the store has', async () => {
      store.get.mockResolvedValue(job);

      await expect(service.get(ID)).resolves.toBe(job);
    });

    it('answers 404 naming the id of a job the store does not have', async () => {
      store.get.mockResolvedValue(null);

      const error = await httpErrorOf(service.get(ID));

      expect(error).toBeInstanceOf(NotFoundException);
      expect(error.getStatus()).toBe(HttpStatus.NOT_FOUND);
      expect(error.getResponse()).toEqual({ statusCode: 404, message: JOBS_MESSAGES.notFound(ID), error: 'Not Found' });
    });
  });

  describe('update', () => {
    it('returns the job a transition produced', async () => {
      store.transition.mockResolvedValue({ outcome: 'ok', job });

      await expect(service.update(ID, { status: 'running' })).resolves.toBe(job);
    });

    it('answers 404 naming the id when the job to update is missing', async () => {
      store.transition.mockResolvedValue({ outcome: 'missing' });

      const error = await httpErrorOf(service.update(ID, { status: 'running' }));

      expect(error).toBeInstanceOf(NotFoundException);
      expect(error.getStatus()).toBe(HttpStatus.NOT_FOUND);
      expect(error.getResponse()).toEqual({ statusCode: 404, message: JOBS_MESSAGES.notFound(ID), error: 'Not Found' });
    });

    it('answers 409 with the current status when the transition is not allowed', async () => {
      store.transition.mockResolvedValue({ outcome: 'conflict', current: 'succeeded' });

      const error = await httpErrorOf(service.update(ID, { status: 'running' }));

      expect(error).toBeInstanceOf(ConflictException);
      expect(error.getStatus()).toBe(HttpStatus.CONFLICT);
      expect(error.getResponse()).toEqual({
        statusCode: 409,
        message: JOBS_MESSAGES.invalidTransition('succeeded', 'running'),
        error: 'Conflict',
        current_status: 'succeeded',
      });
    });

    it.each(JOB_STATUSES)('names the current status %s and the requested one in a 409', async (current) => {
      store.transition.mockResolvedValue({ outcome: 'conflict', current });

      const error = await httpErrorOf(service.update(ID, { status: 'failed' }));

      expect(error.getResponse()).toMatchObject({
        message: JOBS_MESSAGES.invalidTransition(current, 'failed'),
        current_status: current,
      });
    });

    it('passes a result on to the store', async () => {
      store.transition.mockResolvedValue({ outcome: 'ok', job });

      await service.update(ID, { status: 'succeeded', result: { pages: 3 } });

      expect(store.transition).toHaveBeenCalledWith(ID, { status: 'succeeded', result: { pages: 3 } });
    });

    it('passes an error on to the store', async () => {
      store.transition.mockResolvedValue({ outcome: 'ok', job });

      await service.update(ID, { status: 'failed', error: 'renderer crashed' });

      expect(store.transition).toHaveBeenCalledWith(ID, { status: 'failed', error: 'renderer crashed' });
    });

    it('leaves out a null result or error', async () => {
      store.transition.mockResolvedValue({ outcome: 'ok', job });

      await service.update(ID, { status: 'failed', result: null, error: null } as never);

      expect(store.transition).toHaveBeenCalledWith(ID, { status: 'failed' });
    });

    it('keeps a falsy result such as 0', async () => {
      store.transition.mockResolvedValue({ outcome: 'ok', job });

      await service.update(ID, { status: 'succeeded', result: 0 });

      expect(store.transition).toHaveBeenCalledWith(ID, { status: 'succeeded', result: 0 });
    });
  });

  describe('list', () => {
    it('lists with the default limit and returns the next cursor in the API shape', async () => {
      store.list.mockResolvedValue({ items: [job], nextCursor: 'abc' });

      await expect(service.list({})).resolves.toEqual({ items: [job], next_cursor: 'abc' });
      expect(store.list).toHaveBeenCalledWith({ status: undefined, limit: JOBS_LIST_DEFAULT_LIMIT, after: undefined });
    });

    it('passes the status filter and the limit on', async () => {
      store.list.mockResolvedValue({ items: [], nextCursor: null });

      await service.list({ status: 'failed', limit: 5 });

      expect(store.list).toHaveBeenCalledWith({ status: 'failed', limit: 5, after: undefined });
    });

    it('lists after the index member a cursor points to', async () => {
      const member = `1767268800000000:${ID}`;
      store.list.mockResolvedValue({ items: [], nextCursor: null });

      await service.list({ cursor: encodeCursor(member) });

      expect(store.list).toHaveBeenCalledWith(expect.objectContaining({ after: member }));
    });

    it('answers 400 for a cursor it cannot decode, without asking the store', async () => {
      const error = await httpErrorOf(service.list({ cursor: '%%%' }));

      expect(error).toBeInstanceOf(BadRequestException);
      expect(error.getResponse()).toMatchObject({ statusCode: 400, message: JOBS_MESSAGES.invalidCursor });
      expect(store.list).not.toHaveBeenCalled();
    });
  });

  describe('when the store is unavailable', () => {
    const unavailable = new JobStoreUnavailableError('transition', { cause: new Error('connect ECONNREFUSED') });

    it.each<[string, (s: JobsService) => Promise<unknown>, keyof typeof store]>([
      ['create', (s) => s.create({ type: 't', payload: {} }, 'req-1'), 'create'],
      ['get', (s) => s.get(ID), 'get'],
      ['update', (s) => s.update(ID, { status: 'running' }), 'transition'],
      ['list', (s) => s.list({}), 'list'],
    ])('%s lets the store error through for the 503 filter, not as an HTTP error', async (_op, call, method) => {
      store[method].mockRejectedValue(unavailable);

      await expect(call(service)).rejects.toBe(unavailable);
    });
  });
});

import { NotFoundException } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { HealthMonitor } from '../health/health-monitor';
import type { CheckView } from '../health/health-snapshot';
import type { Job, JobPage } from './dto/job.dto';
import { JobStoreUnavailableError } from './job-store';
import { JOBS_MESSAGES } from './jobs.constants';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

const ID = '3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c';
const job: Job = {
  id: ID,
  type: 'report.render',
  status: 'pending',
  payload: { reportId: 42 },
  created_at: '2030-01-01T12:00:00.000Z',
  updated_at: '2030-01-01T12:00:00.000Z',
  correlation_id: 'req-1',
  history: [{ status: 'pending', at: '2030-01-01T12:00:00.000Z' }],
};
const page: JobPage = { items: [job], next_cursor: null };

describe('JobsController', () => {
  const jobs = { create: jest.fn(), list: jest.fn(), get: jest.fn(), update: jest.fn() };
  let redisCheck: Partial<CheckView>;
  const monitor = { provide: HealthMonitor, useValue: { check: () => redisCheck } };

  beforeEach(() => {
    jest.resetAllMocks();
    redisCheck = { name: 'redis', status: 'up' };
  });

  describe('handlers', () => {
    let controller: JobsController;

    beforeEach(async () => {
      const moduleRef = await Test.createTestingModule({
        controllers: [JobsController],
        providers: [{ provide: JobsService, useValue: jobs }, monitor],
      }).compile();
      controller = moduleRef.get(JobsController);
    });

    it('creates a job with the request’s correlation id', async () => {
      jobs.create.mockResolvedValue(job);
      const dto = { type: 'report.render', payload: { reportId: 42 } };

      await expect(controller.create(dto, 'req-1')).resolves.toBe(job);
      expect(jobs.create).toHaveBeenCalledWith(dto, 'req-1');
    });

    it('lists with the query as given', async () => {
      jobs.list.mockResolvedValue(page);

      await expect(controller.list({ status: 'running', limit: 5 })).resolves.toBe(page);
      expect(jobs.list).toHaveBeenCalledWith({ status: 'running', limit: 5 });
    });

    it('gets one job by id', async () => {
      jobs.get.mockResolvedValue(job);

      await expect(controller.get(ID)).resolves.toBe(job);
      expect(jobs.get).toHaveBeenCalledWith(ID);
    });

    it('updates one job by id', async () => {
      jobs.update.mockResolvedValue({ ...job, status: 'running' });

      await expect(controller.update(ID, { status: 'running' })).resolves.toMatchObject({ status: 'running' });
      expect(jobs.update).toHaveBeenCalledWith(ID, { status: 'running' });
    });

    it('lets the service’s HTTP errors through unchanged', async () => {
      const notFound = new NotFoundException(JOBS_MESSAGES.notFound(ID));
      jobs.get.mockRejectedValue(notFound);

      await expect(controller.get(ID)).rejects.toBe(notFound);
    });
  });

  /** The controller's own route declarations (status codes, pipes, filter), through Fastify's inject: no socket. */
  describe('routes', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        controllers: [JobsController],
        providers: [{ provide: JobsService, useValue: jobs }, monitor],
      }).compile();
      app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
    });
    afterAll(async () => {
      await app?.close();
    });

    const unavailable = () =>
      new JobStoreUnavailableError('get', {
        cause: Object.assign(new Error('connect ECONNREFUSED redis://:hunter2@10.0.0.7:6379'), {
          code: 'ECONNREFUSED',
        }),
      });

    it('answers 201 with the new job', async () => {
      jobs.create.mockResolvedValue(job);

      const res = await app.inject({ method: 'POST', url: '/jobs', payload: { type: 'report.render', payload: {} } });

      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual(job);
    });

    it('takes a valid X-Request-Id as the correlation id', async () => {
      jobs.create.mockResolvedValue(job);

      await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: { 'x-request-id': 'order-7781' },
        payload: { type: 'report.render', payload: {} },
      });

      expect(jobs.create).toHaveBeenCalledWith({ type: 'report.render', payload: {} }, 'order-7781');
    });

    it('generates a correlation id for an invalid X-Request-Id and echoes it', async () => {
      jobs.create.mockResolvedValue(job);

      const res = await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: { 'x-request-id': 'not valid; has spaces' },
        payload: { type: 'report.render', payload: {} },
      });

      const [, correlationId] = jobs.create.mock.calls[0] as [unknown, string];
      expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['x-request-id']).toBe(correlationId);
    });

    it('answers 400 for an invalid body without calling the service', async () => {
      const res = await app.inject({ method: 'POST', url: '/jobs', payload: { type: 'x', payload: {}, extra: 1 } });

      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ message: JOBS_MESSAGES.unknownField('extra') });
      expect(jobs.create).not.toHaveBeenCalled();
    });

    it('answers 400 for an id that is not a UUID v4 without calling the service', async () => {
      const res = await app.inject({ method: 'GET', url: '/jobs/42' });

      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ message: JOBS_MESSAGES.invalidId });
      expect(jobs.get).not.toHaveBeenCalled();
    });

    it('asks the service with the id in lower case', async () => {
      jobs.get.mockResolvedValue(job);

      await app.inject({ method: 'GET', url: `/jobs/${ID.toUpperCase()}` });

      expect(jobs.get).toHaveBeenCalledWith(ID);
    });

    it('converts the list query to its types', async () => {
      jobs.list.mockResolvedValue(page);

      const res = await app.inject({ method: 'GET', url: '/jobs?status=failed&limit=5' });

      expect(res.statusCode).toBe(200);
      expect(jobs.list).toHaveBeenCalledWith(expect.objectContaining({ status: 'failed', limit: 5 }));
    });

    it('answers 503 with Retry-After: 1 at once while the redis check is down, without calling the service', async () => {
      redisCheck = { name: 'redis', status: 'down', message: 'connection refused' };

      const res = await app.inject({ method: 'POST', url: '/jobs', payload: { type: 'report.render', payload: {} } });

      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({ statusCode: 503, message: JOBS_MESSAGES.storeUnavailable });
      expect(jobs.create).not.toHaveBeenCalled();
    });

    it('answers 503 with Retry-After: 1 when the job store is unavailable', async () => {
      jobs.get.mockRejectedValue(unavailable());

      const res = await app.inject({ method: 'GET', url: `/jobs/${ID}` });

      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
    });

    it('says only "job store unavailable" in a 503: no cause, host or credentials', async () => {
      jobs.get.mockRejectedValue(unavailable());

      const res = await app.inject({ method: 'GET', url: `/jobs/${ID}` });

      expect(res.json()).toEqual({ statusCode: 503, message: JOBS_MESSAGES.storeUnavailable });
      expect(res.body).not.toMatch(/hunter2|10\.0\.0\.7|ECONNREFUSED/);
    });
  });
});

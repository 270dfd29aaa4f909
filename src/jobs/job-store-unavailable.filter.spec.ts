import { ArgumentsHost, HttpStatus } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { accessErrorMessage, accessErrorObject, accessLogLevel } from '../logging/pino-options';
import { JobStoreUnavailableError } from './job-store';
import { JobStoreUnavailableFilter } from './job-store-unavailable.filter';
import { JOBS_MESSAGES } from './jobs.constants';

/** What Fastify's reply offers the filter; records what was sent. */
interface FakeReply {
  raw: ServerResponse;
  status: jest.Mock<FakeReply, [number]>;
  header: jest.Mock<FakeReply, [string, string]>;
  send: jest.Mock<FakeReply, [unknown]>;
}

function fakeReply(): FakeReply {
  const raw = new ServerResponse(new IncomingMessage(new Socket()));
  const reply: FakeReply = {
    raw,
    status: jest.fn((code: number) => {
      raw.statusCode = code;
      return reply;
    }),
    header: jest.fn<FakeReply, [string, string]>(() => reply),
    send: jest.fn<FakeReply, [unknown]>(() => reply),
  };
  return reply;
}

function hostFor(request: object, reply: object): ArgumentsHost {
  return { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
}

const refused = Object.assign(new Error('connect ECONNREFUSED redis://jobs:hunter2@10.0.0.7:6379'), {
  code: 'ECONNREFUSED',
});
const request = { method: 'PATCH', url: '/jobs/3f1c2a9e?x=1', routeOptions: { url: '/jobs/:id' } };

describe('JobStoreUnavailableFilter', () => {
  let filter: JobStoreUnavailableFilter;
  let reply: FakeReply;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ providers: [JobStoreUnavailableFilter] }).compile();
    filter = moduleRef.get(JobStoreUnavailableFilter);
    reply = fakeReply();
  });

  const noteFields = () =>
    accessErrorObject(
      {} as IncomingMessage,
      reply.raw,
      new Error(`failed with status code ${reply.raw.statusCode}`),
      {},
    );

  it('answers 503', () => {
    filter.catch(new JobStoreUnavailableError('transition', { cause: refused }), hostFor(request, reply));

    expect(reply.status).toHaveBeenCalledWith(HttpStatus.SERVICE_UNAVAILABLE);
  });

  it('asks the client to retry after a second', () => {
    filter.catch(new JobStoreUnavailableError('transition', { cause: refused }), hostFor(request, reply));

    expect(reply.header).toHaveBeenCalledWith('Retry-After', '1');
  });

  it('sends only "job store unavailable": no host, credentials, cause or stack', () => {
    filter.catch(new JobStoreUnavailableError('transition', { cause: refused }), hostFor(request, reply));

    expect(reply.send).toHaveBeenCalledWith({ statusCode: 503, message: JOBS_MESSAGES.storeUnavailable });
    const sent = JSON.stringify(reply.send.mock.calls[0]);
    for (const secret of ['hunter2', '10.0.0.7', 'ECONNREFUSED', 'stack']) expect(sent).not.toContain(secret);
  });

  it('marks the access line as an expected failure, logged at warn', () => {
    filter.catch(new JobStoreUnavailableError('transition', { cause: refused }), hostFor(request, reply));

    expect(accessLogLevel({} as IncomingMessage, reply.raw)).toBe('warn');
  });

  it('names the route template and the classified failure in the access line', () => {
    filter.catch(new JobStoreUnavailableError('transition', { cause: refused }), hostFor(request, reply));

    expect(accessErrorMessage({} as IncomingMessage, reply.raw)).toBe(
      'job store unavailable: PATCH /jobs/:id answered 503 (connection refused)',
    );
  });

  it('falls back to the raw URL when no route matched', () => {
    const unrouted = { method: 'GET', url: '/jobs', routeOptions: {} };

    filter.catch(new JobStoreUnavailableError('list', { cause: refused }), hostFor(unrouted, reply));

    expect(accessErrorMessage({} as IncomingMessage, reply.raw)).toBe(
      'job store unavailable: GET /jobs answered 503 (connection refused)',
    );
  });

  it('puts the operation, the failure class and the redacted reason on the access line', () => {
    filter.catch(new JobStoreUnavailableError('transition', { cause: refused }), hostFor(request, reply));

    expect(noteFields()).toEqual({
      operation: 'transition',
      failure: 'connection refused',
      reason: 'connect ECONNREFUSED redis://jobs:***@10.0.0.7:6379',
    });
  });

  it('classifies a hung store as a timeout', () => {
    const hung = Object.assign(new Error('Command timed out'), { name: 'TimeoutError' });

    filter.catch(new JobStoreUnavailableError('get', { cause: hung }), hostFor(request, reply));

    expect(noteFields()).toMatchObject({ operation: 'get', failure: 'timeout' });
  });
});

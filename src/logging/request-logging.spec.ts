import { Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { appConfig } from '../config/app.config';
import { noteOnAccessLine } from './pino-options';
import { RequestLogging } from './request-logging';

type OnRequest = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/** A root logger that keeps its lines in memory, in place of the one nestjs-pino builds. */
function memoryLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  return {
    logger,
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A Fastify request/reply pair over Node's own request and response objects. */
function exchange(route: string | undefined, id = 'req-42') {
  const raw = new IncomingMessage(new Socket());
  raw.method = 'GET';
  raw.url = route ?? '/nowhere';
  const res = new ServerResponse(raw);
  const request = { id, raw, routeOptions: { url: route } } as unknown as FastifyRequest;
  const reply = { raw: res } as unknown as FastifyReply;
  return { request, reply, raw, res };
}

/** The response as Node leaves it once an answer with `status` was sent. */
function respond(res: ServerResponse, status: number): void {
  res.statusCode = status;
  Object.defineProperty(res, 'writableEnded', { value: true });
  res.emit('finish');
}

describe('RequestLogging', () => {
  let fastify: { addHook: jest.Mock };
  let memory: ReturnType<typeof memoryLogger>;

  async function build(logLevel: string, type: string | null = 'fastify'): Promise<RequestLogging> {
    fastify = { addHook: jest.fn() };
    const httpAdapter = type ? { getType: () => type, getInstance: () => fastify } : undefined;
    const moduleRef = await Test.createTestingModule({
      providers: [
        RequestLogging,
        { provide: HttpAdapterHost, useValue: { httpAdapter } },
        { provide: appConfig.KEY, useValue: { logLevel } },
      ],
    }).compile();
    return moduleRef.get(RequestLogging);
  }

  async function installedHook(): Promise<OnRequest> {
    const logging = await build('info');
    logging.onModuleInit();
    const [[event, hook]] = fastify.addHook.mock.calls as [[string, OnRequest]];
    expect(event).toBe('onRequest');
    return hook;
  }

  beforeEach(() => {
    memory = memoryLogger();
    jest.replaceProperty(PinoLogger, 'root', memory.logger);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('installation', () => {
    it('adds one onRequest hook on Fastify', async () => {
      await installedHook();

      expect(fastify.addHook).toHaveBeenCalledTimes(1);
    });

    it('adds no hook at all with LOG_LEVEL=silent', async () => {
      const logging = await build('silent');

      logging.onModuleInit();

      expect(fastify.addHook).not.toHaveBeenCalled();
    });

    it('adds no hook in an application without an HTTP adapter', async () => {
      const logging = await build('info', null);

      expect(() => logging.onModuleInit()).not.toThrow();
    });

    it('warns that another adapter’s requests are not logged', async () => {
      const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const logging = await build('info', 'express');

      logging.onModuleInit();

      expect(fastify.addHook).not.toHaveBeenCalled();
      expect(warned).toHaveBeenCalledWith('access logging needs the Fastify adapter; express requests are not logged');
    });
  });

  describe('the hook', () => {
    it('lets every request go on', async () => {
      const hook = await installedHook();
      const { request, reply } = exchange('/jobs');
      const done = jest.fn();

      hook(request, reply, done);

      expect(done).toHaveBeenCalledTimes(1);
    });

    it('writes one access line, with the request id, when the response ends', async () => {
      const hook = await installedHook();
      const { request, reply, res } = exchange('/jobs/:id', 'order-7781');

      hook(request, reply, jest.fn());
      expect(memory.lines()).toHaveLength(0);
      respond(res, 200);

      expect(memory.lines()).toEqual([
        expect.objectContaining({ level: 30, reqId: 'order-7781', msg: 'request completed' }),
      ]);
    });

    it('gives the raw request Fastify’s request id, so the access line carries the X-Request-Id', async () => {
      const hook = await installedHook();
      const { request, reply, raw } = exchange('/jobs', 'order-7781');

      hook(request, reply, jest.fn());

      expect((raw as IncomingMessage & { id?: string }).id).toBe('order-7781');
    });

    it.each(['/health', '/health/ready', '/health/:check', '/ready', '/metrics'])(
      'writes nothing for %s, a probe or scrape route',
      async (route) => {
        const hook = await installedHook();
        const { request, reply, res } = exchange(route);
        const done = jest.fn();

        hook(request, reply, done);
        respond(res, 200);

        expect(done).toHaveBeenCalledTimes(1);
        expect(memory.lines()).toHaveLength(0);
      },
    );

    it('logs a request no route matched', async () => {
      const hook = await installedHook();
      const { request, reply, res } = exchange(undefined);

      hook(request, reply, jest.fn());
      respond(res, 404);

      expect(memory.lines()).toEqual([expect.objectContaining({ level: 40 })]);
    });

    it('writes a noted 503 at warn with its note, without pino-http’s invented error', async () => {
      const hook = await installedHook();
      const { request, reply, res } = exchange('/jobs');

      hook(request, reply, jest.fn());
      noteOnAccessLine(res, {
        msg: 'job store unavailable: GET /jobs answered 503 (timeout)',
        fields: { failure: 'timeout' },
      });
      respond(res, 503);

      const [line] = memory.lines();
      expect(line).toMatchObject({
        level: 40,
        msg: 'job store unavailable: GET /jobs answered 503 (timeout)',
        failure: 'timeout',
      });
      expect(line).not.toHaveProperty('err');
    });
  });
});

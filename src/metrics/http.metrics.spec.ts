import { Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Registry } from 'prom-client';
import { metricsConfig } from './metrics.config';
import { HttpMetrics } from './http.metrics';
import { UNMATCHED_ROUTE } from './metrics.constants';

type OnResponse = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

describe('HttpMetrics', () => {
  let fastify: { addHook: jest.Mock };

  async function build(enabled: boolean, type: string | null = 'fastify'): Promise<HttpMetrics> {
    fastify = { addHook: jest.fn() };
    const httpAdapter = type ? { getType: () => type, getInstance: () => fastify } : undefined;
    const moduleRef = await Test.createTestingModule({
      providers: [
        HttpMetrics,
        { provide: Registry, useValue: new Registry() },
        { provide: HttpAdapterHost, useValue: { httpAdapter } },
        { provide: metricsConfig.KEY, useValue: { enabled } },
      ],
    }).compile();
    return moduleRef.get(HttpMetrics);
  }

  async function installed(): Promise<{ metrics: HttpMetrics; hook: OnResponse }> {
    const metrics = await build(true);
    metrics.onModuleInit();
    const [[event, hook]] = fastify.addHook.mock.calls as [[string, OnResponse]];
    expect(event).toBe('onResponse');
    return { metrics, hook };
  }

  const answered = (method: string, route: string | undefined, statusCode: number, elapsedMs: number) => ({
    request: { method, routeOptions: { url: route } } as unknown as FastifyRequest,
    reply: { statusCode, elapsedTime: elapsedMs } as unknown as FastifyReply,
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('observes each answer by method, route template and status code, in seconds', async () => {
    const { metrics, hook } = await installed();
    const { request, reply } = answered('GET', '/jobs/:id', 404, 2.5);

    hook(request, reply, jest.fn());

    const { values } = await metrics.histogram.get();
    expect(values).toContainEqual(
      expect.objectContaining({
        metricName: 'http_request_duration_seconds_sum',
        labels: { method: 'GET', route: '/jobs/:id', status_code: 404 },
        value: 0.0025,
      }),
    );
  });

  it('labels a request no route matched "unmatched", never with its raw path', async () => {
    const { metrics, hook } = await installed();
    const { request, reply } = answered('GET', undefined, 404, 1);

    hook(request, reply, jest.fn());

    const { values } = await metrics.histogram.get();
    expect(new Set(values.map((v) => v.labels.route))).toEqual(new Set([UNMATCHED_ROUTE]));
  });

  it('lets the response go on', async () => {
    const { hook } = await installed();
    const { request, reply } = answered('GET', '/health', 200, 0.1);
    const done = jest.fn();

    hook(request, reply, done);

    expect(done).toHaveBeenCalledTimes(1);
  });

  it('adds no hook when metrics are disabled', async () => {
    const metrics = await build(false);

    metrics.onModuleInit();

    expect(fastify.addHook).not.toHaveBeenCalled();
  });

  it('adds no hook in an application without an HTTP adapter', async () => {
    const metrics = await build(true, null);

    expect(() => metrics.onModuleInit()).not.toThrow();
  });

  it('warns that another adapter is not instrumented', async () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const metrics = await build(true, 'express');

    metrics.onModuleInit();

    expect(fastify.addHook).not.toHaveBeenCalled();
    expect(warned).toHaveBeenCalledWith(
      'request-duration metrics need the Fastify adapter; express is not instrumented',
    );
  });
});

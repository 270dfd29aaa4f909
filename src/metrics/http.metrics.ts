import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Histogram, Registry } from 'prom-client';
import { metricsConfig, MetricsConfig } from './metrics.config';
import { HTTP_DURATION_BUCKETS, METRIC_NAMES, UNMATCHED_ROUTE } from './metrics.constants';

type HttpLabels = 'method' | 'route' | 'status_code';

/**
 * `http_request_duration_seconds{method, route, status_code}`, observed in
 * one Fastify onResponse hook added at bootstrap (before the server is
 * ready, so it applies to every route, probes included).
 *
 * `route` is the route template Fastify matched (`/jobs/:id`), or
 * `unmatched`: a raw path would let any client create series at will. The
 * hook does no I/O and no allocation beyond the label lookup: the duration
 * is Fastify's own `reply.elapsedTime`, measured from onRequest.
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  private readonly logger = new Logger('Metrics');
  readonly histogram: Histogram<HttpLabels>;

  constructor(
    registry: Registry,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(metricsConfig.KEY) private readonly config: MetricsConfig,
  ) {
    this.histogram = new Histogram<HttpLabels>({
      name: METRIC_NAMES.httpDuration,
      help: 'HTTP request duration in seconds, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_DURATION_BUCKETS,
      registers: [registry],
    });
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!this.config.enabled || !adapter) return;
    if (adapter.getType() !== 'fastify') {
      this.logger.warn(`request-duration metrics need the Fastify adapter; ${adapter.getType()} is not instrumented`);
      return;
    }
    const histogram = this.histogram;
    adapter
      .getInstance<FastifyInstance>()
      .addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
        histogram.observe(
          { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: reply.statusCode },
          reply.elapsedTime / 1000,
        );
        done();
      });
  }
}

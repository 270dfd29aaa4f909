import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CORRELATION_ID_HEADER, CORRELATION_ID_PATTERN } from './jobs.constants';

/** The client's `X-Request-Id` (the first, if repeated) when it is a sane token, otherwise a fresh UUID. */
export function resolveCorrelationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CORRELATION_ID_PATTERN.test(value) ? value : randomUUID();
}

/**
 * The request's correlation id, which is its request id: the app's global
 * onRequest hook (logging/request-id.ts) resolves that once per request and
 * echoes it as the `X-Request-Id` response header on every response, errors
 * included, before any handler runs. This decorator adopts it from that header,
 * so logs, the header and the job's `correlation_id` agree. Without the hook
 * (a module mounted elsewhere) it resolves the id itself and echoes it.
 *
 * A parameter decorator rather than an interceptor: Nest wraps every
 * interceptor call in RxJS and `AsyncResource.bind`; dropping the interceptor
 * took ≈ 40 % off a jobs request's CPU on Node 20 (docs/BENCHMARKS.md, "What
 * changed ... (night)"), for what one header read does.
 */
export const CorrelationId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const http = context.switchToHttp();
  const reply = http.getResponse<FastifyReply>();
  const echoed = reply.getHeader(CORRELATION_ID_HEADER);
  if (typeof echoed === 'string' && CORRELATION_ID_PATTERN.test(echoed)) return echoed;
  const id = resolveCorrelationId(http.getRequest<FastifyRequest>().headers[CORRELATION_ID_HEADER]);
  void reply.header(CORRELATION_ID_HEADER, id);
  return id;
});

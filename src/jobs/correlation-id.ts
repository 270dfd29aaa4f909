import { CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { CORRELATION_ID_HEADER, CORRELATION_ID_PATTERN } from './jobs.constants';

/**
 * The jobs API's correlation id, kept in this one file so that a global
 * request-id mechanism can replace it: when such a hook has already set the
 * `X-Request-Id` response header, the interceptor adopts that id, so logs,
 * the header and the job's `correlation_id` agree. `@CorrelationId()` stays.
 */
const CORRELATION_ID = Symbol('correlationId');
type CorrelatedRequest = FastifyRequest & { [CORRELATION_ID]?: string };

/** The client's `X-Request-Id` (the first, if repeated) when it is a sane token, otherwise a fresh UUID. */
export function resolveCorrelationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CORRELATION_ID_PATTERN.test(value) ? value : randomUUID();
}

/**
 * Resolves the id and echoes it as the `X-Request-Id` response header.
 * Interceptors run before pipes, so validation errors (400), 404, 409 and 503
 * carry the header too.
 */
@Injectable()
export class CorrelationIdInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<CorrelatedRequest>();
    const reply = http.getResponse<FastifyReply>();
    // A global request-id hook (onRequest) may already have answered the header: reuse its id.
    const echoed = reply.getHeader(CORRELATION_ID_HEADER);
    const id = typeof echoed === 'string' && CORRELATION_ID_PATTERN.test(echoed) ? echoed : resolveCorrelationId(request.headers[CORRELATION_ID_HEADER]);
    request[CORRELATION_ID] = id;
    void reply.header(CORRELATION_ID_HEADER, id);
    return next.handle();
  }
}

/** The request's correlation id (needs CorrelationIdInterceptor on the route). */
export const CorrelationId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<CorrelatedRequest>();
  return request[CORRELATION_ID] ?? resolveCorrelationId(request.headers[CORRELATION_ID_HEADER]);
});

import { CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { CORRELATION_ID_HEADER, CORRELATION_ID_PATTERN } from './jobs.constants';

/**
 * The jobs API's correlation id, kept in this one file so that a global
 * request-id mechanism can replace it later: the interceptor would then read
 * that id instead of the header, and `@CorrelationId()` stays as it is.
 */
const CORRELATION_ID = Symbol('correlationId');
type CorrelatedRequest = FastifyRequest & { [CORRELATION_ID]?: string };

/** The client's `X-Request-Id` when it is a sane token, otherwise a fresh UUID. */
export function resolveCorrelationId(header: string | string[] | undefined): string {
  return typeof header === 'string' && CORRELATION_ID_PATTERN.test(header) ? header : randomUUID();
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
    const id = resolveCorrelationId(request.headers[CORRELATION_ID_HEADER]);
    request[CORRELATION_ID] = id;
    void http.getResponse<FastifyReply>().header('X-Request-Id', id);
    return next.handle();
  }
}

/** The request's correlation id (needs CorrelationIdInterceptor on the route). */
export const CorrelationId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<CorrelatedRequest>();
  return request[CORRELATION_ID] ?? resolveCorrelationId(request.headers[CORRELATION_ID_HEADER]);
});

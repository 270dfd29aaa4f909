import { ArgumentsHost, Catch, HttpServer, HttpStatus, IntrinsicException, Logger } from '@nestjs/common';
import { AbstractHttpAdapter, BaseExceptionFilter } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

/**
 * Nest's own handling of an error no other filter claimed (500 "Internal
 * server error", or the status of a Fastify error such as a malformed body),
 * with one difference: the log line carries the request's `reqId`. Request
 * logging keeps no async context (request-logging.ts explains why), so the
 * id is put on the line here, where the request is at hand. HttpExceptions
 * are not logged, as in Nest, nor are errors that carry a 4xx status.
 */
@Catch()
export class UnhandledErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('ExceptionsHandler');

  override handleUnknownError(
    exception: unknown,
    host: ArgumentsHost,
    applicationRef: AbstractHttpAdapter | HttpServer,
  ): void {
    const body = this.isHttpError(exception)
      ? { statusCode: exception.statusCode, message: this.getHttpErrorMessage(exception) }
      : { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
    const response: unknown = host.getArgByIndex(1);
    if (!applicationRef.isHeadersSent(response)) applicationRef.reply(response, body, body.statusCode);
    else applicationRef.end(response);
    if (exception instanceof IntrinsicException) return;
    // A client error that no filter claimed (a body the client aborted, @fastify/static's 403 for a
    // traversal attempt) is the client's doing, not a fault: its access line, at warn, records it.
    if (body.statusCode < 500) return;
    const request = host.switchToHttp().getRequest<FastifyRequest | undefined>();
    this.logger.error({ reqId: request?.id, err: exception }, `unhandled error: answered ${body.statusCode}`);
  }
}

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
    const body = this.carriesStatus(exception)
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

  /**
   * An error with an HTTP status of its own. Nest 12's isHttpError() wants the full http-errors
   * signature (`expose`, `status`), which Fastify's errors for an aborted or unreadable body lack:
   * they carry only `statusCode`, and must keep it rather than turn into a logged 500.
   */
  private carriesStatus(exception: unknown): exception is { statusCode: number; message: string; expose?: boolean } {
    if (this.isHttpError(exception)) return true;
    if (!(exception instanceof Error) || !('statusCode' in exception)) return false;
    const { statusCode } = exception;
    return typeof statusCode === 'number' && Number.isInteger(statusCode) && statusCode >= 400 && statusCode < 600;
  }
}

import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { classifyError, describeError } from '../common/redact';
import { JobStoreUnavailableError } from './job-store';
import { JOBS_MESSAGES } from './jobs.constants';

/** Body of every 503 of the jobs API: nothing about hosts, credentials or stacks. */
export const STORE_UNAVAILABLE_BODY = {
  statusCode: HttpStatus.SERVICE_UNAVAILABLE,
  message: JOBS_MESSAGES.storeUnavailable,
} as const;

/**
 * Redis unreachable, hung or not serving → 503. Logs once per request, with
 * the classified and redacted reason (the response says only
 * "job store unavailable").
 */
@Catch(JobStoreUnavailableError)
export class JobStoreUnavailableFilter implements ExceptionFilter<JobStoreUnavailableError> {
  private readonly logger = new Logger('Jobs');

  catch(error: JobStoreUnavailableError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const failure = classifyError(error.cause);
    this.logger.warn(
      { reqId: request.id, operation: error.operation, failure, reason: describeError(error.cause) },
      `job store unavailable: ${request.method} ${request.routeOptions.url ?? request.url} answered 503 (${failure})`,
    );
    void http
      .getResponse<FastifyReply>()
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .header('Retry-After', '1')
      .send(STORE_UNAVAILABLE_BODY);
  }
}

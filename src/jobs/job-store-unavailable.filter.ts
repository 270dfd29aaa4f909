import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { classifyError, describeError } from '../common/redact';
import { noteOnAccessLine } from '../logging/pino-options';
import { JobStoreUnavailableError } from './job-store';
import { JOBS_MESSAGES } from './jobs.constants';

/** Body of every 503 of the jobs API: nothing about hosts, credentials or stacks. */
export const STORE_UNAVAILABLE_BODY = {
  statusCode: HttpStatus.SERVICE_UNAVAILABLE,
  message: JOBS_MESSAGES.storeUnavailable,
} as const;

/**
 * Redis unreachable, hung or not serving → 503. The request's access line
 * says so, once, at warn, with the classified and redacted reason (the
 * response says only "job store unavailable").
 */
@Catch(JobStoreUnavailableError)
export class JobStoreUnavailableFilter implements ExceptionFilter<JobStoreUnavailableError> {
  catch(error: JobStoreUnavailableError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const failure = error.failure ?? classifyError(error.cause);
    noteOnAccessLine(reply.raw, {
      msg: `job store unavailable: ${request.method} ${request.routeOptions.url ?? request.url} answered 503 (${failure})`,
      fields: { operation: error.operation, failure, reason: describeError(error.cause) },
    });
    void reply.status(HttpStatus.SERVICE_UNAVAILABLE).header('Retry-After', '1').send(STORE_UNAVAILABLE_BODY);
  }
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** Header read from the caller and always returned (lower case, as Node keys headers). */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What a caller-supplied id may look like: short, printable, no spaces or
 * quotes, so it cannot forge log lines or inject into headers. Anything else
 * is replaced by a fresh id rather than rejected.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when valid (the first one, if repeated), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
}

/**
 * Fastify's `genReqId`: makes the request id Fastify's own `request.id`, so
 * pino-http (which reuses `req.id`, copied to the raw request by middie),
 * handlers and the response header all share one value.
 */
export function genRequestId(req: IncomingMessage): string {
  return requestIdFrom(req.headers[REQUEST_ID_HEADER]);
}

function echoRequestId(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  reply.header(REQUEST_ID_HEADER, request.id);
  done();
}

/**
 * Returns the id on every response, probes and 404s included. One header per
 * request: this is the only per-request work logging adds to probe routes
 * (their access lines are excluded, see UNLOGGED_PATHS).
 */
export function installRequestIdHeader(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', echoRequestId);
}

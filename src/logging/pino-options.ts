import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { Level } from 'pino';
import type { Options as PinoHttpOptions, StdSerializedResults } from 'pino-http';
import type { AppConfig } from '../config/app.config';
import { redact } from '../common/redact';
import { stdoutLogSink } from './log-sink';

type SerializedRequest = StdSerializedResults['req'];
type SerializedError = StdSerializedResults['err'];

/**
 * Routes that are never access-logged (probes and scrapes would drown
 * everything else), by route template: `/health`, every `/health/...` route,
 * `/ready`, `/metrics` and the peers' `/internal/health/states`. Requests no route matched (404s) are logged.
 */
export const UNLOGGED_ROUTES = {
  exact: ['/health', '/ready', '/metrics', '/internal/health/states'],
  prefixes: ['/health/'],
} as const;

/** Whether the route template `route` (Fastify's `request.routeOptions.url`) is left out of the access log. */
export function isUnloggedRoute(route: string | undefined): boolean {
  if (route === undefined) return false;
  return (
    (UNLOGGED_ROUTES.exact as readonly string[]).includes(route) ||
    UNLOGGED_ROUTES.prefixes.some((p) => route.startsWith(p))
  );
}

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
];

/** Keys whose values are censored wherever they appear in a logged query string. */
const SECRET_KEY = /pass|pwd|token|secret|auth|key|session|signature/i;
const CENSOR = '***';

/** Error fields that may be logged; anything else a client attached (ioredis' `command.args`, …) is dropped. */
// No `stack`: stack traces stay out of log lines (house rule); type, code and message
// identify a failure, and a programming error is reproduced from its request id.
const ERROR_FIELDS = ['type', 'message', 'code', 'errno', 'syscall', 'statusCode', 'status'] as const;

/**
 * The access line's `req`: the standard fields, with secrets removed from the
 * URL (credentials, `token=` pairs) and from the parsed query.
 */
export function serializeRequest(req: SerializedRequest): SerializedRequest {
  if (typeof req.url === 'string') req.url = redact(req.url);
  const query: unknown = req.query;
  if (query && typeof query === 'object') {
    const safe: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(query)) {
      safe[key] = SECRET_KEY.test(key) ? CENSOR : typeof value === 'string' ? redact(value) : value;
    }
    req.query = safe as SerializedRequest['query'];
  }
  return req;
}

/** Errors keep their type, code and redacted message; nothing else (no stack, no attached command). */
export function serializeError(err: SerializedError): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of ERROR_FIELDS) {
    const value: unknown = err[field];
    if (value !== undefined) out[field] = typeof value === 'string' ? redact(value) : value;
  }
  return out;
}

/** What the access line of a deliberate 5xx says, instead of an error-level "request errored". */
export interface AccessLineNote {
  /** The line's message. */
  msg: string;
  /** Fields added to the line; already classified and redacted. */
  fields: Record<string, unknown>;
}

const ACCESS_LINE_NOTE = Symbol('accessLineNote');
type NotedResponse = ServerResponse & { [ACCESS_LINE_NOTE]?: AccessLineNote };

/**
 * Marks a response as an expected failure, such as a 503 because a
 * dependency is down: its access line is then written at warn with
 * `note.msg` and `note.fields`, and is the one line about it (the service
 * works as designed; during an outage an error line per request would only
 * bury the one that says Redis is gone).
 */
export function noteOnAccessLine(res: ServerResponse, note: AccessLineNote): void {
  (res as NotedResponse)[ACCESS_LINE_NOTE] = note;
}

const noteOf = (res: ServerResponse): AccessLineNote | undefined => (res as NotedResponse)[ACCESS_LINE_NOTE];

/** The access line's message: the note of a deliberate 5xx, else pino-http's own. */
export function accessErrorMessage(_req: IncomingMessage, res: ServerResponse): string {
  return noteOf(res)?.msg ?? 'request errored';
}

/**
 * pino-http invents an Error ("failed with status code 503") for a 5xx that
 * carried none; its stack points into pino-http and only adds noise, so the
 * access line keeps the status alone. Real errors are kept.
 */
export function accessErrorObject(
  _req: IncomingMessage,
  res: ServerResponse,
  error: Error,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  if (error.message !== `failed with status code ${res.statusCode}`) return fields;
  const rest = { ...fields };
  delete rest.err;
  return { ...rest, ...noteOf(res)?.fields };
}

/** 5xx (or a thrown error) logs at error, 4xx and a noted 5xx at warn, the rest at info. */
export function accessLogLevel(_req: IncomingMessage, res: ServerResponse, error?: Error): Level {
  if (!error && noteOf(res)) return 'warn';
  if (error || res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'warn';
  return 'info';
}

/** Serializers of the root logger and of the access logger (which would otherwise reset them to pino's). */
export const LOG_SERIALIZERS = { req: serializeRequest, err: serializeError };

/**
 * pino-http options of the access logger (request-logging.ts), on top of the
 * root logger: lines logged inside a request carry only `reqId`; the full
 * `req` goes on the access line.
 */
export const ACCESS_LOG_OPTIONS = {
  quietReqLogger: true,
  customLogLevel: accessLogLevel,
  customErrorObject: accessErrorObject,
  customErrorMessage: accessErrorMessage,
  serializers: LOG_SERIALIZERS,
};

/**
 * The root logger (nestjs-pino builds it with pino-http from these options).
 * Log fields: see docs/OBSERVABILITY.md. nestjs-pino's own request
 * middleware is not mounted (`forRoutes: []`): on Fastify it would run
 * through @fastify/middie and a path match on every request, probes
 * included; RequestLogging does the same job in one Fastify hook.
 */
export function buildPinoOptions(app: AppConfig): Params {
  const json = app.production || app.nodeEnv === 'test';
  const options: PinoHttpOptions = {
    level: app.logLevel,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: LOG_SERIALIZERS,
    ...(json
      ? {}
      : { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } }),
    hooks: {
      // Last line of defence: free-text arguments never carry credentials.
      logMethod(args, method) {
        const safe = args.map((arg: unknown) => (typeof arg === 'string' ? redact(arg) : arg));
        return method.apply(this, safe as Parameters<typeof method>);
      },
    },
    formatters: {
      log: (object: Record<string, unknown>) => {
        if (typeof object.reason === 'string') object.reason = redact(object.reason);
        return object;
      },
    },
  };
  // JSON lines go to stdout through a bounded buffer (log-sink.ts); pretty development output
  // goes through pino-pretty's worker instead.
  return { pinoHttp: json ? [options, stdoutLogSink().stream] : options, forRoutes: [] };
}

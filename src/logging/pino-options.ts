import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/configuration';
import { redact } from '../common/redact';

/** Request paths that are never access-logged (probes and scrapes would drown everything else). */
export const UNLOGGED_PATHS = ['/health', '/health/{*path}', '/metrics'];

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
];

export function buildPinoOptions(app: AppConfig): Params {
  return {
    pinoHttp: {
      level: app.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '***' },
      ...(app.production || app.nodeEnv === 'test'
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
    },
    exclude: UNLOGGED_PATHS,
  };
}

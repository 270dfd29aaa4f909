/**
 * Container healthcheck CLI: `node dist/healthcheck.js [live|ready|startup]`.
 *
 * Slim and distroless Node images have no curl, so Docker's HEALTHCHECK and
 * compose's `healthcheck.test` run this instead. It asks the app's own probe
 * endpoint on loopback and exits 0 on HTTP 200, 1 on anything else (non-200,
 * connection refused, timeout, bad argument or setting), printing exactly one
 * line. It runs every few seconds inside the container, so it imports nothing
 * from Nest or the rest of the app: node:http only, one request, a hard deadline.
 *
 * Settings (environment): PORT (the app's, default 3000) and
 * HEALTHCHECK_TIMEOUT_MS (default 2000). Keep the latter below the timeout of
 * the healthcheck that runs this (3 s in the Dockerfile and compose), or the
 * engine kills the CLI before it can print why it failed.
 */
import { request } from 'node:http';

export const PROBES = ['live', 'ready', 'startup'] as const;
export type Probe = (typeof PROBES)[number];

export const DEFAULT_PROBE: Probe = 'ready';
export const DEFAULT_PORT = 3000;
export const DEFAULT_HEALTHCHECK_TIMEOUT_MS = 2000;

/** Variables this CLI reads (PORT is also the app's own). */
export const HEALTHCHECK_ENV_VARS = ['PORT', 'HEALTHCHECK_TIMEOUT_MS'] as const;

/** Largest body read for the summary; probe bodies are a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;
/** Longest line printed (a body with many failing checks is cut). */
const MAX_LINE_CHARS = 300;

export interface HealthcheckResult {
  /** Process exit code: 0 healthy, 1 anything else. */
  code: 0 | 1;
  /** The single line to print, without a newline. */
  line: string;
}

type Env = Readonly<Record<string, string | undefined>>;

interface Target {
  probe: Probe;
  port: number;
  timeoutMs: number;
}

const isProbe = (value: string): value is Probe => (PROBES as readonly string[]).includes(value);

/** Parses an integer setting; empty counts as unset, like the app's own validation. */
function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number | string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) return `${name} must be an integer`;
  const value = Number(raw);
  if (value < min || value > max) return `${name} must be between ${min} and ${max}`;
  return value;
}

/** The target, or the line that says why there is none. */
function parse(argv: readonly string[], env: Env): Target | string {
  if (argv.length > 1) return `healthcheck: expected at most one argument (${PROBES.join('|')})`;
  const probe = argv[0] ?? DEFAULT_PROBE;
  if (!isProbe(probe)) return `healthcheck: unknown probe '${probe.slice(0, 40)}' (expected ${PROBES.join('|')})`;
  const port = intSetting(env, 'PORT', DEFAULT_PORT, 1, 65535);
  if (typeof port === 'string') return `${probe}: ${port}`;
  const timeoutMs = intSetting(env, 'HEALTHCHECK_TIMEOUT_MS', DEFAULT_HEALTHCHECK_TIMEOUT_MS, 1, 60_000);
  if (typeof timeoutMs === 'string') return `${probe}: ${timeoutMs}`;
  return { probe, port, timeoutMs };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `ok`, `error (redis: connection refused)`, `degraded (redis-cache: timeout)`:
 * the body's overall status and the failing checks' public messages. Falls
 * back to the HTTP reason phrase for a body that is not a health body.
 */
function summarize(body: string, reason: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return reason;
  }
  if (!isRecord(parsed) || typeof parsed.status !== 'string') return reason;
  const failing = isRecord(parsed.error)
    ? Object.entries(parsed.error).map(([name, entry]) => {
        const message = isRecord(entry) && typeof entry.message === 'string' ? entry.message : 'down';
        return `${name}: ${message}`;
      })
    : [];
  return failing.length > 0 ? `${parsed.status} (${failing.join(', ')})` : parsed.status;
}

/** One printable line: no control characters, bounded length. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_LINE_CHARS ? `${flat.slice(0, MAX_LINE_CHARS - 1)}…` : flat;
}

function describeError(error: unknown): string {
  const code = isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code) return `error ${code}`;
  return `error ${error instanceof Error ? error.message : String(error)}`;
}

/** One GET with a deadline that covers connect, headers and body alike. */
function probe({ probe: name, port, timeoutMs }: Target): Promise<HealthcheckResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (code: 0 | 1, text: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve({ code, line: oneLine(`${name}: ${text}`) });
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/health/${name}`,
        method: 'GET',
        // No pooled socket may keep the process alive after the answer.
        agent: false,
        headers: { accept: 'application/json', connection: 'close' },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
          finish(status === 200 ? 0 : 1, `${status} ${summarize(body, res.statusMessage ?? '')}`);
        });
        res.on('error', (error) => finish(1, describeError(error)));
      },
    );
    const deadline = setTimeout(() => finish(1, `timeout after ${timeoutMs} ms`), timeoutMs);
    req.on('error', (error) => finish(1, describeError(error)));
    req.end();
  });
}

/**
 * Requests `http://127.0.0.1:${PORT}/health/<probe>` and reports the outcome.
 * Never rejects. `argv` is the arguments after the script (`process.argv.slice(2)`).
 */
export async function runHealthcheck(argv: readonly string[], env: Env): Promise<HealthcheckResult> {
  const target = parse(argv, env);
  if (typeof target === 'string') return { code: 1, line: oneLine(target) };
  return probe(target);
}

if (require.main === module) {
  void runHealthcheck(process.argv.slice(2), process.env).then(({ code, line }) => {
    // Exit once the line is written: nothing else may hold the process open.
    process.stdout.write(`${line}\n`, () => process.exit(code));
  });
}

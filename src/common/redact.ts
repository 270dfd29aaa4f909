/**
 * Redaction and classification of errors raised by network clients.
 *
 * ioredis and pg errors can carry a credentialed URL, a host, or (ioredis)
 * the AUTH arguments in `command.args`. Nothing here ever reads those fields:
 * only `message`/`code` go through `redact`, and the public answer is the
 * classified reason alone.
 */
const CREDENTIALED_URL = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s@/]*)@/gi;
const SECRET_PAIR = /\b(password|passwd|pwd|token|secret|authorization)(["']?\s*[=:]\s*["']?)[^\s"',;&]+/gi;
const AUTH_COMMAND = /\b(AUTH|HELLO\s+\d+\s+AUTH)\s+\S+(\s+\S+)?/gi;

/** Removes credentials from free text (URLs, key=value pairs, AUTH commands). */
export function redact(text: string): string {
  return text.replace(CREDENTIALED_URL, '$1$2:***@').replace(SECRET_PAIR, '$1$2***').replace(AUTH_COMMAND, '$1 ***');
}

/** Short, safe description of an unknown thrown value: its message, redacted. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return redact(error.message || error.name);
  return redact(String(error));
}

/** Classified reasons from errors: the only failure text anonymous callers see. */
export const ERROR_CLASSES = [
  'timeout',
  'connection refused',
  'connection reset',
  'authentication failed',
  'not resolvable',
  'not connected',
  'cluster down',
  'error',
] as const;

/** Every `message` a down check can carry: an error class, or the monitor's own `stale` / `pending`. */
export const FAILURE_CLASSES = [...ERROR_CLASSES, 'stale', 'pending'] as const;

export type FailureClass = (typeof FAILURE_CLASSES)[number];

function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Maps an error to the coarse reason that anonymous callers may see. */
export function classifyError(error: unknown): FailureClass {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  if (/timed? ?out|timeout/i.test(message) || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return 'connection refused';
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /ECONNRESET|Connection terminated|connection is closed/i.test(message)
  ) {
    return 'connection reset';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) return 'not resolvable';
  // 28P01 invalid_password, 28000 invalid_authorization_specification
  if (
    code === '28P01' ||
    code === '28000' ||
    /WRONGPASS|NOAUTH|invalid password|password authentication failed|AUTH/i.test(message)
  ) {
    return 'authentication failed';
  }
  // A Redis Cluster with uncovered slots (a primary without replica is gone) answers CLUSTERDOWN.
  if (/^CLUSTERDOWN\b|cluster_state:fail/.test(message)) return 'cluster down';
  if (
    /Stream isn't writeable|enableOfflineQueue|not connected|Connection is closed|All sentinels are unreachable/i.test(
      message,
    )
  )
    return 'not connected';
  return 'error';
}

import { CheckView, HealthSnapshot } from './health-snapshot';

/** Overall status values; Terminus' `ok`/`error`/`shutting_down` plus `degraded`. */
export type OverallStatus = 'ok' | 'degraded' | 'error' | 'shutting_down';

export interface CheckEntry {
  status: 'up' | 'down';
  message?: string;
  responseTime: number | null;
  since: string | null;
  // authorized only
  required?: boolean;
  checkedAt?: string | null;
  reason?: string;
  data?: Record<string, unknown>;
  details?: Record<string, unknown>;
}

/** Terminus' body shape with per-check responseTime and since. */
export interface HealthBody {
  status: OverallStatus;
  info: Record<string, CheckEntry>;
  error: Record<string, CheckEntry>;
  details: Record<string, CheckEntry>;
}

export interface HealthAnswer {
  httpStatus: 200 | 503;
  body: HealthBody;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function entry(check: CheckView, authorized: boolean): CheckEntry {
  const out: CheckEntry = {
    status: check.status,
    ...(check.status === 'down' ? { message: check.message ?? 'error' } : {}),
    responseTime: check.responseTimeMs,
    since: iso(check.sinceMs),
  };
  if (authorized) {
    out.required = check.required;
    out.checkedAt = iso(check.checkedAtMs);
    if (check.status === 'down' && check.reason) out.reason = check.reason;
    if (check.data && Object.keys(check.data).length > 0) out.data = { ...check.data };
    if (check.details) out.details = { ...check.details };
  }
  return out;
}

/**
 * Builds a readiness-style answer over `checks`: 503 when a required check is
 * down, 200 `degraded` when only optional ones are, 200 `ok` otherwise.
 */
export function aggregate(checks: readonly CheckView[], authorized: boolean, shuttingDown: boolean): HealthAnswer {
  const body: HealthBody = { status: 'ok', info: {}, error: {}, details: {} };
  let requiredDown = false;
  let optionalDown = false;
  for (const check of checks) {
    const e = entry(check, authorized);
    body.details[check.name] = e;
    if (check.status === 'up') {
      body.info[check.name] = e;
    } else {
      body.error[check.name] = e;
      if (check.required) requiredDown = true;
      else optionalDown = true;
    }
  }
  if (shuttingDown) body.status = 'shutting_down';
  else if (requiredDown) body.status = 'error';
  else if (optionalDown) body.status = 'degraded';
  return { httpStatus: shuttingDown || requiredDown ? 503 : 200, body };
}

/**
 * Startup: 503 until every required check has been up at least once since
 * boot; from then on 200 (a later outage is readiness' business, not a
 * reason for the kubelet to restart a pod that booted fine).
 */
export function startup(snapshot: HealthSnapshot, authorized: boolean, shuttingDown: boolean): HealthAnswer {
  const answer = aggregate(snapshot.checks, authorized, shuttingDown);
  const started = snapshot.checks.every((c) => !c.required || c.everUp);
  if (shuttingDown) return answer;
  if (started) return { httpStatus: 200, body: { ...answer.body, status: 'ok' } };
  return { httpStatus: 503, body: { ...answer.body, status: 'error' } };
}

import type { HealthCheckResult, HealthCheckStatus, HealthIndicatorResult } from '@nestjs/terminus';
import type { CheckEntry, HealthBody } from './health-body.dto';
import type { CheckView } from './health-snapshot';

export interface HealthAnswer {
  httpStatus: 200 | 503;
  body: HealthBody;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The entry of one check: the public view, plus reasons and facts for authorized callers. */
export function checkEntry(check: CheckView, authorized: boolean): CheckEntry {
  const out: CheckEntry = {
    status: check.status,
    ...(check.status === 'down' ? { message: check.message ?? 'error' } : {}),
    ...(check.sharedOutage ? { sharedOutage: { ...check.sharedOutage } } : {}),
    responseTime: check.responseTimeMs,
    since: iso(check.sinceMs),
  };
  if (authorized) {
    out.required = check.required;
    out.checkedAt = iso(check.checkedAtMs);
    if (check.status !== 'up' && check.reason) out.reason = check.reason;
    if (check.data && Object.keys(check.data).length > 0) out.data = { ...check.data };
    if (check.details) out.details = { ...check.details };
  }
  return out;
}

/**
 * A Terminus indicator function over one check of a snapshot: it returns
 * what the monitor recorded and never calls the network.
 */
export function snapshotIndicator(check: CheckView, authorized: boolean): () => HealthIndicatorResult {
  return () => ({ [check.name]: checkEntry(check, authorized) });
}

/** Terminus' result (`HealthCheckService.check()`, resolved or carried by its 503) as our body. */
function bodyOf(result: HealthCheckResult, status: HealthCheckStatus): HealthBody {
  return {
    status,
    info: (result.info ?? {}) as Record<string, CheckEntry>,
    error: (result.error ?? {}) as Record<string, CheckEntry>,
    details: result.details as Record<string, CheckEntry>,
  };
}

/**
 * Readiness (and one check): Terminus' answer (`ok`, or `degraded` when a
 * check is impaired but serving; `shutting_down` while draining, whether by
 * the shutdown gate or Terminus' own flag), except that a down check that is
 * optional, or required but down in a shared outage, turns `error` into 200
 * `degraded`: only a required check failing here alone takes the pod out of
 * the load balancer.
 */
export function readinessAnswer(
  result: HealthCheckResult,
  checks: readonly CheckView[],
  shuttingDown: boolean,
): HealthAnswer {
  if (shuttingDown || result.status === 'shutting_down') {
    return { httpStatus: 503, body: bodyOf(result, 'shutting_down') };
  }
  if (result.status !== 'error') return { httpStatus: 200, body: bodyOf(result, result.status) };
  // A required check down in a shared outage (health-peers.ts) does not take the pod out.
  const requiredDown = checks.some((c) => c.required && c.status === 'down' && !c.sharedOutage);
  return requiredDown
    ? { httpStatus: 503, body: bodyOf(result, 'error') }
    : { httpStatus: 200, body: bodyOf(result, 'degraded') };
}

/**
 * Startup is about the process: 503 until every check, required or not, has
 * completed its first run (the app booted and knows where it stands); 200 `ok`
 * from then on, whatever the results. A dependency only moves readiness: a
 * pod that booted during an outage must not be restarted by the kubelet into
 * CrashLoopBackOff for a fault no restart can fix. Terminus' up/down rule
 * cannot say this, hence the status is decided here.
 */
export function startupAnswer(
  result: HealthCheckResult,
  checks: readonly CheckView[],
  shuttingDown: boolean,
): HealthAnswer {
  if (shuttingDown || result.status === 'shutting_down') {
    return { httpStatus: 503, body: bodyOf(result, 'shutting_down') };
  }
  const started = checks.every((c) => c.checkedAtMs !== null);
  return started ? { httpStatus: 200, body: bodyOf(result, 'ok') } : { httpStatus: 503, body: bodyOf(result, 'error') };
}

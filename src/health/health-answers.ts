import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ShutdownGate } from '../lifecycle/shutdown-gate';
import { HealthMonitor } from './health-monitor';
import { HealthPeers } from './health-peers';
import type { CheckView } from './health-snapshot';
import { HealthAnswer, readinessAnswer, snapshotIndicator, startupAnswer } from './health.views';

/** An answer, or the one computation of it that concurrent probes share. */
type Pending = HealthAnswer | Promise<HealthAnswer>;

interface CacheEntry {
  readonly revision: number;
  readonly validUntilMs: number;
  answer: Pending;
}

type Decide = (result: HealthCheckResult, checks: readonly CheckView[], shuttingDown: boolean) => HealthAnswer;

/**
 * Probe answers, built by Terminus' `HealthCheckService.check()` over
 * indicator functions that read the monitor's snapshot, and kept until the
 * snapshot changes (a check completes) or an entry could turn stale,
 * whichever comes first. Probes arrive far more often than checks complete,
 * so most probes cost a map lookup instead of a run of HealthCheckService.
 *
 * Keys are bounded: the view (readiness, startup, one check), the caller's
 * authorization, the shutdown gate and a validated, sorted exclude list.
 */
@Injectable()
export class HealthAnswers {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly monitor: HealthMonitor,
    private readonly gate: ShutdownGate,
    private readonly health: HealthCheckService,
    private readonly peers: HealthPeers,
  ) {}

  readiness(authorized: boolean, excluded: ReadonlySet<string>): Pending {
    const key = excluded.size === 0 ? 'ready|' : `ready|${[...excluded].sort().join(',')}`;
    return this.answer(key, authorized, (checks) => checks.filter((c) => !excluded.has(c.name)), readinessAnswer);
  }

  startup(authorized: boolean): Pending {
    return this.answer('startup', authorized, (checks) => checks, startupAnswer);
  }

  /** One check by name; the caller checks that the name exists. */
  one(name: string, authorized: boolean): Pending {
    return this.answer(`one|${name}`, authorized, (checks) => checks.filter((c) => c.name === name), readinessAnswer);
  }

  private answer(
    view: string,
    authorized: boolean,
    select: (checks: readonly CheckView[]) => readonly CheckView[],
    decide: Decide,
  ): Pending {
    const now = Date.now();
    const shuttingDown = this.gate.shuttingDown;
    const key = `${view}|${authorized ? 'a' : 'p'}|${shuttingDown ? 's' : 'r'}`;
    // Both only grow: their sum changes whenever either does.
    const revision = this.monitor.revision + this.peers.revision;
    const hit = this.cache.get(key);
    if (hit && hit.revision === revision && now < hit.validUntilMs) return hit.answer;
    const checks = select(this.monitor.snapshot(now).checks.map((c) => this.withOutage(c)));
    const computing = this.check(checks, authorized).then((result) => decide(result, checks, shuttingDown));
    const entry: CacheEntry = { revision, validUntilMs: this.monitor.nextStaleAt(now), answer: computing };
    this.cache.set(key, entry);
    // Once computed, later probes get the answer itself, without a promise to await.
    computing.then(
      (answer) => (entry.answer = answer),
      () => this.cache.get(key) === entry && this.cache.delete(key),
    );
    return computing;
  }

  /** A down check the peers see down too carries its shared outage, which keeps readiness 200. */
  private withOutage(check: CheckView): CheckView {
    const sharedOutage = check.status === 'down' ? this.peers.outage(check.name) : undefined;
    return sharedOutage ? { ...check, sharedOutage } : check;
  }

  /** Terminus' result over the snapshot: resolved when every check is up, carried by its 503 otherwise. */
  private async check(checks: readonly CheckView[], authorized: boolean): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks.map((c) => snapshotIndicator(c, authorized)));
    } catch (error) {
      if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }
}

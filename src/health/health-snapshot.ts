import type { HealthIndicatorStatus } from '@nestjs/terminus';
import type { HealthCheckScope } from './health-indicator.decorator';

/** One check as seen at `HealthSnapshot.takenAtMs`. Read-only for everyone but the monitor. */
export interface CheckView {
  readonly name: string;
  readonly required: boolean;
  /** Whether every instance shares the dependency (health-peers.ts asks them when it fails). */
  readonly scope: HealthCheckScope;
  /** Terminus' indicator status: `degraded` is impaired but serving. */
  readonly status: HealthIndicatorStatus;
  /** Classified reason when down (`timeout`, `connection refused`, `stale`, …): safe for anyone. */
  readonly message?: string;
  /** Redacted raw reason (down or degraded): authorized callers only. */
  readonly reason?: string;
  /** Data the indicator attached to up()/down(): authorized callers only. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Facts from the indicator's details(): authorized callers only. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly responseTimeMs: number | null;
  /** When the check entered its current state. */
  readonly sinceMs: number | null;
  /** When the last run completed; null until the first one did (gates /health/startup). */
  readonly checkedAtMs: number | null;
  /**
   * Set by the readiness answer when this required shared check is down here and on
   * enough of the peers that answered: a shared outage, which does not take this pod out.
   */
  readonly sharedOutage?: SharedOutage;
}

/** How many peers agreed that a check is down, out of those that answered. */
export interface SharedOutage {
  readonly peersDown: number;
  readonly peersAnswered: number;
}

export interface HealthSnapshot {
  readonly takenAtMs: number;
  readonly checks: readonly CheckView[];
}

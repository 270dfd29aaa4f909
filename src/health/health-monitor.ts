import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HealthCheckAttempt, HealthIndicatorResult, HealthIndicatorStatus } from '@nestjs/terminus';
import { classifyError, describeError, ERROR_CLASSES, redact } from '../common/redact';
import { withTimeout } from '../common/with-timeout';
import { healthConfig, HealthConfig } from './health.config';
import { CHECK_NAME_PATTERN, HEALTH_MESSAGES, RESERVED_CHECK_NAMES } from './health.constants';
import type { HealthCheckDefinition } from './health-check.interface';
import type { HealthCheckScope } from './health-indicator.decorator';
import { CheckView, HealthSnapshot } from './health-snapshot';

/** Messages an indicator may pass through as is; anything else is classified again. */
const PUBLIC_REASONS: ReadonlySet<string> = new Set<string>(ERROR_CLASSES);

/** Keys Terminus' attempt adds to its result: the monitor measures and reports its own duration. */
const ATTEMPT_KEYS = ['responseTime', 'cachedResponse'];

/**
 * Each period is stretched or shrunk by a random factor within ±10 %, so that a
 * fleet of pods started together does not hit a shared dependency in lockstep.
 */
export const SCHEDULE_JITTER = 0.1;

/** What one completed run of a check left behind. Replaced, never mutated. */
interface CheckRecord {
  readonly status: HealthIndicatorStatus;
  readonly message?: string;
  readonly reason?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly responseTimeMs: number;
  readonly checkedAtMs: number;
  readonly sinceMs: number;
}

interface MonitoredCheck {
  readonly definition: HealthCheckDefinition;
  readonly required: boolean;
  readonly timeoutMs: number;
  readonly scope: HealthCheckScope;
  record?: CheckRecord;
  details?: Readonly<Record<string, unknown>>;
  detailsAtMs: number;
  timer?: NodeJS.Timeout;
  /** The current run, including the wait for the client call to settle. */
  running?: Promise<void>;
}

/** How a check was registered, after HEALTH_OPTIONAL_CHECKS and the readiness budget applied. */
export interface CheckRegistration {
  name: string;
  required: boolean;
  timeoutMs: number;
  scope: HealthCheckScope;
}

/**
 * Runs every registered check on its own interval, never two runs at once for
 * one check, and keeps the results as a read-only snapshot. Each check's
 * deadline is Terminus' `.withTimeout()` on its attempt. Probe requests read
 * the snapshot; only this class talks to dependencies on their behalf.
 */
@Injectable()
export class HealthMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(HealthMonitor.name);
  private readonly checks = new Map<string, MonitoredCheck>();
  private readonly staleAfterMs: number;
  private stopped = false;
  private stop: () => void = () => undefined;
  /** Settles at shutdown: no run waits past it for a call that outlived its deadline. */
  private readonly stopping = new Promise<void>((resolve) => (this.stop = resolve));
  private changes = 0;
  private readonly listeners: Array<(name: string) => void> = [];

  constructor(@Inject(healthConfig.KEY) private readonly config: HealthConfig) {
    // A check that has not completed for longer than this counts as down
    // ("stale"): long enough to cover one slow, jittered interval plus a timed-out run.
    this.staleAfterMs =
      Math.ceil(Math.max(config.intervalMs, config.failureIntervalMs) * (1 + SCHEDULE_JITTER)) +
      config.checkTimeoutMs +
      config.readinessBudgetMs;
  }

  /** Adds a check; called at module init by HealthIndicatorExplorer, before the first run is scheduled. */
  register(definition: HealthCheckDefinition): void {
    const { name } = definition;
    if (!CHECK_NAME_PATTERN.test(name) || RESERVED_CHECK_NAMES.includes(name)) {
      throw new Error(`health check name '${name}' must match ${CHECK_NAME_PATTERN} and not be reserved`);
    }
    if (this.checks.has(name)) throw new Error(`health check '${name}' is registered twice`);
    const optional = this.config.optionalChecks.includes(name);
    this.checks.set(name, {
      definition,
      required: optional ? false : (definition.required ?? true),
      timeoutMs: Math.min(definition.timeoutMs ?? this.config.checkTimeoutMs, this.config.readinessBudgetMs),
      scope: definition.scope ?? 'shared',
      detailsAtMs: 0,
    });
  }

  onApplicationBootstrap(): void {
    for (const check of this.checks.values()) this.schedule(check, 0);
  }

  /** Stops scheduling and waits for runs in flight (each bounded by its deadline). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stop();
    for (const check of this.checks.values()) clearTimeout(check.timer);
    await Promise.all([...this.checks.values()].map((c) => c.running ?? Promise.resolve()));
  }

  /** Grows whenever any check records a result or new details: a cheap "has anything changed?". */
  get revision(): number {
    return this.changes;
  }

  /**
   * The earliest moment at which a check that is not stale now would turn
   * stale if nothing else happened (Infinity when no such check exists).
   */
  nextStaleAt(now = Date.now()): number {
    let earliest = Infinity;
    for (const check of this.checks.values()) {
      const staleAt = (check.record?.checkedAtMs ?? Infinity) + this.staleAfterMs;
      if (staleAt > now && staleAt < earliest) earliest = staleAt;
    }
    return earliest;
  }

  /** Registered check names, in registration order. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** Every check as registered, in registration order (logged once at boot). */
  registrations(): CheckRegistration[] {
    return [...this.checks].map(([name, { required, timeoutMs, scope }]) => ({ name, required, timeoutMs, scope }));
  }

  has(name: string): boolean {
    return this.checks.has(name);
  }

  /** One check as seen now (stale counts as down); undefined for an unknown name. */
  check(name: string, now = Date.now()): CheckView | undefined {
    const check = this.checks.get(name);
    return check && this.view(name, check, now);
  }

  /** Calls `listener` with a check's name whenever that check changes state (up, degraded, down). */
  onStatusChange(listener: (name: string) => void): void {
    this.listeners.push(listener);
  }

  /** The current state of every check, as seen now (stale entries count as down). */
  snapshot(now = Date.now()): HealthSnapshot {
    const views: CheckView[] = [];
    for (const [name, check] of this.checks) views.push(this.view(name, check, now));
    return { takenAtMs: now, checks: views };
  }

  private view(name: string, check: MonitoredCheck, now: number): CheckView {
    const base = { name, required: check.required, scope: check.scope, details: check.details };
    const record = check.record;
    if (!record) {
      return {
        ...base,
        status: 'down',
        message: HEALTH_MESSAGES.pending,
        responseTimeMs: null,
        sinceMs: null,
        checkedAtMs: null,
      };
    }
    const stale = now - record.checkedAtMs > this.staleAfterMs;
    return {
      ...base,
      status: stale ? 'down' : record.status,
      message: stale ? HEALTH_MESSAGES.stale : record.message,
      reason: stale ? `no result for ${now - record.checkedAtMs} ms` : record.reason,
      data: record.data,
      responseTimeMs: record.responseTimeMs,
      sinceMs: stale && record.status !== 'down' ? record.checkedAtMs + this.staleAfterMs : record.sinceMs,
      checkedAtMs: record.checkedAtMs,
    };
  }

  private schedule(check: MonitoredCheck, delayMs: number): void {
    if (this.stopped) return;
    check.timer = setTimeout(() => {
      check.running = this.run(check).finally(() => {
        check.running = undefined;
        const serving = check.record !== undefined && check.record.status !== 'down';
        this.schedule(check, jittered(serving ? this.config.intervalMs : this.config.failureIntervalMs));
      });
    }, delayMs);
    check.timer.unref();
  }

  private async run(check: MonitoredCheck): Promise<void> {
    const { definition, timeoutMs } = check;
    const started = performance.now();
    let outcome: Omit<CheckRecord, 'responseTimeMs' | 'checkedAtMs' | 'sinceMs'>;
    let call: Promise<unknown> | undefined;
    try {
      // Every check gets its deadline here, so an indicator need not set one: an attempt through
      // Terminus' `.withTimeout()`, a bare promise through ours.
      const result = definition.check(definition.name, timeoutMs);
      if (result instanceof HealthCheckAttempt) {
        outcome = this.interpret(definition.name, await result.withTimeout(timeoutMs));
      } else {
        const work = Promise.resolve(result);
        call = work.catch(() => undefined);
        outcome = this.interpret(
          definition.name,
          await withTimeout(work, timeoutMs, `health check ${definition.name}`),
        );
      }
    } catch (error) {
      outcome = { status: 'down', message: classifyError(error), reason: describeError(error) };
    }
    this.record(check, outcome, Math.round((performance.now() - started) * 100) / 100);
    // A bare promise past its deadline may still be running: the next run waits for it, so a hung
    // call is never joined by a second one (it turns stale instead), and shutdown does not wait for it.
    if (call) await Promise.race([call, this.stopping]);
    if (!this.stopped && check.record?.status !== 'down') await this.refreshDetails(check);
  }

  private interpret(
    name: string,
    result: HealthIndicatorResult,
  ): Omit<CheckRecord, 'responseTimeMs' | 'checkedAtMs' | 'sinceMs'> {
    const entry = result[name];
    if (!entry) return { status: 'down', message: 'error', reason: `indicator returned no entry for '${name}'` };
    const { status, message, reason, ...rest } = entry as Record<string, unknown>;
    const data = Object.fromEntries(Object.entries(rest).filter(([key]) => !ATTEMPT_KEYS.includes(key)));
    if (status === 'up') return { status: 'up', data };
    const text = typeof message === 'string' ? message : undefined;
    const why = typeof reason === 'string' ? reason : text;
    if (status === 'degraded') {
      return { status: 'degraded', ...(why === undefined ? {} : { reason: redact(why) }), data };
    }
    return {
      status: 'down',
      message: text === undefined ? 'error' : PUBLIC_REASONS.has(text) ? text : classifyError(new Error(text)),
      reason: redact(why ?? 'error'),
      data,
    };
  }

  private record(
    check: MonitoredCheck,
    outcome: Omit<CheckRecord, 'responseTimeMs' | 'checkedAtMs' | 'sinceMs'>,
    responseTimeMs: number,
  ): void {
    const now = Date.now();
    const previous = check.record;
    const changed = !previous || previous.status !== outcome.status || previous.message !== outcome.message;
    check.record = Object.freeze({
      ...outcome,
      responseTimeMs,
      checkedAtMs: now,
      sinceMs: changed || !previous ? now : previous.sinceMs,
    });
    this.changes++;
    if (changed) this.logChange(check.definition.name, previous?.status ?? 'pending', check.record);
    if (previous?.status !== check.record.status) {
      for (const listener of this.listeners) listener(check.definition.name);
    }
  }

  private logChange(name: string, from: string, record: CheckRecord): void {
    const to = record.status;
    if (to === 'up') {
      this.logger.log(
        { check: name, from, to, responseTimeMs: record.responseTimeMs },
        `health check ${name}: ${from} -> up`,
      );
    } else {
      const why = to === 'down' ? `${record.message}: ${record.reason ?? ''}` : (record.reason ?? '');
      this.logger.warn(
        { check: name, from, to, message: record.message, reason: record.reason },
        `health check ${name}: ${from} -> ${to} (${why})`,
      );
    }
  }

  private async refreshDetails(check: MonitoredCheck): Promise<void> {
    const { definition } = check;
    if (!definition.details || Date.now() - check.detailsAtMs < this.config.detailsIntervalMs) return;
    check.detailsAtMs = Date.now();
    const work = Promise.resolve().then(() => definition.details?.());
    try {
      const details = await withTimeout(work, check.timeoutMs, `health details ${definition.name}`);
      check.details = details ? Object.freeze({ ...details }) : undefined;
      this.changes++;
    } catch (error) {
      this.logger.debug(`health details ${definition.name} failed: ${describeError(error)}`);
    }
    await work.catch(() => undefined);
  }
}

/** `periodMs` moved by a uniform random amount within ±SCHEDULE_JITTER of itself. */
export function jittered(periodMs: number, random: () => number = Math.random): number {
  return Math.round(periodMs * (1 + SCHEDULE_JITTER * (2 * random() - 1)));
}

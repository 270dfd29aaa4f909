import { Injectable } from '@nestjs/common';
import { ShutdownGate } from '../lifecycle/shutdown-gate';
import { HealthMonitor } from './health-monitor.service';
import { aggregate, HealthAnswer, startup } from './health.views';

/** A rendered answer: status code and the serialized body. */
export interface RenderedAnswer {
  readonly httpStatus: 200 | 503;
  readonly json: string;
}

interface CacheEntry extends RenderedAnswer {
  readonly revision: number;
  readonly validUntilMs: number;
}

/**
 * Renders probe answers from the monitor's snapshot and keeps each rendering
 * until the snapshot changes (a check completes) or an entry could turn stale,
 * whichever comes first. Probes arrive far more often than checks complete,
 * so most probes cost a map lookup instead of building and serializing a body.
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
  ) {}

  readiness(authorized: boolean, excluded: ReadonlySet<string>): RenderedAnswer {
    const key = excluded.size === 0 ? 'ready|' : `ready|${[...excluded].sort().join(',')}`;
    return this.render(key, authorized, (now, shuttingDown) =>
      aggregate(
        this.monitor.snapshot(now).checks.filter((c) => !excluded.has(c.name)),
        authorized,
        shuttingDown,
      ),
    );
  }

  startup(authorized: boolean): RenderedAnswer {
    return this.render('startup', authorized, (now, shuttingDown) =>
      startup(this.monitor.snapshot(now), authorized, shuttingDown),
    );
  }

  /** One check by name; the caller checks that the name exists. */
  one(name: string, authorized: boolean): RenderedAnswer {
    return this.render(`one|${name}`, authorized, (now, shuttingDown) =>
      aggregate(
        this.monitor.snapshot(now).checks.filter((c) => c.name === name),
        authorized,
        shuttingDown,
      ),
    );
  }

  private render(
    view: string,
    authorized: boolean,
    build: (now: number, shuttingDown: boolean) => HealthAnswer,
  ): RenderedAnswer {
    const now = Date.now();
    const shuttingDown = this.gate.shuttingDown;
    const key = `${view}|${authorized ? 'a' : 'p'}|${shuttingDown ? 's' : 'r'}`;
    const revision = this.monitor.revision;
    const hit = this.cache.get(key);
    if (hit && hit.revision === revision && now < hit.validUntilMs) return hit;
    const answer = build(now, shuttingDown);
    const entry: CacheEntry = {
      httpStatus: answer.httpStatus,
      json: JSON.stringify(answer.body),
      revision,
      validUntilMs: this.monitor.nextStaleAt(now),
    };
    this.cache.set(key, entry);
    return entry;
  }
}

import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { HealthIndicatorStatus } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { describeError } from '../common/redact';
import { healthConfig, HealthConfig } from './health.config';
import { HealthMonitor, jittered } from './health-monitor';
import type { CheckView, SharedOutage } from './health-snapshot';

/** Path of the route that serves this instance's check states to its peers. */
export const PEER_STATES_PATH = '/internal/health/states';

/** What an instance tells its peers: states and times, nothing else. */
export interface PeerStates {
  /** Random per process: lets an instance recognise its own answer in its peer list. */
  instance: string;
  checks: Record<string, { status: HealthIndicatorStatus; since: string | null }>;
}

/** At most this many peers are asked per round: the cost of a round stays flat as the fleet grows. */
export const PEER_SAMPLE_SIZE = 10;

/** A DNS peer list is looked up again when it is older than this, before a round that needs it. */
const DNS_REFRESH_MS = 30_000;

const STATUSES: readonly string[] = ['up', 'down', 'degraded'];

function isPeerStates(body: unknown): body is PeerStates {
  if (typeof body !== 'object' || body === null) return false;
  const { instance, checks } = body as Partial<PeerStates>;
  return (
    typeof instance === 'string' &&
    typeof checks === 'object' &&
    checks !== null &&
    Object.values(checks).every((c) => typeof c === 'object' && c !== null && STATUSES.includes(c.status))
  );
}

/**
 * Fleet-aware readiness. Every pod checks the same Redis and PostgreSQL, so
 * when one of them fails, every pod's readiness would fail at once and the
 * Service would have no endpoints left: clients would get connection errors
 * instead of this service's fast 503. When a required `shared` check is down
 * here, this asks the peers (HEALTH_PEERS or HEALTH_PEERS_DNS) for their own
 * states; if at least one answered and at least half of those that answered
 * see the check down too, it is a shared outage, which readiness reports as
 * 200 `degraded`: taking this pod out would not fix it. Down here only, or no
 * peer answering (this pod may be the one cut off), and readiness is 503.
 *
 * Peers are asked in the background, never on a probe's path: at once when a
 * check changes state, then every HEALTH_FAILURE_INTERVAL_MS until the outage
 * is confirmed, then every HEALTH_PEER_INTERVAL_MS; not at all while every
 * shared check is up.
 */
@Injectable()
export class HealthPeers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instance = randomUUID();
  private readonly logger = new Logger(HealthPeers.name);
  private outages: ReadonlyMap<string, SharedOutage> = new Map();
  private changes = 0;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private askAgain = false;
  private stopped = false;
  private dns?: { urls: string[]; atMs: number };

  constructor(
    @Inject(healthConfig.KEY) private readonly config: HealthConfig,
    private readonly monitor: HealthMonitor,
  ) {}

  /** Whether peers are configured; without them readiness is decided by this pod's checks alone. */
  get enabled(): boolean {
    return this.config.peers.urls.length > 0 || this.config.peers.dns !== undefined;
  }

  /** Grows whenever the set of shared outages (or a peer count in one) changes. */
  get revision(): number {
    return this.changes;
  }

  /** The shared outage a check is in, as last decided; undefined when it is in none. */
  outage(name: string): SharedOutage | undefined {
    return this.outages.get(name);
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    const { urls, dns } = this.config.peers;
    this.logger.log(
      { peers: dns ?? urls },
      dns ? `health peers: DNS ${dns}` : `health peers: ${urls.length} configured`,
    );
    this.monitor.onStatusChange(() => this.wake());
    this.schedule(this.config.intervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** This instance's check states, for its peers (from the snapshot: no dependency is called). */
  states(): PeerStates {
    const checks: PeerStates['checks'] = {};
    for (const check of this.monitor.snapshot().checks) {
      // A check that has not run yet has no state to share: it must not count as agreeing.
      if (check.checkedAtMs === null) continue;
      checks[check.name] = {
        status: check.status,
        since: check.sinceMs === null ? null : new Date(check.sinceMs).toISOString(),
      };
    }
    return { instance: this.instance, checks };
  }

  /** A check changed state here: decide again now rather than at the next tick. */
  private wake(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.round) {
      this.askAgain = true;
      return;
    }
    // A check still pending its first run has not failed: nothing to ask about yet.
    const suspects = this.monitor
      .snapshot()
      .checks.filter((c) => c.required && c.scope === 'shared' && c.status === 'down' && c.checkedAtMs !== null);
    if (suspects.length === 0) {
      // Without a failure here there is nothing to confirm: no request leaves this pod.
      this.settle(new Map());
      this.schedule(this.config.intervalMs);
      return;
    }
    this.round = this.ask()
      .then((answers) => this.settle(this.decide(suspects, answers)))
      .catch((error: unknown) => this.logger.warn(`health peers: round failed: ${describeError(error)}`))
      .finally(() => {
        this.round = undefined;
        if (this.askAgain) {
          this.askAgain = false;
          this.tick();
          return;
        }
        const confirmed = suspects.every((c) => this.outages.has(c.name));
        this.schedule(confirmed ? this.config.peers.intervalMs : this.config.failureIntervalMs);
      });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), jittered(delayMs));
    this.timer.unref();
  }

  /** The answers of up to PEER_SAMPLE_SIZE peers, this instance's own left out. */
  private async ask(): Promise<PeerStates[]> {
    const urls = sample(await this.peerUrls(), PEER_SAMPLE_SIZE);
    const answers = await Promise.all(urls.map((url) => this.askOne(url)));
    return answers.filter((a): a is PeerStates => a !== undefined && a.instance !== this.instance);
  }

  private async askOne(baseUrl: string): Promise<PeerStates | undefined> {
    const { token, timeoutMs } = this.config.peers;
    try {
      const response = await fetch(`${baseUrl}${PEER_STATES_PATH}`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (!response.ok) {
        await response.body?.cancel();
        return undefined;
      }
      const body: unknown = await response.json();
      return isPeerStates(body) ? body : undefined;
    } catch {
      // Not answering is an answer of its own: this peer does not count.
      return undefined;
    }
  }

  private async peerUrls(): Promise<string[]> {
    const { urls, dns } = this.config.peers;
    if (!dns) return urls;
    if (this.dns && Date.now() - this.dns.atMs < DNS_REFRESH_MS) return this.dns.urls;
    const i = dns.lastIndexOf(':');
    const [host, port] = [dns.slice(0, i), dns.slice(i + 1)];
    try {
      const addresses = await lookup(host, { all: true });
      const resolved = addresses.map((a) => `http://${a.family === 6 ? `[${a.address}]` : a.address}:${port}`);
      this.dns = { urls: resolved, atMs: Date.now() };
    } catch (error) {
      // Keep the last list: a failing lookup must not turn a shared outage into a local one.
      this.logger.warn(`health peers: lookup of ${host} failed: ${describeError(error)}`);
      this.dns = { urls: this.dns?.urls ?? [], atMs: Date.now() };
    }
    return this.dns.urls;
  }

  private decide(suspects: readonly CheckView[], answers: readonly PeerStates[]): Map<string, SharedOutage> {
    const outages = new Map<string, SharedOutage>();
    for (const check of suspects) {
      const reports = answers.map((a) => a.checks[check.name]).filter((r) => r !== undefined);
      const peersDown = reports.filter((r) => r.status === 'down').length;
      if (reports.length > 0 && peersDown * 2 >= reports.length) {
        outages.set(check.name, { peersDown, peersAnswered: reports.length });
      }
    }
    return outages;
  }

  private settle(next: ReadonlyMap<string, SharedOutage>): void {
    const previous = this.outages;
    let changed = previous.size !== next.size;
    for (const [name, outage] of next) {
      const before = previous.get(name);
      if (!before) {
        this.logger.warn(
          { check: name, sharedOutage: true, ...outage },
          `health check ${name}: shared outage (down on ${outage.peersDown} of ${outage.peersAnswered} peers that answered): staying ready`,
        );
      }
      if (before?.peersDown !== outage.peersDown || before.peersAnswered !== outage.peersAnswered) changed = true;
    }
    for (const name of previous.keys()) {
      if (!next.has(name)) {
        const localFault = this.monitor.check(name)?.status === 'down';
        this.logger.log(
          { check: name, sharedOutage: false },
          localFault
            ? `health check ${name}: shared outage over: peers no longer agree, the failure is this pod's own`
            : `health check ${name}: shared outage over`,
        );
        changed = true;
      }
    }
    this.outages = next;
    if (changed) this.changes++;
  }
}

/** Up to `size` entries of `list`, chosen at random (all of them, in random order, when it is shorter). */
export function sample<T>(list: readonly T[], size: number, random: () => number = Math.random): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, size);
}

/**
 * Figures 1 and 2: liveness and readiness throughput and latency as ratios to
 * the trivial Nest controller (and, for context, the bare node:http ceiling),
 * in the same interleaved slices; and the dependency calls readiness load
 * causes (target: none, only the monitor's timer calls a dependency).
 */
import { probe } from './lib/http-probe';
import { interleaved, pairedRatio, type TargetRun } from './lib/load';
import type { AppHandle, ReferenceServer, Services } from './lib/processes';
import { round } from './lib/stats';
import { now, rssMiB } from './lib/system';
import type { PostgresFixture } from '../test/support/postgres-server';
import type { RedisFixture } from '../test/support/redis-server';
import { HEALTH_DEFAULTS, log, SETTINGS } from './settings';

/** Calls of one dependency command during the measured window. */
export interface DependencyCount {
  calls: number;
  perReadinessRequest: number;
  perSecond: number;
  perInterval: number;
  /** A timer-driven check may fire at both ends of the window: floor(intervals) + 1. */
  allowedInWindow: number;
}

export interface DependencyCalls {
  windowMs: number;
  readinessRequests: number;
  redisPing: DependencyCount;
  /** Redis commands other than PING (and the bench's own INFO and CONFIG RESETSTAT). */
  redisOtherCommands: number;
  /** null without pg_stat_statements. */
  postgresSelect1: DependencyCount | null;
  postgresAllStatements: number | null;
}

export interface ThroughputRatios {
  livenessRps: number;
  readinessRps: number;
  livenessServingRps: number;
  readinessServingRps: number;
  livenessP50: number | null;
  livenessP99: number | null;
  readinessP50: number | null;
  readinessP99: number | null;
  readinessServingP99: number | null;
  nestReferenceCeilingRps: number;
  livenessCeilingRps: number;
  readinessCeilingRps: number;
  livenessCpu: number | null;
  readinessCpu: number | null;
}

export interface ThroughputRound {
  round: number;
  ceiling: TargetRun;
  liveness: TargetRun;
  readiness: TargetRun;
  nestReference: TargetRun;
  /** The same four after one access-logged request: the state of a pod that serves traffic. */
  ceilingServing: TargetRun;
  nestReferenceServing: TargetRun;
  livenessServing: TargetRun;
  readinessServing: TargetRun;
  ratios: ThroughputRatios;
  dependencies: DependencyCalls;
  rssAfterMiB: number | null;
  appPid?: number;
}

// ------------------------------------------------------------------ dependency counters

/** Redis: CONFIG RESETSTAT; later INFO commandstats → calls per command. */
async function redisResetStats(redis: RedisFixture): Promise<void> {
  await redis.command('CONFIG', 'RESETSTAT');
}

async function redisCommandCalls(redis: RedisFixture): Promise<Record<string, number>> {
  const text = String(await redis.command('INFO', 'commandstats'));
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

/** PostgreSQL: pg_stat_statements_reset(); later the statements run in database `app`. */
async function pgResetStats(postgres: PostgresFixture): Promise<void> {
  if (postgres.hasPgStatStatements) await postgres.query('SELECT pg_stat_statements_reset()');
}

interface StatementCalls {
  select1: number;
  all: number;
  statements: Array<{ query: string; calls: number }>;
}

async function pgStatementCalls(postgres: PostgresFixture): Promise<StatementCalls | null> {
  if (!postgres.hasPgStatStatements) return null;
  const rows = await postgres.query<{ query: string; calls: number }>(
    `SELECT s.query, s.calls::int AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = 'app' AND s.query NOT ILIKE '%pg_stat_statements%'`,
  );
  const select1 = rows.filter((r) => /^select (1|\$1)$/i.test(r.query.trim())).reduce((a, r) => a + r.calls, 0);
  const all = rows.reduce((a, r) => a + r.calls, 0);
  return { select1, all, statements: rows };
}

// ------------------------------------------------------------------ the round

const ratioOrNull = (a: number | null, b: number | null): number | null =>
  a !== null && b !== null && b > 0 ? round(a / b, 2) : null;

/**
 * One round on a freshly booted app: ceiling, trivial Nest controller,
 * liveness and readiness interleaved (dependency calls counted over the
 * measured slices), then the same after one access-logged request.
 */
export async function throughputRound(
  services: Services,
  app: AppHandle,
  ceiling: ReferenceServer,
  index: number,
  reference: ReferenceServer,
): Promise<ThroughputRound> {
  const targets = [
    { name: 'ceiling', url: ceiling.url, pid: ceiling.pid },
    { name: 'nestReference', url: reference.url, pid: reference.pid },
    { name: 'liveness', url: `${app.baseUrl}/health/live`, pid: app.pid },
    { name: 'readiness', url: `${app.baseUrl}/health/ready`, pid: app.pid },
  ] as const;
  let windowStart = now();
  const cold = await interleaved(targets, SETTINGS, async () => {
    await Promise.all([redisResetStats(services.redis), pgResetStats(services.postgres)]);
    windowStart = now();
  });
  const [redisCalls, pgCalls] = await Promise.all([
    redisCommandCalls(services.redis),
    pgStatementCalls(services.postgres),
  ]);
  const windowMs = now() - windowStart;
  const { ceiling: ceilingRun, nestReference: referenceRun, liveness: liveRun, readiness: readyRun } = cold;
  for (const [name, run] of Object.entries(cold)) {
    log(
      `round ${index + 1}: ${name} ${run.rps} req/s (slices ${run.sliceRps.map((r) => Math.round(r)).join(', ')}), p99 ${run.latencyMs.p99} ms, ${run.serverCpuUsPerRequest} µs CPU/req, other load ${run.cpu.foreignPct} %`,
    );
  }

  const intervals = windowMs / HEALTH_DEFAULTS.intervalMs;
  const allowed = Math.floor(intervals) + 1;
  const count = (calls: number): DependencyCount => ({
    calls,
    perReadinessRequest: round(calls / Math.max(readyRun.requests, 1), 6),
    perSecond: round(calls / (windowMs / 1000), 2),
    perInterval: round(calls / intervals, 2),
    allowedInWindow: allowed,
  });
  const otherRedis = Object.entries(redisCalls)
    .filter(([name]) => !/^(ping|info|config)(\|.*)?$/.test(name)) // the bench's own INFO and CONFIG RESETSTAT
    .reduce((a, [, n]) => a + n, 0);
  const dependencies: DependencyCalls = {
    windowMs: round(windowMs, 0),
    readinessRequests: readyRun.requests,
    redisPing: count(redisCalls.ping ?? 0),
    redisOtherCommands: otherRedis,
    postgresSelect1: pgCalls ? count(pgCalls.select1) : null,
    postgresAllStatements: pgCalls ? pgCalls.all : null,
  };
  // The same probes once the process has served an access-logged request, the state of a pod
  // that serves traffic.
  const logged = await probe(`${app.baseUrl}/jobs?limit=1`);
  if (logged.status !== 200) throw new Error(`GET /jobs?limit=1 answered ${logged.status}`);
  const serving = await interleaved(targets, SETTINGS);
  const { liveness: liveServing, readiness: readyServing } = serving;
  log(
    `round ${index + 1}: after a logged request: liveness ${liveServing.rps} req/s (${liveServing.serverCpuUsPerRequest} µs), ` +
      `readiness ${readyServing.rps} req/s (${readyServing.serverCpuUsPerRequest} µs), reference ${serving.nestReference.rps} req/s, ` +
      `ceiling ${serving.ceiling.rps} req/s`,
  );
  const rss = rssMiB(app.pid);
  log(
    `round ${index + 1}: ${dependencies.redisPing.calls} PING, ${pgCalls?.select1} SELECT 1 in ${dependencies.windowMs} ms; RSS ${rss} MiB`,
  );
  return {
    round: index + 1,
    ceiling: ceilingRun,
    liveness: liveRun,
    readiness: readyRun,
    nestReference: referenceRun,
    ceilingServing: serving.ceiling,
    nestReferenceServing: serving.nestReference,
    livenessServing: liveServing,
    readinessServing: readyServing,
    ratios: {
      // Paired: median over cycles of (req/s ÷ the trivial Nest controller's req/s in the same cycle).
      livenessRps: pairedRatio(liveRun, referenceRun),
      readinessRps: pairedRatio(readyRun, referenceRun),
      livenessServingRps: pairedRatio(liveServing, serving.nestReference),
      readinessServingRps: pairedRatio(readyServing, serving.nestReference),
      livenessP50: ratioOrNull(liveRun.latencyMs.p50, referenceRun.latencyMs.p50),
      livenessP99: ratioOrNull(liveRun.latencyMs.p99, referenceRun.latencyMs.p99),
      readinessP50: ratioOrNull(readyRun.latencyMs.p50, referenceRun.latencyMs.p50),
      readinessP99: ratioOrNull(readyRun.latencyMs.p99, referenceRun.latencyMs.p99),
      readinessServingP99: ratioOrNull(readyServing.latencyMs.p99, serving.nestReference.latencyMs.p99),
      // Reported, not a target: the same against the bare node:http ceiling.
      nestReferenceCeilingRps: pairedRatio(referenceRun, ceilingRun),
      livenessCeilingRps: pairedRatio(liveRun, ceilingRun),
      readinessCeilingRps: pairedRatio(readyRun, ceilingRun),
      // Capacity by CPU cost: the trivial controller's CPU per request ÷ the probe's (independent of the load generator's limit).
      livenessCpu: ratioOrNull(referenceRun.serverCpuUsPerRequest, liveRun.serverCpuUsPerRequest),
      readinessCpu: ratioOrNull(referenceRun.serverCpuUsPerRequest, readyRun.serverCpuUsPerRequest),
    },
    dependencies,
    rssAfterMiB: rss,
  };
}

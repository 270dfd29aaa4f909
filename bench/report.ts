/** The result of `npm run bench` and the table printed from it (stdout and bench/results/<timestamp>.md). */
import type { BootResult } from './boot';
import type { FaultRun } from './faults';
import type { JitterResult } from './jitter';
import type { JobsResult } from './jobs';
import type { MemoryResult } from './memory';
import type { ObservabilityResult } from './observability';
import type { ThroughputRound } from './probes';
import type { TargetRun } from './lib/load';
import { mean, median, roundOrNull } from './lib/stats';
import type { Machine, SourceState } from './lib/system';
import { HEALTH_DEFAULTS, TARGETS, type Settings } from './settings';

/** Everything one run measured; written as bench/results/<timestamp>.json. */
export interface BenchResult {
  startedAt: string;
  machine: Machine;
  source: SourceState;
  settings: Settings & { healthDefaults: typeof HEALTH_DEFAULTS };
  targets: typeof TARGETS;
  otherLoadBeforeStartPct?: number | null;
  jitterBefore?: JitterResult[] | null;
  boot: BootResult[];
  throughput: ThroughputRound[];
  appPid?: number;
  faults: FaultRun[];
  rssAfterFaultsMiB?: number | null;
  jobs: JobsResult[];
  rssAfterJobsMiB?: number | null;
  appLogBytes?: number;
  memory?: MemoryResult;
  observability?: ObservabilityResult | { skipped: string };
  jitterAfter?: JitterResult[] | null;
  table?: TableRow[];
  finishedAt?: string;
}

export interface TableRow {
  figure: string;
  measured: string;
  target: string;
  met: string;
}

type Nullable = number | null | undefined;

const fmt = (n: Nullable, digits = 2): string => {
  const rounded = roundOrNull(n, digits);
  return rounded === null ? 'n/a' : String(rounded);
};
const fmtK = (n: Nullable): string =>
  n === null || n === undefined || Number.isNaN(n) ? 'n/a' : `${(n / 1000).toFixed(1)}k`;
const list = (values: readonly Nullable[], digits = 2, unit = ''): string =>
  values.map((v) => `${fmt(v, digits)}${unit}`).join(', ');
const met = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'yes' : '**no**');
const numbers = (values: readonly Nullable[]): number[] =>
  values.filter((v): v is number => v !== null && v !== undefined);

/** The probe rows of the table: each probe cold and after a logged request. */
const PROBE_ROWS: ReadonlyArray<{
  name: string;
  run: 'liveness' | 'readiness' | 'livenessServing' | 'readinessServing';
  ratio: 'livenessRps' | 'readinessRps' | 'livenessServingRps' | 'readinessServingRps';
  ceilingRatio: 'livenessCeilingRps' | 'readinessCeilingRps' | null;
  /** p99 ratios are taken for the cold probes and for readiness after a logged request. */
  p99Ratio: 'livenessP99' | 'readinessP99' | 'readinessServingP99' | null;
  readiness: boolean;
}> = [
  {
    name: 'liveness',
    run: 'liveness',
    ratio: 'livenessRps',
    ceilingRatio: 'livenessCeilingRps',
    p99Ratio: 'livenessP99',
    readiness: false,
  },
  {
    name: 'readiness',
    run: 'readiness',
    ratio: 'readinessRps',
    ceilingRatio: 'readinessCeilingRps',
    p99Ratio: 'readinessP99',
    readiness: true,
  },
  {
    name: 'liveness, after a logged request,',
    run: 'livenessServing',
    ratio: 'livenessServingRps',
    ceilingRatio: null,
    p99Ratio: null,
    readiness: false,
  },
  {
    name: 'readiness, after a logged request,',
    run: 'readinessServing',
    ratio: 'readinessServingRps',
    ceilingRatio: null,
    p99Ratio: 'readinessServingP99',
    readiness: true,
  },
];

export function buildTable(r: BenchResult): TableRow[] {
  const rows: TableRow[] = [];
  const row = (figure: string, measured: string, target = '–', ok: boolean | string | null = null): void => {
    rows.push({ figure, measured, target, met: target === '–' ? '–' : typeof ok === 'string' ? ok : met(ok) });
  };
  const rounds = r.throughput;
  const pick = <T>(f: (x: ThroughputRound) => T): T[] => rounds.map(f);
  const p50p99 = (run: TargetRun): string => `${run.latencyMs.p50}/${run.latencyMs.p99}`;

  const ceilingRps = pick((x) => x.ceiling.rps);
  row(
    'bare node:http ceiling, req/s',
    `${fmtK(mean(ceilingRps))} (${ceilingRps.map(fmtK).join(', ')}); p50/p99 ${pick((x) => p50p99(x.ceiling)).join(', ')} ms`,
  );
  const referenceRatios = pick((x) => x.ratios.nestReferenceCeilingRps);
  row(
    'reference: trivial Nest 12 controller on Fastify, req/s (÷ ceiling)',
    `${fmtK(mean(pick((x) => x.nestReference.rps)))} req/s (${fmt(mean(referenceRatios), 3)}× the ceiling: ${list(referenceRatios, 3)}), ` +
      `p50/p99 ${pick((x) => p50p99(x.nestReference)).join(', ')} ms, ${list(
        pick((x) => x.nestReference.serverCpuUsPerRequest),
        1,
      )} µs CPU/req`,
  );
  for (const probe of PROBE_ROWS) {
    const ratios = pick((x) => x.ratios[probe.ratio]);
    const m = mean(ratios) ?? NaN;
    const { ceilingRatio, p99Ratio } = probe;
    const ceilingRatios = ceilingRatio ? pick((x) => x.ratios[ceilingRatio]) : null;
    row(
      `${probe.name} req/s ÷ trivial Nest controller`,
      `**${fmt(m, 3)}×** (${list(ratios, 3)}); ${fmtK(mean(pick((x) => x[probe.run].rps)))} req/s` +
        (ceilingRatios ? `; ÷ ceiling ${fmt(mean(ceilingRatios), 3)}× (${list(ceilingRatios, 3)})` : ''),
      `≥ ${TARGETS.throughputRatio}× (at least ${TARGETS.throughputRatioMinimum}×)`,
      m >= TARGETS.throughputRatio ? true : m >= TARGETS.throughputRatioMinimum ? 'minimum only' : false,
    );
    const p99Ratios = p99Ratio ? pick((x) => x.ratios[p99Ratio]) : null;
    row(
      `${probe.name} p50 / p99 latency (p99 ÷ trivial Nest controller's)`,
      pick((x) => `${p50p99(x[probe.run])} ms`).join(', ') +
        (p99Ratios ? ` (p99 ${list(p99Ratios)}×)` : '') +
        ` (${list(
          pick((x) => x[probe.run].serverCpuUsPerRequest),
          1,
        )} µs CPU/req)`,
      probe.readiness ? `p99 ≤ ${TARGETS.readinessP99Ratio}×` : '–',
      probe.readiness ? Math.max(...(p99Ratios ?? []).map((v) => v ?? Infinity)) <= TARGETS.readinessP99Ratio : null,
    );
  }
  const us = (run: TargetRun): string =>
    `${run.serverCpuUsPerRequest} (${run.serverUserUsPerRequest} user + ${run.serverSysUsPerRequest} sys)`;
  row(
    'server CPU per request, µs: ceiling / trivial Nest controller / liveness / readiness',
    pick((x) => `${us(x.ceiling)} / ${us(x.nestReference)} / ${us(x.liveness)} / ${us(x.readiness)}`).join('; ') +
      ` → CPU-capacity ratio to the trivial controller: liveness ${fmt(mean(numbers(pick((x) => x.ratios.livenessCpu))))}×, readiness ${fmt(mean(numbers(pick((x) => x.ratios.readinessCpu))))}×`,
  );
  const deps = pick((x) => x.dependencies);
  for (const [label, key] of [
    ['Redis PING', 'redisPing'],
    ['PostgreSQL SELECT 1', 'postgresSelect1'],
  ] as const) {
    const counts = deps.map((d) => ({ windowMs: d.windowMs, count: d[key] }));
    const measured = counts.flatMap(({ windowMs, count }) => (count ? [{ windowMs, ...count }] : []));
    if (measured.length < counts.length) {
      row(`${label} under readiness load`, 'not measured (pg_stat_statements missing)', '≤ 1 per interval', null);
      continue;
    }
    row(
      `${label} per readiness request / per s under load`,
      `${list(
        measured.map((d) => d.perReadinessRequest),
        6,
      )} / ${list(measured.map((d) => d.perSecond))} ` +
        `(${measured.map((d) => `${d.calls} in ${(d.windowMs / 1000).toFixed(1)} s`).join(', ')}; ${list(measured.map((d) => d.perInterval))} per ${HEALTH_DEFAULTS.intervalMs} ms interval)`,
      '0 per probe (≤ 1 per check per interval)',
      measured.every((d) => d.calls <= d.allowedInWindow),
    );
  }
  for (const kind of ['redis', 'postgres'] as const) {
    const runs = r.faults.filter((f) => f.dependency === kind);
    const label = kind === 'redis' ? 'Redis' : 'PostgreSQL';
    const worst = Math.max(...runs.map((f) => f.worstMs));
    row(
      `${label} paused: readiness worst / p99 latency`,
      `${list(
        runs.map((f) => f.worstMs),
        1,
        ' ms',
      )} / ${runs.map((f) => `${f.load.latencyMs.p99} ms`).join(', ')}`,
      `worst ≤ ${TARGETS.pausedWorstMs} ms`,
      worst <= TARGETS.pausedWorstMs,
    );
    const first = runs.map((f) => f.first503Ms);
    row(
      `${label} paused: first 503`,
      list(first, 0, ' ms'),
      `≤ ${TARGETS.first503Ms} ms`,
      first.every((v) => v !== null && v <= TARGETS.first503Ms),
    );
    const back = runs.map((f) => f.back200Ms);
    row(
      `${label} resumed: back to 200`,
      list(back, 0, ' ms'),
      `≤ ${TARGETS.back200Ms} ms`,
      back.every((v) => v !== null && v <= TARGETS.back200Ms),
    );
  }
  const boots = r.boot;
  const bootRatios = boots.map((b) => b.readyMs / b.referenceMs);
  row(
    'spawn → liveness 200',
    list(
      boots.map((b) => b.liveMs),
      0,
      ' ms',
    ),
  );
  row(
    'spawn → readiness 200',
    `${list(
      boots.map((b) => b.readyMs),
      0,
      ' ms',
    )}; mean ${fmt(mean(boots.map((b) => b.readyMs)), 0)} ms (boot 1: fresh database, colder caches); ` +
      `trivial Nest app's spawn → first 200: ${list(
        boots.map((b) => b.referenceMs),
        0,
        ' ms',
      )}; ratio ${fmt(median(bootRatios), 2)}× (${list(bootRatios, 2, '')})`,
    `≤ ${TARGETS.bootReadyRatio}× the trivial Nest app's`,
    median(bootRatios) <= TARGETS.bootReadyRatio,
  );
  row(
    'RSS after load',
    `${list(
      pick((x) => x.rssAfterMiB),
      1,
      ' MiB',
    )} after each probe round (at readiness: ${list(
      boots.map((b) => b.rssAtReadyMiB),
      1,
      '',
    )}); ` + `${fmt(r.rssAfterJobsMiB, 1)} MiB after the jobs load`,
  );
  if (r.memory) {
    const m = r.memory;
    row(
      'RSS ÷ docs-style Terminus app (idle / after 10 s of readiness load)',
      `${fmt(m.idleRatio, 2)}× (${m.idleMiB.app} ÷ ${m.idleMiB.reference} MiB) / ${fmt(m.afterLoadRatio, 2)}× ` +
        `(${m.afterLoadMiB.app} ÷ ${m.afterLoadMiB.reference} MiB)`,
      `≤ ${TARGETS.rssIdleRatio}× / ≤ ${TARGETS.rssAfterLoadRatio}×`,
      m.idleRatio !== null &&
        m.afterLoadRatio !== null &&
        m.idleRatio <= TARGETS.rssIdleRatio &&
        m.afterLoadRatio <= TARGETS.rssAfterLoadRatio,
    );
  }
  if (r.jobs.length > 0) {
    const ratios = r.jobs.map((j) => j.apiToRedisRatio);
    row(
      'jobs POST+GET pairs/s ÷ raw ioredis SET+GET',
      `${fmt(mean(numbers(ratios)), 3)}× (${list(ratios, 3)}); ` +
        `${list(
          r.jobs.map((j) => j.api.pairsPerSec),
          0,
        )} vs ${list(
          r.jobs.map((j) => j.redis.pairsPerSec),
          0,
        )} pairs/s; API p99 ${r.jobs.map((j) => j.api.latencyMs.p99).join(', ')} ms`,
    );
  }
  const foreign = numbers([
    ...rounds.flatMap((x) => [x.ceiling.cpu.foreignPct, x.liveness.cpu.foreignPct, x.readiness.cpu.foreignPct]),
    ...r.faults.map((f) => f.cpu.foreignPct),
  ]);
  row(
    'CPU used by other processes during the measured runs',
    `mean ${fmt(mean(foreign), 0)} %, max ${fmt(Math.max(...foreign), 0)} % of the machine (${r.machine.cpus} CPUs); 0 % = a quiet machine`,
  );
  const jitter = (
    [
      ['before', r.jitterBefore],
      ['after', r.jitterAfter],
    ] as const
  ).flatMap(([when, runs]) => (runs ? [{ when, runs }] : []));
  if (jitter.length > 0) {
    const perCpu = (j: JitterResult): string =>
      `${j.cpu === null ? 'a CPU' : `CPU ${j.cpu}`} ${j.stallsPerSec.ge1ms}/${j.stallsPerSec.ge2ms}/${j.stallsPerSec.ge5ms} per s, worst ${j.worstMs} ms, ` +
      `stalled ${j.stalledPct} % of the time (behind other tasks of this machine: ${j.runQueueWaitMs === null ? 'n/a' : fmt((j.runQueueWaitMs / (j.seconds * 1000)) * 100, 2)} %)`;
    row(
      'platform jitter on an idle machine: stalls ≥ 1 / ≥ 2 / ≥ 5 ms of a spinning process, per CPU',
      jitter.map(({ when, runs }) => `${when} the run: ${runs.map(perCpu).join('; ')}`).join('. '),
    );
  }
  const obs = r.observability;
  if (obs && 'variants' in obs) {
    const cost = (x: { costPct: number; costRangePct: [number, number] }): string =>
      `${fmt(x.costPct, 1)} % [${x.costRangePct.join('..')}]`;
    for (const v of obs.variants.filter((x) => x.name !== 'bare')) {
      row(
        `observability "${v.name}" throughput cost vs bare`,
        `GET /jobs/:id ${cost(v.job)} (${fmtK(v.job.requestsPerSec)} req/s, ${fmt(v.job.logBytesPerRequest, 0)} log B/req); ` +
          `GET /health/ready ${cost(v.probe)} (${fmtK(v.probe.requestsPerSec)} req/s)`,
      );
    }
  } else if (obs) {
    row('observability cost', `skipped: ${obs.skipped}`);
  }
  return rows;
}

export function renderTable(rows: readonly TableRow[]): string {
  const header = ['figure', 'measured', 'target', 'met?'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.figure} | ${r.measured} | ${r.target} | ${r.met} |`);
  return lines.join('\n');
}

/** The text printed to stdout and written as bench/results/<timestamp>.md. */
export function renderReport(result: BenchResult, table: readonly TableRow[]): string {
  const { machine: m, settings } = result;
  return [
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (the load generator, the app and the ceiling share them), ${m.memoryGiB} GiB, ${m.kernel}`,
    `Node ${m.node}, load ${m.load} (fault load and jobs: ${m.autocannon}), Redis ${m.redis.split(' ')[0]}, ${m.postgres}`,
    `Source: ${result.source.commit}${result.source.uncommittedSrc.length ? ` + uncommitted ${result.source.uncommittedSrc.join(', ')}` : ''}`,
    `Load: ${settings.connections} connections, ${settings.warmupSec} s warm-up + ${settings.durationSec} s measured per endpoint, interleaved in ${settings.slices} cycles (ratios: median of per-cycle pairs; latency: ${result.throughput[0].ceiling.latencyMs.of}), ${settings.rounds} rounds (a fresh app process each); ` +
      `faults: ${settings.pauseSec} s SIGSTOP, poll every ${settings.pollIntervalMs} ms + autocannon ${settings.faultLoad.connections} connections at ${settings.faultLoad.rate} req/s`,
    '',
    renderTable(table),
    '',
  ].join('\n');
}

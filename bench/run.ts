/**
 * `npm run bench`: the service's figures, measured against their baselines in one run.
 *
 *   services  the test harness's throwaway redis-server and PostgreSQL (pg_stat_statements),
 *             on free loopback ports; never the machine's own 5432/6379
 *   app       `node dist/main.js` with the image's NODE_OPTIONS, NODE_ENV=production, LOG_LEVEL=info,
 *             default health settings
 *   ceiling   bench/ceiling-server.ts: bare node:http answering a fixed JSON body
 *   reference bench/nest-reference-server.ts: a trivial Nest 12 controller on Fastify, the baseline of the
 *             probe targets (the probes are Nest controller routes too)
 *   load      wrk (when installed; else autocannon, or BENCH_LOAD=wrk|autocannon) as its own process,
 *             32 connections; ceiling, reference, liveness and readiness interleaved in BENCH_SLICES
 *             short slices, each ratio the median of per-cycle pairs; p50/p99 over every request of
 *             the slices (wrk's histograms). The fault load (fixed rate) and jobs use autocannon.
 *
 * Figures (each taken BENCH_ROUNDS times, default 5; the table shows the mean and every run).
 * Each throughput round runs against a freshly booted app process (the boot is
 * measured too): the same build varies by ±20 % in CPU per request from one
 * process to the next on this machine, and a deployment gets whichever it gets.
 *   1. liveness / readiness req/s, p50, p99, as ratios to the trivial Nest controller (targets:
 *      req/s ≥ 0.85×, at least 0.6×; readiness p99 ≤ 1.5×); again after one access-logged request
 *      (the state of a pod that serves traffic); the ratio to the bare ceiling is reported, not a
 *      target (bench/probes.ts)
 *   2. dependency calls (Redis cmdstat_ping, PostgreSQL SELECT 1) per readiness request (target 0: only
 *      the monitor's timer calls a dependency, at most once per check per interval) and per second
 *      (bench/probes.ts)
 *   3. readiness while Redis / PostgreSQL is SIGSTOPped: worst and p99 latency, first 503, back to 200
 *      (bench/faults.ts)
 *   4. spawn → liveness 200 and → readiness 200 (bench/boot.ts); RSS after the load; RSS idle and after
 *      10 s of readiness load as ratios to bench/terminus-reference-app.ts (targets ≤ 1.1× and ≤ 1.0×;
 *      bench/memory.ts)
 *   5. jobs create+get vs raw ioredis SET+GET (bench/jobs.ts); logging/metrics cost (bench/observability.ts)
 * and, for reading the latencies, the machine's own jitter (bench/jitter.ts) before and after the run.
 *
 * Environment: BENCH_DURATION_SEC (10, per endpoint), BENCH_SLICES (5), BENCH_WARMUP_SEC (2), BENCH_CONNECTIONS (32),
 * BENCH_ROUNDS (5), BENCH_BOOTS (rounds + 1: the first boot, on a
 * fresh database and cold caches, only measures the boot), BENCH_PAUSE_SEC (4), BENCH_OBSERVABILITY (1; 0 skips it),
 * BENCH_JITTER_SEC (5; 0 skips the platform-jitter figure, taken before and after the run).
 * Output: a table on stdout, JSON and Markdown in bench/results/<timestamp>.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureBoot } from './boot';
import { faultRun, waitReady } from './faults';
import { measureJitter } from './jitter';
import { jobsRuns } from './jobs';
import { memoryAgainstReference } from './memory';
import { observabilityRun } from './observability';
import { throughputRound } from './probes';
import { buildTable, renderReport, type BenchResult } from './report';
import { runMain } from './lib/cli';
import { loadGenerator } from './lib/load';
import { RESULTS_DIR } from './lib/paths';
import {
  installExitCleanup,
  snapshotBuild,
  startReferenceServer,
  startServices,
  type AppHandle,
  type ReferenceServer,
  type Services,
} from './lib/processes';
import { cpuMeter, machine, rssMiB, sleep, sourceState } from './lib/system';
import { HEALTH_DEFAULTS, log, SETTINGS, TARGETS } from './settings';

type Measured = Omit<BenchResult, 'startedAt' | 'machine' | 'source' | 'settings' | 'targets' | 'jitterAfter'>;

/** Every figure but the closing jitter, in the order the table reads them. */
async function measure(): Promise<Measured> {
  let services: Services | undefined;
  let app: AppHandle | undefined;
  let ceiling: ReferenceServer | undefined;
  let reference: ReferenceServer | undefined;
  try {
    const quiet = cpuMeter();
    await sleep(2000);
    const otherLoadBeforeStartPct = quiet().foreignPct;
    if (otherLoadBeforeStartPct !== null && otherLoadBeforeStartPct > 10) {
      log(`WARNING: other processes use ${otherLoadBeforeStartPct} % of the machine's CPU: every figure will be noisy`);
    }
    const jitterBefore = await measureJitter('before the run');
    log('starting throwaway redis-server and PostgreSQL (test harness)');
    services = await startServices();
    installExitCleanup();
    ceiling = await startReferenceServer();
    reference = await startReferenceServer([], { script: 'nest-reference-server.js', path: '/health/live' });

    // Boots that only measure the boot, then one fresh app process per throughput round;
    // the last one stays up for the fault, RSS and jobs figures.
    const bootOnly = Math.max(1, SETTINGS.boots - SETTINGS.rounds);
    const boot: Measured['boot'] = [];
    const throughput: Measured['throughput'] = [];
    for (let i = 0; i < bootOnly + SETTINGS.rounds; i++) {
      const round = i - bootOnly;
      const { result, app: kept } = await measureBoot(services, i, round >= 0);
      boot.push(result);
      if (round < 0 || !kept) continue;
      app = kept;
      const measured = await throughputRound(services, app, ceiling, round, reference);
      measured.appPid = app.pid;
      throughput.push(measured);
      if (round < SETTINGS.rounds - 1) {
        await app.stop();
        app = undefined;
      }
    }
    if (!app) throw new Error('no app process left for the fault, RSS and jobs figures');
    const appPid = app.pid;

    const faults: Measured['faults'] = [];
    for (let i = 0; i < SETTINGS.rounds; i++) {
      faults.push(await faultRun('redis', services.redis, app, i));
      faults.push(await faultRun('postgres', services.postgres, app, i));
    }
    await waitReady(app);
    const rssAfterFaultsMiB = rssMiB(app.pid);

    const jobs = await jobsRuns(app, services.redis.url());
    const rssAfterJobsMiB = rssMiB(app.pid);
    const appLogBytes = app.output.bytes;

    await ceiling.stop();
    await reference.stop();
    reference = undefined;
    await app.stop();
    ceiling = undefined;
    app = undefined;

    const memory = await memoryAgainstReference(services);

    let observability: Measured['observability'];
    try {
      observability = await observabilityRun(services.redis.url(2));
    } catch (error) {
      // Not one of the targeted figures: a failure there must not lose the others.
      observability = { skipped: `failed: ${error instanceof Error ? error.message : String(error)}` };
      log(`observability failed: ${observability.skipped}`);
    }
    return {
      otherLoadBeforeStartPct,
      jitterBefore,
      boot,
      throughput,
      appPid,
      faults,
      rssAfterFaultsMiB,
      jobs,
      rssAfterJobsMiB,
      appLogBytes,
      memory,
      observability,
    };
  } catch (error) {
    if (app) process.stderr.write(`--- app output (tail) ---\n${app.output.tail()}\n`);
    throw error;
  } finally {
    if (app) await app.stop();
    if (ceiling) await ceiling.stop();
    if (reference) await reference.stop();
    if (services) await services.stop();
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  // Freeze the build first: another checkout user's `nest build` must not swap dist/ mid-run.
  snapshotBuild();
  const setup = {
    startedAt: startedAt.toISOString(),
    machine: machine(loadGenerator()),
    source: sourceState(),
    settings: { ...SETTINGS, healthDefaults: HEALTH_DEFAULTS },
    targets: TARGETS,
  };
  log(`machine: ${setup.machine.cpuModel}, ${setup.machine.cpus} CPUs, Node ${setup.machine.node}`);
  const measured = await measure();
  const result: BenchResult = { ...setup, ...measured, jitterAfter: await measureJitter('after the run') };
  result.table = buildTable(result);
  result.finishedAt = new Date().toISOString();
  const text = renderReport(result, result.table);
  process.stdout.write(text);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, '.md'), `${text}\n`);
  process.stdout.write(`\nresults: ${file}\n`);
}

runMain('bench', main);

'use strict';
/**
 * `npm run bench` (= `npm run build && node bench/run.js`): the service's figures,
 * measured against their baselines in one run.
 *
 *   services  the test harness's throwaway redis-server and PostgreSQL (pg_stat_statements),
 *             on free loopback ports; never the machine's own 5432/6379
 *   app       `node dist/main.js` with the image's NODE_OPTIONS, NODE_ENV=production, LOG_LEVEL=info,
 *             default health settings
 *   ceiling   bench/ceiling-server.js: bare node:http answering a fixed JSON body
 *   reference bench/nest-reference-server.js: a trivial Nest 12 controller on Fastify, the baseline of the
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
 *      (the state of a pod that serves traffic); the ratio to the bare ceiling is reported, not a target
 *   2. dependency calls (Redis cmdstat_ping, PostgreSQL SELECT 1) per readiness request (target 0: only
 *      the monitor's timer calls a dependency, at most once per check per interval) and per second
 *   3. readiness while Redis / PostgreSQL is SIGSTOPped: worst and p99 latency, first 503, back to 200
 *   4. spawn → liveness 200 and → readiness 200; RSS after the load; RSS idle and after 10 s of readiness
 *      load as ratios to bench/terminus-reference-app.js (targets ≤ 1.1× and ≤ 1.0×)
 *   5. jobs create+get vs raw ioredis SET+GET (bench/jobs.js); logging/metrics cost (bench/observability.js)
 * and, for reading the latencies, the machine's own jitter (bench/jitter.js) before and after the run.
 *
 * Environment: BENCH_DURATION_SEC (10, per endpoint), BENCH_SLICES (5), BENCH_WARMUP_SEC (2), BENCH_CONNECTIONS (32),
 * BENCH_ROUNDS (5), BENCH_BOOTS (rounds + 1: the first boot, on a
 * fresh database and cold caches, only measures the boot), BENCH_PAUSE_SEC (4), BENCH_OBSERVABILITY (1; 0 skips it),
 * BENCH_JITTER_SEC (5; 0 skips the platform-jitter figure, bench/jitter.js, taken before and after the run).
 * Output: a table on stdout, JSON in bench/results/<timestamp>.json.
 */
const { mkdirSync, writeFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const {
  cannon,
  cpuMeter,
  installExitCleanup,
  interleaved,
  machine,
  mean,
  platformJitter,
  now,
  pairedRatio,
  probe,
  round,
  rssMiB,
  IMAGE_ENV,
  sleep,
  spawnApp,
  startReferenceServer,
  startPoller,
  startServices,
  snapshotBuild,
  sourceState,
  timeTo200,
} = require('./support');

const num = (name, fallback) =>
  process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);
const SETTINGS = {
  connections: num('BENCH_CONNECTIONS', 32),
  durationSec: num('BENCH_DURATION_SEC', 10),
  warmupSec: num('BENCH_WARMUP_SEC', 2),
  slices: Math.max(1, num('BENCH_SLICES', 5)),
  rounds: Math.max(2, num('BENCH_ROUNDS', 5)),
  boots: num('BENCH_BOOTS', 0),
  pauseSec: num('BENCH_PAUSE_SEC', 4),
  jitterSec: num('BENCH_JITTER_SEC', 5),
  faultLoad: { connections: 4, rate: 1000 },
  pollIntervalMs: 20,
  bootPollIntervalMs: 10,
  observability: process.env.BENCH_OBSERVABILITY !== '0',
};

/** The app's defaults (src/config/environment.ts), which the bench does not override. */
const HEALTH_DEFAULTS = { intervalMs: 1000, failureIntervalMs: 500, checkTimeoutMs: 500, readinessBudgetMs: 800 };

const TARGETS = {
  // Probe req/s ÷ the trivial Nest controller's, in the same slices; below the minimum is a failure.
  throughputRatio: 0.85,
  throughputRatioMinimum: 0.6,
  // Readiness p99 ÷ the trivial Nest controller's p99, in the same slices.
  readinessP99Ratio: 1.5,
  callsPerCheckPerInterval: 1,
  pausedWorstMs: 1000,
  first503Ms: 1500,
  back200Ms: 1500,
  bootReadyMs: 1000,
  // RSS ÷ the docs-style Terminus app's (bench/terminus-reference-app.js), same flags, same run.
  rssIdleRatio: 1.1,
  rssAfterLoadRatio: 1.0,
};

const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// ------------------------------------------------------------------ dependency counters

/** Redis: CONFIG RESETSTAT; later INFO commandstats → calls per command. */
async function redisResetStats(redis) {
  await redis.command('CONFIG', 'RESETSTAT');
}

async function redisCommandCalls(redis) {
  const text = String(await redis.command('INFO', 'commandstats'));
  const calls = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

/** PostgreSQL: pg_stat_statements_reset(); later the statements run in database `app`. */
async function pgResetStats(postgres) {
  if (postgres.hasPgStatStatements) await postgres.query('SELECT pg_stat_statements_reset()');
}

async function pgStatementCalls(postgres) {
  if (!postgres.hasPgStatStatements) return null;
  const rows = await postgres.query(
    `SELECT s.query, s.calls::int AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = 'app' AND s.query NOT ILIKE '%pg_stat_statements%'`,
  );
  const select1 = rows.filter((r) => /^select (1|\$1)$/i.test(r.query.trim())).reduce((a, r) => a + r.calls, 0);
  const all = rows.reduce((a, r) => a + r.calls, 0);
  return { select1, all, statements: rows };
}

// ------------------------------------------------------------------ phases

/** The boot's reference: the trivial Nest app's spawn → first 200, right after each boot of the app. */
async function referenceBootMs() {
  const spawnedAt = now();
  const reference = await startReferenceServer([], { script: 'nest-reference-server.js', path: '/health/live' });
  try {
    return await timeTo200(reference.url, spawnedAt, { intervalMs: SETTINGS.bootPollIntervalMs });
  } finally {
    await reference.stop();
  }
}

/** Figure 4 (boot): spawn → /health/live 200 and → /health/ready 200, polled every 10 ms. */
async function measureBoot(services, index, keep) {
  const meter = cpuMeter();
  const app = await spawnApp({ redisUrl: services.redis.url(), databaseUrl: services.postgres.url() });
  const alive = () => app.child.exitCode === null && app.child.signalCode === null;
  try {
    const [liveMs, readyMs] = await Promise.all([
      timeTo200(`${app.baseUrl}/health/live`, app.spawnedAt, {
        intervalMs: SETTINGS.bootPollIntervalMs,
        isAlive: alive,
      }),
      timeTo200(`${app.baseUrl}/health/ready`, app.spawnedAt, {
        intervalMs: SETTINGS.bootPollIntervalMs,
        isAlive: alive,
      }),
    ]);
    const result = {
      boot: index + 1,
      liveMs: round(liveMs, 0),
      readyMs: round(readyMs, 0),
      rssAtReadyMiB: rssMiB(app.pid),
      otherLoadPct: meter().foreignPct,
      referenceMs: round(await referenceBootMs(), 0),
    };
    log(
      `boot ${index + 1}: live ${result.liveMs} ms, ready ${result.readyMs} ms, trivial Nest app ${result.referenceMs} ms`,
    );
    if (!keep) await app.stop();
    return { result, app: keep ? app : undefined };
  } catch (error) {
    await app.stop();
    throw new Error(`${error.message}\n--- app output ---\n${app.output.tail}`);
  }
}

/**
 * Figure 4 (RSS against a reference): a fresh app and bench/terminus-reference-app.js (the same
 * stack built the way the docs show, one controller pinging both dependencies per request), both
 * with the image's environment: RSS once ready and idle for 5 s, then after 10 s of readiness load each.
 */
async function memoryAgainstReference(services) {
  const urls = { redisUrl: services.redis.url(), databaseUrl: services.postgres.url() };
  const app = await spawnApp(urls);
  const reference = await startReferenceServer([], {
    script: 'terminus-reference-app.js',
    path: '/health',
    env: { ...IMAGE_ENV, NODE_ENV: 'production', REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl },
  });
  try {
    await waitReady(app);
    await timeTo200(reference.url, now(), { intervalMs: 50 });
    await sleep(5000);
    const idle = { app: rssMiB(app.pid), reference: rssMiB(reference.pid) };
    const load = { connections: SETTINGS.connections, durationSec: 10 };
    await cannon(`${app.baseUrl}/health/ready`, load);
    await cannon(reference.url, load);
    const afterLoad = { app: rssMiB(app.pid), reference: rssMiB(reference.pid) };
    log(
      `RSS idle ${idle.app} MiB (reference ${idle.reference}); after load ${afterLoad.app} MiB (reference ${afterLoad.reference})`,
    );
    return {
      idleMiB: idle,
      afterLoadMiB: afterLoad,
      idleRatio: round(idle.app / idle.reference, 3),
      afterLoadRatio: round(afterLoad.app / afterLoad.reference, 3),
    };
  } finally {
    await Promise.allSettled([app.stop(), reference.stop()]);
  }
}

/** Figures 1, 2 and 4 (RSS): one round of ceiling, reference, liveness, readiness (counting dependency calls). */
async function throughputRound(services, app, ceiling, index, reference) {
  const targets = [
    { name: 'ceiling', url: ceiling.url, pid: ceiling.pid },
    { name: 'nestReference', url: reference.url, pid: reference.pid },
    { name: 'liveness', url: `${app.baseUrl}/health/live`, pid: app.pid },
    { name: 'readiness', url: `${app.baseUrl}/health/ready`, pid: app.pid },
  ];
  let windowStart;
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
  // A timer-driven check may fire at both ends of the window: floor(intervals) + 1 calls are allowed.
  const allowed = Math.floor(intervals) + 1;
  const count = (calls) =>
    calls === null
      ? null
      : {
          calls,
          perReadinessRequest: round(calls / Math.max(readyRun.requests, 1), 6),
          perSecond: round(calls / (windowMs / 1000), 2),
          perInterval: round(calls / intervals, 2),
          allowedInWindow: allowed,
        };
  const otherRedis = Object.entries(redisCalls)
    .filter(([name]) => !/^(ping|info|config)(\|.*)?$/.test(name)) // the bench's own INFO and CONFIG RESETSTAT
    .reduce((a, [, n]) => a + n, 0);
  const dependencies = {
    windowMs: round(windowMs, 0),
    readinessRequests: readyRun.requests,
    redisPing: count(redisCalls.ping ?? 0),
    redisOtherCommands: otherRedis,
    postgresSelect1: pgCalls ? count(pgCalls.select1) : null,
    postgresAllStatements: pgCalls ? pgCalls.all : null,
  };
  // The same probes once the process has served an access-logged request, the state of a pod
  // that serves traffic (until 2026-12 this switched async hooks on for the whole process).
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

const ratioOrNull = (a, b) => (b > 0 ? round(a / b, 2) : null);

/** Waits until readiness answers 200 `samples` times in a row (the app is healthy again). */
async function waitReady(app, timeoutMs = 30_000) {
  const deadline = now() + timeoutMs;
  let streak = 0;
  while (streak < 5) {
    if (now() > deadline) throw new Error('readiness did not return to 200');
    streak = (await probe(`${app.baseUrl}/health/ready`)).status === 200 ? streak + 1 : 0;
    await sleep(50);
  }
}

/**
 * Figure 3: readiness while `dependency` is SIGSTOPped. A poller (one request
 * every ~20 ms) gives first 503 and back to 200; a modest rate-limited
 * autocannon load across the whole window gives p99 and the worst latency.
 */
async function faultRun(kind, fixture, app, index) {
  await waitReady(app);
  const url = `${app.baseUrl}/health/ready`;
  const beforeMs = 1500;
  const afterMs = 3000;
  const meter = cpuMeter(app.pid);
  const poller = startPoller(url, SETTINGS.pollIntervalMs);
  const loadRun = cannon(url, {
    connections: SETTINGS.faultLoad.connections,
    rate: SETTINGS.faultLoad.rate,
    durationSec: (beforeMs + SETTINGS.pauseSec * 1000 + afterMs) / 1000,
  });
  let tPause;
  let tResume;
  try {
    await sleep(beforeMs);
    tPause = now();
    await fixture.pause();
    await sleep(SETTINGS.pauseSec * 1000 - (now() - tPause));
  } finally {
    tResume = now();
    await fixture.resume();
  }
  const recoveryDeadline = tResume + 15_000;
  while (!poller.samples.some((s) => s.sentAt >= tResume && s.status === 200) && now() < recoveryDeadline)
    await sleep(20);
  const autocannonRun = await loadRun;
  const samples = await poller.stop();

  const first503 = samples.find((s) => s.sentAt >= tPause && s.status === 503);
  const back200 = samples.find((s) => s.sentAt >= tResume && s.status === 200);
  const inPause = samples
    .filter((s) => s.sentAt >= tPause && s.sentAt < tResume)
    .map((s) => s.latencyMs)
    .sort((a, b) => a - b);
  const other = samples.filter((s) => s.status !== 200 && s.status !== 503);
  const result = {
    dependency: kind,
    run: index + 1,
    pausedMs: round(tResume - tPause, 0),
    first503Ms: first503 ? round(first503.doneAt - tPause, 0) : null,
    back200Ms: back200 ? round(back200.doneAt - tResume, 0) : null,
    pollSamples: samples.length,
    pollDuringPause: {
      samples: inPause.length,
      p99Ms: round(inPause[Math.min(inPause.length - 1, Math.floor(inPause.length * 0.99))] ?? null, 1),
      maxMs: round(inPause.at(-1) ?? null, 1),
    },
    pollErrors: other.length,
    pollMaxMs: round(Math.max(...samples.map((s) => s.latencyMs)), 1),
    load: autocannonRun,
    cpu: meter(),
  };
  result.worstMs = round(Math.max(result.pollMaxMs, autocannonRun.latencyMs.max), 1);
  log(
    `${kind} paused (${index + 1}): first 503 ${result.first503Ms} ms, back to 200 ${result.back200Ms} ms, ` +
      `worst ${result.worstMs} ms, load p99 ${autocannonRun.latencyMs.p99} ms (${autocannonRun.statusCodes['503'] ?? 0} × 503)`,
  );
  return result;
}

/** Figure 5: bench/jobs.js against the app under test and the same Redis. */
async function jobsRuns(services, app) {
  const { benchJobs } = require('./jobs');
  const options = { baseUrl: app.baseUrl, redisUrl: services.redis.url(), connections: SETTINGS.connections };
  await benchJobs({ ...options, durationSec: SETTINGS.warmupSec }); // warm-up, discarded
  const runs = [];
  for (let i = 0; i < SETTINGS.rounds; i++) {
    const result = await benchJobs({ ...options, durationSec: SETTINGS.durationSec });
    log(
      `jobs ${i + 1}: API ${result.api.pairsPerSec} pairs/s vs Redis ${result.redis.pairsPerSec} pairs/s (${result.apiToRedisRatio})`,
    );
    runs.push(result);
  }
  return runs;
}

/** bench/observability.js, when it exists and exports a function (logging and metrics cost). */
async function observabilityRun(services) {
  const path = join(__dirname, 'observability.js');
  if (!SETTINGS.observability) return { skipped: 'BENCH_OBSERVABILITY=0' };
  if (!existsSync(path)) return { skipped: 'bench/observability.js not present' };
  const mod = require(path);
  const fn =
    typeof mod.benchObservability === 'function'
      ? mod.benchObservability
      : Object.values(mod).find((v) => typeof v === 'function');
  if (typeof fn !== 'function') return { skipped: 'bench/observability.js exports no function' };
  log('observability: bench/observability.js (each variant boots its own app)');
  // Its own defaults for slices and cycles (it pairs short slices to cancel a shared host's drift).
  return fn({ redisUrl: services.redis.url(2), connections: SETTINGS.connections, warmupSec: SETTINGS.warmupSec });
}

/** bench/jitter.js on every CPU while nothing of the bench runs (BENCH_JITTER_SEC=0 skips it). */
async function measureJitter(when) {
  if (SETTINGS.jitterSec <= 0) return null;
  log(`platform jitter ${when}: one spinner per CPU for ${SETTINGS.jitterSec} s`);
  return platformJitter(SETTINGS.jitterSec);
}

// ------------------------------------------------------------------ table

const fmt = (n, digits = 2) => (n === null || n === undefined ? 'n/a' : String(round(n, digits)));
const fmtK = (n) => (n === null || n === undefined ? 'n/a' : `${(n / 1000).toFixed(1)}k`);
const list = (values, digits = 2, unit = '') => values.map((v) => `${fmt(v, digits)}${unit}`).join(', ');
const met = (ok) => (ok === null ? 'n/a' : ok ? 'yes' : '**no**');

function buildTable(r) {
  const rows = [];
  const row = (figure, measured, target = '–', ok = null) =>
    rows.push({ figure, measured, target, met: target === '–' ? '–' : typeof ok === 'string' ? ok : met(ok) });
  const rounds = r.throughput;
  const pick = (f) => rounds.map(f);

  const ceilingRps = pick((x) => x.ceiling.rps);
  row(
    'bare node:http ceiling, req/s',
    `${fmtK(mean(ceilingRps))} (${ceilingRps.map(fmtK).join(', ')}); p50/p99 ${pick((x) => `${x.ceiling.latencyMs.p50}/${x.ceiling.latencyMs.p99}`).join(', ')} ms`,
  );
  const referenceRatios = pick((x) => x.ratios.nestReferenceCeilingRps);
  row(
    'reference: trivial Nest 12 controller on Fastify, req/s (÷ ceiling)',
    `${fmtK(mean(pick((x) => x.nestReference.rps)))} req/s (${fmt(mean(referenceRatios), 3)}× the ceiling: ${list(referenceRatios, 3)}), ` +
      `p50/p99 ${pick((x) => `${x.nestReference.latencyMs.p50}/${x.nestReference.latencyMs.p99}`).join(', ')} ms, ${list(
        pick((x) => x.nestReference.serverCpuUsPerRequest),
        1,
      )} µs CPU/req`,
  );
  for (const [name, key, ratioKey, ceilingKey] of [
    ['liveness', 'liveness', 'livenessRps', 'livenessCeilingRps'],
    ['readiness', 'readiness', 'readinessRps', 'readinessCeilingRps'],
    ['liveness, after a logged request,', 'livenessServing', 'livenessServingRps', null],
    ['readiness, after a logged request,', 'readinessServing', 'readinessServingRps', null],
  ]) {
    const ratios = pick((x) => x.ratios[ratioKey]);
    const m = mean(ratios);
    const ceilingRatios = ceilingKey ? pick((x) => x.ratios[ceilingKey]) : null;
    row(
      `${name} req/s ÷ trivial Nest controller`,
      `**${fmt(m, 3)}×** (${list(ratios, 3)}); ${fmtK(mean(pick((x) => x[key].rps)))} req/s` +
        (ceilingRatios ? `; ÷ ceiling ${fmt(mean(ceilingRatios), 3)}× (${list(ceilingRatios, 3)})` : ''),
      `≥ ${TARGETS.throughputRatio}× (at least ${TARGETS.throughputRatioMinimum}×)`,
      m >= TARGETS.throughputRatio ? true : m >= TARGETS.throughputRatioMinimum ? 'minimum only' : false,
    );
    // p99 ratios are taken for the cold liveness/readiness and for readiness after a logged request.
    const p99Key = `${key}P99`;
    const p99Ratios = p99Key in rounds[0].ratios ? pick((x) => x.ratios[p99Key]) : null;
    const isReadiness = key.startsWith('readiness');
    row(
      `${name} p50 / p99 latency (p99 ÷ trivial Nest controller's)`,
      pick((x) => `${x[key].latencyMs.p50}/${x[key].latencyMs.p99} ms`).join(', ') +
        (p99Ratios ? ` (p99 ${list(p99Ratios)}×)` : '') +
        ` (${list(
          pick((x) => x[key].serverCpuUsPerRequest),
          1,
        )} µs CPU/req)`,
      isReadiness ? `p99 ≤ ${TARGETS.readinessP99Ratio}×` : '–',
      isReadiness ? Math.max(...p99Ratios.map((v) => v ?? Infinity)) <= TARGETS.readinessP99Ratio : null,
    );
  }
  const us = (run) =>
    `${run.serverCpuUsPerRequest} (${run.serverUserUsPerRequest} user + ${run.serverSysUsPerRequest} sys)`;
  row(
    'server CPU per request, µs: ceiling / trivial Nest controller / liveness / readiness',
    pick((x) => `${us(x.ceiling)} / ${us(x.nestReference)} / ${us(x.liveness)} / ${us(x.readiness)}`).join('; ') +
      ` → CPU-capacity ratio to the trivial controller: liveness ${fmt(mean(pick((x) => x.ratios.livenessCpu)))}×, readiness ${fmt(mean(pick((x) => x.ratios.readinessCpu)))}×`,
  );
  const deps = pick((x) => x.dependencies);
  for (const [label, key] of [
    ['Redis PING', 'redisPing'],
    ['PostgreSQL SELECT 1', 'postgresSelect1'],
  ]) {
    if (deps.some((d) => d[key] === null)) {
      row(`${label} under readiness load`, 'not measured (pg_stat_statements missing)', '≤ 1 per interval', null);
      continue;
    }
    const ok = deps.every((d) => d[key].calls <= d[key].allowedInWindow);
    row(
      `${label} per readiness request / per s under load`,
      `${list(
        deps.map((d) => d[key].perReadinessRequest),
        6,
      )} / ${list(deps.map((d) => d[key].perSecond))} ` +
        `(${deps.map((d) => `${d[key].calls} in ${(d.windowMs / 1000).toFixed(1)} s`).join(', ')}; ${list(deps.map((d) => d[key].perInterval))} per ${HEALTH_DEFAULTS.intervalMs} ms interval)`,
      '0 per probe (≤ 1 per check per interval)',
      ok,
    );
  }
  for (const kind of ['redis', 'postgres']) {
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
      )}`,
    `≤ ${TARGETS.bootReadyMs} ms`,
    boots.every((b) => b.readyMs <= TARGETS.bootReadyMs),
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
      m.idleRatio <= TARGETS.rssIdleRatio && m.afterLoadRatio <= TARGETS.rssAfterLoadRatio,
    );
  }
  if (Array.isArray(r.jobs) && r.jobs.length > 0) {
    row(
      'jobs POST+GET pairs/s ÷ raw ioredis SET+GET',
      `${fmt(mean(r.jobs.map((j) => j.apiToRedisRatio)), 3)}× (${list(
        r.jobs.map((j) => j.apiToRedisRatio),
        3,
      )}); ` +
        `${list(
          r.jobs.map((j) => j.api.pairsPerSec),
          0,
        )} vs ${list(
          r.jobs.map((j) => j.redis.pairsPerSec),
          0,
        )} pairs/s; API p99 ${r.jobs.map((j) => j.api.latencyMs.p99).join(', ')} ms`,
    );
  }
  const foreign = [
    ...rounds.flatMap((x) => [x.ceiling.cpu.foreignPct, x.liveness.cpu.foreignPct, x.readiness.cpu.foreignPct]),
    ...r.faults.map((f) => f.cpu.foreignPct),
  ].filter((v) => v !== null);
  row(
    'CPU used by other processes during the measured runs',
    `mean ${fmt(mean(foreign), 0)} %, max ${fmt(Math.max(...foreign), 0)} % of the machine (${r.machine.cpus} CPUs); 0 % = a quiet machine`,
  );
  const jitter = [
    ['before', r.jitterBefore],
    ['after', r.jitterAfter],
  ].filter(([, runs]) => Array.isArray(runs));
  if (jitter.length > 0) {
    const perCpu = (j) =>
      `${j.cpu === null ? 'a CPU' : `CPU ${j.cpu}`} ${j.stallsPerSec.ge1ms}/${j.stallsPerSec.ge2ms}/${j.stallsPerSec.ge5ms} per s, worst ${j.worstMs} ms, ` +
      `stalled ${j.stalledPct} % of the time (behind other tasks of this machine: ${j.runQueueWaitMs === null ? 'n/a' : fmt((j.runQueueWaitMs / (j.seconds * 1000)) * 100, 2)} %)`;
    row(
      'platform jitter on an idle machine: stalls ≥ 1 / ≥ 2 / ≥ 5 ms of a spinning process, per CPU',
      jitter.map(([when, runs]) => `${when} the run: ${runs.map(perCpu).join('; ')}`).join('. '),
    );
  }
  const obs = r.observability;
  if (obs && Array.isArray(obs.variants)) {
    // Read defensively: bench/observability.js belongs to the observability work and may change shape.
    const cost = (x, flat) => {
      const pct = x?.costPct ?? flat;
      const range = Array.isArray(x?.costRangePct) ? ` [${x.costRangePct.join('..')}]` : '';
      return `${fmt(pct, 1)} %${range}`;
    };
    for (const v of obs.variants.filter((x) => x.name !== 'bare')) {
      row(
        `observability "${v.name}" throughput cost vs bare`,
        `GET /jobs/:id ${cost(v.job, v.jobCostPct)} (${fmtK(v.job?.requestsPerSec)} req/s, ${fmt(v.job?.logBytesPerRequest, 0)} log B/req); ` +
          `GET /health/ready ${cost(v.probe, v.probeCostPct)} (${fmtK(v.probe?.requestsPerSec)} req/s)`,
      );
    }
  } else if (obs && obs.skipped) {
    row('observability cost', `skipped: ${obs.skipped}`);
  }
  return rows;
}

function renderTable(rows) {
  const header = ['figure', 'measured', 'target', 'met?'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.figure} | ${r.measured} | ${r.target} | ${r.met} |`);
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

async function main() {
  const startedAt = new Date();
  // Freeze the build first: another checkout user's `nest build` must not swap dist/ mid-run.
  snapshotBuild();
  const result = {
    startedAt: startedAt.toISOString(),
    machine: machine(),
    source: sourceState(),
    settings: { ...SETTINGS, healthDefaults: HEALTH_DEFAULTS },
    targets: TARGETS,
  };
  log(`machine: ${result.machine.cpuModel}, ${result.machine.cpus} CPUs, Node ${result.machine.node}`);
  let services;
  let app;
  let ceiling;
  let reference;
  try {
    const quiet = cpuMeter();
    await sleep(2000);
    result.otherLoadBeforeStartPct = quiet().foreignPct;
    if (result.otherLoadBeforeStartPct > 10) {
      log(
        `WARNING: other processes use ${result.otherLoadBeforeStartPct} % of the machine's CPU: every figure will be noisy`,
      );
    }
    result.jitterBefore = await measureJitter('before the run');
    log('starting throwaway redis-server and PostgreSQL (test harness)');
    services = await startServices();
    installExitCleanup();
    ceiling = await startReferenceServer();
    reference = await startReferenceServer([], { script: 'nest-reference-server.js', path: '/health/live' });

    // Boots that only measure the boot, then one fresh app process per throughput round;
    // the last one stays up for the fault, RSS and jobs figures.
    const bootOnly = Math.max(1, SETTINGS.boots - SETTINGS.rounds);
    result.boot = [];
    result.throughput = [];
    for (let i = 0; i < bootOnly + SETTINGS.rounds; i++) {
      const round = i - bootOnly;
      const { result: boot, app: kept } = await measureBoot(services, i, round >= 0);
      result.boot.push(boot);
      if (round < 0) continue;
      app = kept;
      const measured = await throughputRound(services, app, ceiling, round, reference);
      measured.appPid = app.pid;
      result.throughput.push(measured);
      if (round < SETTINGS.rounds - 1) {
        await app.stop();
        app = undefined;
      }
    }
    result.appPid = app.pid;

    result.faults = [];
    for (let i = 0; i < SETTINGS.rounds; i++) {
      result.faults.push(await faultRun('redis', services.redis, app, i));
      result.faults.push(await faultRun('postgres', services.postgres, app, i));
    }
    await waitReady(app);
    result.rssAfterFaultsMiB = rssMiB(app.pid);

    result.jobs = await jobsRuns(services, app);
    result.rssAfterJobsMiB = rssMiB(app.pid);
    result.appLogBytes = app.output.bytes;

    await ceiling.stop();
    await reference.stop();
    reference = undefined;
    await app.stop();
    ceiling = undefined;
    app = undefined;

    result.memory = await memoryAgainstReference(services);

    try {
      result.observability = await observabilityRun(services);
    } catch (error) {
      // Not one of the targeted figures: a failure there must not lose the others.
      result.observability = { skipped: `failed: ${error instanceof Error ? error.message : String(error)}` };
      log(`observability failed: ${result.observability.skipped}`);
    }
  } catch (error) {
    if (app) process.stderr.write(`--- app output (tail) ---\n${app.output.tail}\n`);
    throw error;
  } finally {
    if (app) await app.stop();
    if (ceiling) await ceiling.stop();
    if (reference) await reference.stop();
    if (services) await services.stop();
  }
  result.jitterAfter = await measureJitter('after the run');

  result.table = buildTable(result);
  result.finishedAt = new Date().toISOString();
  const m = result.machine;
  const text = [
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (the load generator, the app and the ceiling share them), ${m.memoryGiB} GiB, ${m.kernel}`,
    `Node ${m.node}, load ${m.load} (fault load and jobs: ${m.autocannon}), Redis ${m.redis.split(' ')[0]}, ${m.postgres}`,
    `Source: ${result.source.commit}${result.source.uncommittedSrc.length ? ` + uncommitted ${result.source.uncommittedSrc.join(', ')}` : ''}`,
    `Load: ${SETTINGS.connections} connections, ${SETTINGS.warmupSec} s warm-up + ${SETTINGS.durationSec} s measured per endpoint, interleaved in ${SETTINGS.slices} cycles (ratios: median of per-cycle pairs; latency: ${result.throughput[0].ceiling.latencyMs.of}), ${SETTINGS.rounds} rounds (a fresh app process each); ` +
      `faults: ${SETTINGS.pauseSec} s SIGSTOP, poll every ${SETTINGS.pollIntervalMs} ms + autocannon ${SETTINGS.faultLoad.connections} connections at ${SETTINGS.faultLoad.rate} req/s`,
    '',
    renderTable(result.table),
    '',
  ].join('\n');
  process.stdout.write(text);

  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, '.md'), `${text}\n`);
  process.stdout.write(`\nresults: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

'use strict';
/**
 * A/B of app variants: each variant is its own app process (same services),
 * all of them and the bare node:http ceiling loaded in turn in 2 s slices,
 * AB_CYCLES times; prints per variant the median req/s, the median of the
 * per-cycle ratios to the ceiling, the median CPU µs per request and each
 * slice's p99. One process of the same build varies by up to ±20 % from the
 * next, so give each variant two processes (two names) before believing a
 * difference.
 *
 *   AB='{"bundle_a":{},"bundle_b":{},"modules_a":{"__entry":"main.unbundled.js"},"modules_b":{"__entry":"main.unbundled.js"}}' node bench/ab.js
 *
 * A variant is app environment variables, plus `__entry` for another file in dist/ than main.js.
 * AB_PATH (/health/ready) is the path loaded; build first (npm run build).
 */
const { cannon, cpuMeter, installExitCleanup, spawnApp, startReferenceServer, startServices, timeTo200, median } = require('./support');
const VARIANTS = JSON.parse(process.env.AB || '{"default":{},"nometrics":{"METRICS_ENABLED":"false"}}');
const PATH = process.env.AB_PATH || '/health/ready';
const CYCLES = Number(process.env.AB_CYCLES || 6);
(async () => {
  installExitCleanup();
  const services = await startServices();
  const ceiling = await startReferenceServer();
  const apps = {};
  for (const [name, extra] of Object.entries(VARIANTS)) {
    const { __entry: entry, ...env } = extra;
    const app = await spawnApp({ redisUrl: services.redis.url(), databaseUrl: services.postgres.url(), extra: env, entry });
    await timeTo200(`${app.baseUrl}/health/ready`, app.spawnedAt);
    await fetch(`${app.baseUrl}/jobs/none`).catch(() => {}); // one logged request: serving state
    apps[name] = app;
  }
  const targets = { ceiling: { url: ceiling.url, pid: ceiling.pid }, ...Object.fromEntries(Object.entries(apps).map(([n, a]) => [n, { url: a.baseUrl + PATH, pid: a.pid }])) };
  for (const t of Object.values(targets)) await cannon(t.url, { connections: 32, durationSec: 2 });
  const res = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
  for (let c = 0; c < CYCLES; c++) {
    for (const [name, t] of Object.entries(targets)) {
      const m = cpuMeter(t.pid);
      const r = await cannon(t.url, { connections: 32, durationSec: 2 });
      const cpu = m();
      res[name].push({ rps: r.rps, us: (cpu.serverCpuMs * 1000) / r.requests, p99: r.latencyMs.p99 });
    }
  }
  for (const [name, runs] of Object.entries(res)) {
    const ratio = name === 'ceiling' ? 1 : median(runs.map((r, i) => r.rps / res.ceiling[i].rps));
    console.log(name.padEnd(12), 'rps', median(runs.map((r) => r.rps)).toFixed(0), 'ratio', ratio.toFixed(3), 'µs/req', median(runs.map((r) => r.us)).toFixed(1), 'p99', runs.map((r) => r.p99).join(','));
  }
  await services.stop();
  process.exit(0);
})();

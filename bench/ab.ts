/**
 * A/B of app variants: each variant is its own app process (same services),
 * all of them and the bare node:http ceiling loaded in turn in 2 s slices,
 * AB_CYCLES times (the interleaved slices of `npm run bench`); prints per
 * variant its req/s, the median of the per-cycle ratios to the ceiling, CPU
 * µs per request over all its slices and the worst slice's p99. One process
 * of the same build varies by up to ±20 % from the next, so give each variant
 * two processes (two names) before believing a difference.
 *
 *   npm run build && npm run bench:build
 *   AB='{"plain_a":{},"plain_b":{},"cache_a":{"NODE_COMPILE_CACHE":"/tmp/ab-cache"},"cache_b":{"NODE_COMPILE_CACHE":"/tmp/ab-cache"}}' node dist-bench/bench/ab.js
 *
 * A variant is app environment variables, plus `__entry` for another file in dist/ than main.js
 * and `__nodeArgs` (an array) for node flags that NODE_OPTIONS does not accept.
 * AB_PATH (/health/ready) is the path loaded.
 */
import { runMain } from './lib/cli';
import { timeTo200 } from './lib/http-probe';
import { interleaved, pairedRatio, type LoadTarget } from './lib/load';
import {
  imageAppEnv,
  installExitCleanup,
  spawnApp,
  startReferenceServer,
  startServices,
  type AppHandle,
} from './lib/processes';

/** App environment variables, plus `__entry` and `__nodeArgs`. */
type Variant = Record<string, string> & { __entry?: string; __nodeArgs?: string[] };

const VARIANTS = JSON.parse(process.env.AB || '{"default":{},"nometrics":{"METRICS_ENABLED":"false"}}') as Record<
  string,
  Variant
>;
const PATH = process.env.AB_PATH || '/health/ready';
const CYCLES = Number(process.env.AB_CYCLES || 6);
/** The same interleaved slices as `npm run bench`, 2 s each. */
const LOAD = { connections: 32, warmupSec: 2, durationSec: 2 * CYCLES, slices: CYCLES };

async function main(): Promise<void> {
  installExitCleanup();
  const services = await startServices();
  const ceiling = await startReferenceServer();
  const apps: AppHandle[] = [];
  try {
    const targets: LoadTarget[] = [{ name: 'ceiling', url: ceiling.url, pid: ceiling.pid }];
    for (const [name, { __entry: entry, __nodeArgs: nodeArgs, ...env }] of Object.entries(VARIANTS)) {
      const app = await spawnApp({
        env: { ...imageAppEnv({ redisUrl: services.redis.url(), databaseUrl: services.postgres.url() }), ...env },
        entry,
        nodeArgs,
      });
      apps.push(app);
      await timeTo200(`${app.baseUrl}/health/ready`, app.spawnedAt);
      await fetch(`${app.baseUrl}/jobs/none`).catch(() => undefined); // one logged request: serving state
      targets.push({ name, url: app.baseUrl + PATH, pid: app.pid });
    }
    const runs = await interleaved(targets, LOAD);
    for (const { name } of targets) {
      const run = runs[name];
      const ratio = name === 'ceiling' ? 1 : pairedRatio(run, runs.ceiling);
      process.stdout.write(
        `${[
          name.padEnd(12),
          'rps',
          Math.round(run.rps),
          'ratio',
          ratio.toFixed(3),
          'µs/req',
          run.serverCpuUsPerRequest,
          'p50',
          run.latencyMs.p50,
          'p99',
          run.latencyMs.p99,
        ].join(' ')}\n`,
      );
    }
  } finally {
    await Promise.all([...apps.map((app) => app.stop()), ceiling.stop()]);
    await services.stop();
  }
}

runMain('ab', main);

/**
 * Figure 4 (RSS against a reference): a fresh app and the docs-style Terminus
 * app (bench/terminus-reference-app.ts: the same stack built the way the docs
 * show, one controller pinging both dependencies per request), both with the
 * image's environment: RSS once ready and idle for 5 s, then after 10 s of
 * readiness load each.
 */
import { timeTo200 } from './lib/http-probe';
import { cannon } from './lib/load';
import { IMAGE_ENV, imageAppEnv, spawnApp, startReferenceServer, type Services } from './lib/processes';
import { round } from './lib/stats';
import { now, rssMiB, sleep } from './lib/system';
import { waitReady } from './faults';
import { log, SETTINGS } from './settings';

export interface MemoryResult {
  idleMiB: { app: number | null; reference: number | null };
  afterLoadMiB: { app: number | null; reference: number | null };
  idleRatio: number | null;
  afterLoadRatio: number | null;
}

const ratio = (a: number | null, b: number | null): number | null =>
  a === null || b === null ? null : round(a / b, 3);

export async function memoryAgainstReference(services: Services): Promise<MemoryResult> {
  const urls = { redisUrl: services.redis.url(), databaseUrl: services.postgres.url() };
  const app = await spawnApp({ env: imageAppEnv(urls) });
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
      idleRatio: ratio(idle.app, idle.reference),
      afterLoadRatio: ratio(afterLoad.app, afterLoad.reference),
    };
  } finally {
    await Promise.allSettled([app.stop(), reference.stop()]);
  }
}

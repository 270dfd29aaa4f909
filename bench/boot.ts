/** Figure 4 (boot): spawn → liveness 200 and → readiness 200, beside the trivial Nest app's spawn → first 200. */
import { timeTo200 } from './lib/http-probe';
import { imageAppEnv, spawnApp, startReferenceServer, type AppHandle, type Services } from './lib/processes';
import { round } from './lib/stats';
import { cpuMeter, now, rssMiB } from './lib/system';
import { log, SETTINGS } from './settings';

export interface BootResult {
  boot: number;
  liveMs: number;
  readyMs: number;
  rssAtReadyMiB: number | null;
  otherLoadPct: number | null;
  /** The trivial Nest app's spawn → first 200, right after this boot. */
  referenceMs: number;
}

/** The boot's reference: the trivial Nest app's spawn → first 200. */
async function referenceBootMs(): Promise<number> {
  const spawnedAt = now();
  const reference = await startReferenceServer([], { script: 'nest-reference-server.js', path: '/health/live' });
  try {
    return await timeTo200(reference.url, spawnedAt, { intervalMs: SETTINGS.bootPollIntervalMs });
  } finally {
    await reference.stop();
  }
}

/**
 * Boots a fresh app and polls /health/live and /health/ready every 10 ms from
 * the spawn on. With `keep`, the app stays up and is returned (a throughput
 * round runs on it); else it is stopped.
 */
export async function measureBoot(
  services: Services,
  index: number,
  keep: boolean,
): Promise<{ result: BootResult; app?: AppHandle }> {
  const meter = cpuMeter();
  const app = await spawnApp({
    env: imageAppEnv({ redisUrl: services.redis.url(), databaseUrl: services.postgres.url() }),
  });
  try {
    const poll = { intervalMs: SETTINGS.bootPollIntervalMs, isAlive: app.alive };
    const [liveMs, readyMs] = await Promise.all([
      timeTo200(`${app.baseUrl}/health/live`, app.spawnedAt, poll),
      timeTo200(`${app.baseUrl}/health/ready`, app.spawnedAt, poll),
    ]);
    const result: BootResult = {
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
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- app output ---\n${app.output.tail()}`,
      { cause: error },
    );
  }
}

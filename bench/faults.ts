/**
 * Figure 3: readiness while Redis or PostgreSQL is SIGSTOPped. A poller (one
 * request every ~20 ms) gives first 503 and back to 200; a modest
 * rate-limited autocannon load across the whole window gives p99 and the
 * worst latency.
 */
import { probe, startPoller } from './lib/http-probe';
import { cannon, type LoadRun } from './lib/load';
import type { AppHandle } from './lib/processes';
import { percentileOfSorted, round, roundOrNull } from './lib/stats';
import { cpuMeter, now, sleep, type CpuWindow } from './lib/system';
import { log, SETTINGS } from './settings';

/** A dependency the fault figure can pause (both harness fixtures can). */
export interface Pausable {
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export interface FaultRun {
  dependency: 'redis' | 'postgres';
  run: number;
  pausedMs: number;
  /** From the pause to the first 503 answer; null if none came. */
  first503Ms: number | null;
  /** From the resume to the first 200 answer; null if none came. */
  back200Ms: number | null;
  pollSamples: number;
  pollDuringPause: { samples: number; p99Ms: number | null; maxMs: number | null };
  /** Poll answers neither 200 nor 503 (network errors, timeouts). */
  pollErrors: number;
  pollMaxMs: number;
  load: LoadRun;
  cpu: CpuWindow;
  /** The worst latency of the poller and the load. */
  worstMs: number;
}

/** Waits until readiness answers 200 five times in a row (the app is healthy again). */
export async function waitReady(app: AppHandle, timeoutMs = 30_000): Promise<void> {
  const deadline = now() + timeoutMs;
  let streak = 0;
  while (streak < 5) {
    if (now() > deadline) throw new Error('readiness did not return to 200');
    streak = (await probe(`${app.baseUrl}/health/ready`)).status === 200 ? streak + 1 : 0;
    await sleep(50);
  }
}

/** One pause of `dependency` for BENCH_PAUSE_SEC, 1.5 s of load before and 3 s after. */
export async function faultRun(
  kind: FaultRun['dependency'],
  dependency: Pausable,
  app: AppHandle,
  index: number,
): Promise<FaultRun> {
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
  let tPause = Infinity;
  let tResume: number;
  try {
    await sleep(beforeMs);
    tPause = now();
    await dependency.pause();
    await sleep(SETTINGS.pauseSec * 1000 - (now() - tPause));
  } finally {
    tResume = now();
    await dependency.resume();
  }
  const recoveryDeadline = tResume + 15_000;
  while (!poller.samples.some((s) => s.sentAt >= tResume && s.status === 200) && now() < recoveryDeadline)
    await sleep(20);
  const load = await loadRun;
  const samples = await poller.stop();

  const first503 = samples.find((s) => s.sentAt >= tPause && s.status === 503);
  const back200 = samples.find((s) => s.sentAt >= tResume && s.status === 200);
  const inPause = samples
    .filter((s) => s.sentAt >= tPause && s.sentAt < tResume)
    .map((s) => s.latencyMs)
    .sort((a, b) => a - b);
  const other = samples.filter((s) => s.status !== 200 && s.status !== 503);
  const pollMaxMs = round(Math.max(...samples.map((s) => s.latencyMs)), 1);
  const result: FaultRun = {
    dependency: kind,
    run: index + 1,
    pausedMs: round(tResume - tPause, 0),
    first503Ms: first503 ? round(first503.doneAt - tPause, 0) : null,
    back200Ms: back200 ? round(back200.doneAt - tResume, 0) : null,
    pollSamples: samples.length,
    pollDuringPause: {
      samples: inPause.length,
      p99Ms: roundOrNull(percentileOfSorted(inPause, 99), 1),
      maxMs: roundOrNull(inPause.at(-1), 1),
    },
    pollErrors: other.length,
    pollMaxMs,
    load,
    cpu: meter(),
    worstMs: round(Math.max(pollMaxMs, load.latencyMs.max), 1),
  };
  log(
    `${kind} paused (${index + 1}): first 503 ${result.first503Ms} ms, back to 200 ${result.back200Ms} ms, ` +
      `worst ${result.worstMs} ms, load p99 ${load.latencyMs.p99} ms (${load.statusCodes['503'] ?? 0} × 503)`,
  );
  return result;
}

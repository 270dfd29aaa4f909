/** Single GETs with their latency: probes, a poller and the time to a first 200. */
import http from 'node:http';
import { waitFor } from '../../test/support/wait';
import { now, sleep } from './system';

/** One GET's outcome; status 0 on a network error or timeout. Times are performance.now() ms. */
export interface ProbeSample {
  status: number;
  latencyMs: number;
  sentAt: number;
  doneAt: number;
  error?: string;
}

const pollAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

const errorText = (error: NodeJS.ErrnoException): string => error.code ?? error.message;

/** One GET (keep-alive on a shared one-socket agent unless `agent` says otherwise). */
export function probe(
  url: string,
  { agent = pollAgent, timeoutMs = 5_000 }: { agent?: http.Agent | false; timeoutMs?: number } = {},
): Promise<ProbeSample> {
  return new Promise((resolve) => {
    const sentAt = now();
    let settled = false;
    const finish = (status: number, error?: string): void => {
      if (settled) return;
      settled = true;
      const doneAt = now();
      resolve({ status, latencyMs: doneAt - sentAt, sentAt, doneAt, ...(error ? { error } : {}) });
    };
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => finish(res.statusCode ?? 0));
      res.once('error', (error) => finish(0, errorText(error)));
    });
    req.once('timeout', () => {
      req.destroy(new Error('timeout'));
      finish(0, 'timeout');
    });
    req.once('error', (error) => finish(0, errorText(error)));
  });
}

export interface Poller {
  /** Every sample so far (the array grows while polling). */
  samples: ProbeSample[];
  /** Stops polling; resolves every sample. */
  stop(): Promise<ProbeSample[]>;
}

/** Polls `url` every `intervalMs` (one request at a time, keep-alive) until stop(). */
export function startPoller(url: string, intervalMs = 20): Poller {
  const samples: ProbeSample[] = [];
  let running = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const loop = (async () => {
    while (running) {
      const sample = await probe(url, { agent });
      samples.push(sample);
      const wait = intervalMs - sample.latencyMs;
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return samples;
    },
  };
}

/**
 * Polls `url` every `intervalMs` with a fresh connection until it answers 200;
 * resolves the ms since `t0`. Fails at once when `isAlive()` turns false.
 */
export async function timeTo200(
  url: string,
  t0: number,
  {
    intervalMs = 10,
    timeoutMs = 30_000,
    isAlive = () => true,
  }: { intervalMs?: number; timeoutMs?: number; isAlive?: () => boolean } = {},
): Promise<number> {
  const deadline = t0 + timeoutMs;
  for (;;) {
    const sample = await probe(url, { agent: false, timeoutMs: 1_000 });
    if (sample.status === 200) return sample.doneAt - t0;
    if (!isAlive()) throw new Error(`process exited before ${url} answered 200`);
    if (now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Polls `url` every 100 ms until it answers 200 (a refused connection counts as "not yet"). */
export async function waitFor200(url: string, description: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () =>
      fetch(url).then(
        (response) => response.status === 200,
        () => false,
      ),
    { timeoutMs, intervalMs: 100, description },
  );
}

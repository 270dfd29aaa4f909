'use strict';
/**
 * Shared plumbing for bench/run.js and bench/profile.js: the throwaway
 * PostgreSQL and Redis of the test harness (test/support/*.ts, loaded through
 * ts-node), the built app and the bare node:http ceiling as child processes,
 * the load generator as a child process (wrk when installed, else autocannon;
 * see loadGenerator), probe pollers, and cleanup of every process this bench
 * started.
 */
const { spawn, spawnSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = join(__dirname, '..');
const AUTOCANNON_CLI = require.resolve('autocannon/autocannon.js', { paths: [ROOT] });
const WRK_REPORT = join(__dirname, 'wrk-report.lua');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const round = (n, digits = 2) =>
  n === null || n === undefined || Number.isNaN(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits;
const mean = (values) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ------------------------------------------------------------------ processes

/** Every child this bench spawned itself (app, ceiling, load generator). */
const children = new Set();

/** Direct and indirect children of `pid`, read from /proc. */
function descendantPids(pid) {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!byParent.has(ppid)) byParent.set(ppid, []);
    byParent.get(ppid).push(Number(name));
  }
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function signalQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

let exitHookInstalled = false;
/**
 * On any exit (normal, error, Ctrl-C): SIGKILL what is still running among
 * the children this bench spawned and, as a last sweep, every process that
 * descends from this one (autocannon, apps started by bench/jobs.js or
 * bench/observability.js). Install it after the harness fixtures started, so
 * their own exit hooks (which also remove temp dirs and shared memory) run first.
 */
function installExitCleanup() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) signalQuietly(child.pid, 'SIGKILL');
    for (const pid of descendantPids(process.pid)) {
      signalQuietly(pid, 'SIGCONT');
      signalQuietly(pid, 'SIGKILL');
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      process.exit(130);
    });
  }
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
function stopChild(child, graceMs = 15_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalQuietly(child.pid, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    signalQuietly(child.pid, 'SIGTERM');
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 100 ms until it returns truthy (errors count as "not yet"); throws after `timeoutMs`. */
async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ------------------------------------------------------------------ services

/**
 * The harness's throwaway redis-server and PostgreSQL cluster (free loopback
 * ports, temp dirs, pg_stat_statements preloaded; PostgreSQL as the postgres
 * OS user via runuser when root). Never the machine's own 5432/6379.
 */
async function startServices() {
  require('ts-node').register({ transpileOnly: true, project: join(ROOT, 'tsconfig.json') });
  const { startRedis } = require(join(ROOT, 'test/support/redis-server.ts'));
  const { startPostgres } = require(join(ROOT, 'test/support/postgres-server.ts'));
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  if (!postgres.hasPgStatStatements)
    process.stderr.write('bench: pg_stat_statements is not available; PostgreSQL call counts will be missing\n');
  return {
    redis,
    postgres,
    stop: async () => {
      await Promise.allSettled([redis.stop(), postgres.destroy()]);
    },
  };
}

/**
 * The environment the container image sets for the app (every `ENV NAME=value`
 * of the Dockerfile's final stage: NODE_OPTIONS' heap flags, MALLOC_ARENA_MAX,
 * NODE_ENV, PORT), so the bench measures the app as it is deployed. The
 * deploy e2e test reads the same lines to run the build output as the image does.
 */
const IMAGE_ENV = (() => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));
  const env = {};
  for (const line of finalStage.split('\n').filter((l) => /^ENV\s/.test(l))) {
    for (const m of line.matchAll(/([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|(\S+))/g)) env[m[1]] = m[2] ?? m[3];
  }
  return env;
})();

/** Environment of the app under test: the image's ENV, production logging, default health settings. */
function appEnv({ port, redisUrl, databaseUrl, extra = {} }) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...IMAGE_ENV,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    // Only shortens the bench's own stops; no health setting is changed.
    SHUTDOWN_DRAIN_MS: '0',
    ...extra,
  };
}

let buildDir;
/**
 * Copies dist/ (and package.json, which the app reads its version from) to
 * bench/results/.build-<pid>/ and runs the app from there: other work on
 * this checkout (a test run's `nest build`) may rebuild dist/ while the bench
 * runs, and every figure must come from the one build measured. Module
 * resolution walks up to the checkout's node_modules as before. Removed on exit.
 */
function snapshotBuild() {
  if (buildDir) return buildDir;
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js not found: run `npm run build` first');
  const dir = join(__dirname, 'results', `.build-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  buildDir = dir;
  return dir;
}

/**
 * Spawns `node [nodeArgs] dist/main.js` (`entry` names another file in dist/) from the snapshot (see
 * snapshotBuild); its output goes to a pipe that is drained (as under a container runtime) and counted, the tail
 * kept for errors.
 */
async function spawnApp({ redisUrl, databaseUrl, nodeArgs = [], extra, entry = 'main.js' }) {
  const main = join(snapshotBuild(), 'dist', entry);
  const port = await freePort();
  const spawnedAt = now();
  const child = track(
    spawn(process.execPath, [...nodeArgs, main], {
      cwd: ROOT,
      env: appEnv({ port, redisUrl, databaseUrl, extra }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = { bytes: 0, tail: '' };
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      output.bytes += chunk.length;
      output.tail = (output.tail + chunk).slice(-8000);
    });
  }
  return {
    child,
    pid: child.pid,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    spawnedAt,
    output,
    stop: () => stopChild(child),
  };
}

/**
 * A reference server as its own process: by default the bare node:http
 * ceiling (bench/ceiling-server.js); `script` names another one
 * (bench/nest-reference-server.js), `path` the URL path it answers on and
 * `env` its whole environment (the image's, for a memory reference).
 */
async function startReferenceServer(nodeArgs = [], { script = 'ceiling-server.js', path = '/', env } = {}) {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [...nodeArgs, join(__dirname, script), String(port)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(env ? { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } } : {}),
    }),
  );
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 10_000);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  child.stdout.resume();
  return { child, pid: child.pid, url: `http://127.0.0.1:${port}${path}`, stop: () => stopChild(child, 5_000) };
}

// ------------------------------------------------------------------ load

/**
 * The closed-loop load generator: `wrk` when it is on PATH (Debian package
 * `wrk`), else autocannon from devDependencies; BENCH_LOAD=wrk|autocannon
 * forces one. wrk is preferred: written in C, it drives the ceiling at the
 * same rate with ≈ 70 % of a core where autocannon needs all of one (a quarter
 * of its user time; the rest is the kernel's loopback work), and on 2 shared
 * cores every cycle the generator burns is taken from the server it measures.
 * It also reports latency in
 * microseconds, autocannon in whole milliseconds. Rate-limited runs (`rate`)
 * always use autocannon: wrk has no fixed-rate mode.
 */
const loadGenerator = (() => {
  let chosen;
  return () => {
    if (chosen) return chosen;
    const forced = process.env.BENCH_LOAD;
    if (forced && forced !== 'wrk' && forced !== 'autocannon')
      throw new Error(`BENCH_LOAD must be wrk or autocannon, not ${forced}`);
    // `wrk -v` prints its banner ("wrk debian/4.1.0-3+b2 [epoll] …") and exits non-zero.
    const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
    const banner = probe.error ? '' : probe.stdout.split('\n')[0];
    const wrk = banner.startsWith('wrk') ? banner.split(' ').slice(0, 2).join(' ') : null;
    if (forced === 'wrk' && !wrk) throw new Error('BENCH_LOAD=wrk but wrk is not installed (apt-get install wrk)');
    const autocannon = `autocannon ${require(join(ROOT, 'node_modules/autocannon/package.json')).version}`;
    const name = wrk && forced !== 'autocannon' ? 'wrk' : 'autocannon';
    chosen = { name, version: name === 'wrk' ? wrk : autocannon, autocannon };
    return chosen;
  };
})();

/**
 * One closed-loop load run against `url` (see loadGenerator), as its own
 * process. Returns req/s, latency (ms) and status counts in one shape for both
 * generators; wrk's runs also carry `histogramUs` ([µs, count] pairs), which
 * interleaved() merges over slices.
 * @param {string} url
 * @param {{ connections: number, durationSec: number, rate?: number }} options
 */
function cannon(url, options) {
  return options.rate || loadGenerator().name === 'autocannon' ? autocannonRun(url, options) : wrkRun(url, options);
}

/** Spawns `command args`, collects stdout, and parses its last line as JSON. */
function runForJson(command, args, what) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      } catch {
        reject(new Error(`${what} exited ${code} without JSON: ${stderr || stdout.slice(-4000)}`));
      }
    });
  });
}

/** autocannon (`autocannon.js --json`). Its latencies are whole milliseconds. */
async function autocannonRun(url, { connections, durationSec, rate }) {
  const args = [AUTOCANNON_CLI, '-c', String(connections), '-d', String(durationSec), '-j', '-n'];
  if (rate) args.push('-R', String(rate));
  args.push(url);
  const raw = await runForJson(process.execPath, args, 'autocannon');
  const seconds = raw.duration || durationSec;
  return {
    url,
    tool: 'autocannon',
    connections,
    durationSec: round(seconds, 2),
    requests: raw.requests.total,
    rps: round(raw.requests.total / seconds, 1),
    latencyMs: { mean: raw.latency.mean, p50: raw.latency.p50, p99: raw.latency.p99, max: raw.latency.max },
    statusCodes: Object.fromEntries(Object.entries(raw.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
    non2xx: raw.non2xx,
    errors: raw.errors,
    timeouts: raw.timeouts,
  };
}

/**
 * wrk, one thread (it keeps 32 connections busy with a fraction of a core),
 * with bench/wrk-report.lua printing its summary and latency histogram as JSON.
 * wrk counts statuses only as "≥ 400 or not", hence the two status keys.
 */
async function wrkRun(url, { connections, durationSec }) {
  const args = ['-t1', '-c', String(connections), '-d', `${durationSec}s`, '-s', WRK_REPORT, url];
  const raw = await runForJson('wrk', args, 'wrk');
  const seconds = raw.durationUs / 1e6;
  const histogramUs = raw.latencyUs.histogram;
  const failed = raw.errors.status;
  return {
    url,
    tool: 'wrk',
    connections,
    durationSec: round(seconds, 2),
    requests: raw.requests,
    rps: round(raw.requests / seconds, 1),
    latencyMs: {
      mean: round(raw.latencyUs.mean / 1000, 3),
      p50: round(percentileUs(histogramUs, 50) / 1000, 3),
      p99: round(percentileUs(histogramUs, 99) / 1000, 3),
      max: round(raw.latencyUs.max / 1000, 3),
    },
    statusCodes: failed ? { '<400': raw.requests - failed, '>=400': failed } : { '<400': raw.requests },
    non2xx: failed,
    errors: raw.errors.connect + raw.errors.read + raw.errors.write,
    timeouts: raw.errors.timeout,
    histogramUs,
  };
}

/** The value at percentile `p` of a histogram of [value, count] pairs sorted by value (nearest rank). */
function percentileUs(histogram, p) {
  const total = histogram.reduce((a, [, count]) => a + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [value, count] of histogram) {
    seen += count;
    if (seen >= rank) return value;
  }
  return histogram[histogram.length - 1][0];
}

/** Sums histograms of [value, count] pairs into one, sorted by value. */
function mergeHistograms(histograms) {
  const counts = new Map();
  for (const histogram of histograms)
    for (const [value, count] of histogram) counts.set(value, (counts.get(value) ?? 0) + count);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]);
}

// ------------------------------------------------------------------ probes

const pollAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET; resolves { status, latencyMs, sentAt, doneAt } (status 0 on a network error or timeout). */
function probe(url, { agent = pollAgent, timeoutMs = 5_000 } = {}) {
  return new Promise((resolve) => {
    const sentAt = now();
    let settled = false;
    const finish = (status, error) => {
      if (settled) return;
      settled = true;
      const doneAt = now();
      resolve({ status, latencyMs: doneAt - sentAt, sentAt, doneAt, ...(error ? { error } : {}) });
    };
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => finish(res.statusCode));
      res.once('error', (error) => finish(0, error.code ?? error.message));
    });
    req.once('timeout', () => {
      req.destroy(new Error('timeout'));
      finish(0, 'timeout');
    });
    req.once('error', (error) => finish(0, error.code ?? error.message));
  });
}

/**
 * Polls `url` every `intervalMs` (one request at a time, keep-alive) until
 * stop(); stop() resolves every sample.
 */
function startPoller(url, intervalMs = 20) {
  const samples = [];
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

/** Polls `url` every `intervalMs` with a fresh connection until it answers 200; resolves ms since `t0`. */
async function timeTo200(url, t0, { intervalMs = 10, timeoutMs = 30_000, isAlive = () => true } = {}) {
  const deadline = t0 + timeoutMs;
  for (;;) {
    const sample = await probe(url, { agent: false, timeoutMs: 1_000 });
    if (sample.status === 200) return sample.doneAt - t0;
    if (!isAlive()) throw new Error(`process exited before ${url} answered 200`);
    if (now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** utime+stime (and, with `children`, cutime+cstime) of `pid` in clock ticks; 0 when it is gone. */
function cpuTicks(pid, children = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of /proc/PID/stat (utime stime cutime cstime) are f[11..14] after "pid (comm) ".
    const own = Number(f[11]) + Number(f[12]);
    return children ? own + Number(f[13]) + Number(f[14]) : own;
  } catch {
    return 0;
  }
}

/** utime and stime of `pid` in clock ticks. */
function cpuSplit(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/** Machine-wide busy and total ticks from /proc/stat (all CPUs). */
function machineTicks() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/**
 * CPU accounting over a window: the server's own CPU (for CPU per request),
 * and how much CPU processes outside this bench's process tree used (other
 * work on a shared machine makes every figure noisier).
 */
function cpuMeter(serverPid) {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux: ms per tick
  const tree = () => [process.pid, ...descendantPids(process.pid)].reduce((sum, pid) => sum + cpuTicks(pid, true), 0);
  const split = () => (serverPid ? cpuSplit(serverPid) : { user: 0, sys: 0 });
  const start = {
    machine: machineTicks(),
    tree: tree(),
    server: serverPid ? cpuTicks(serverPid) : 0,
    split: split(),
    at: now(),
  };
  return () => {
    const machineNow = machineTicks();
    const total = machineNow.total - start.machine.total;
    const busy = machineNow.busy - start.machine.busy;
    const ours = tree() - start.tree;
    const cpus = os.cpus().length;
    const wallMs = now() - start.at;
    return {
      wallMs: round(wallMs, 0),
      serverCpuMs: serverPid ? (cpuTicks(serverPid) - start.server) * tick : null,
      serverCpuPct: serverPid ? round((((cpuTicks(serverPid) - start.server) * tick) / wallMs) * 100, 0) : null,
      serverUserMs: serverPid ? (split().user - start.split.user) * tick : null,
      serverSysMs: serverPid ? (split().sys - start.split.sys) * tick : null,
      machineBusyPct: total > 0 ? round((busy / total) * 100, 0) : null,
      /** CPU used by processes outside this bench's tree, in % of the whole machine (all CPUs). */
      foreignPct: total > 0 ? round((Math.max(0, busy - ours) / total) * 100, 0) : null,
      cpus,
    };
  };
}

/** `git describe --always --dirty` and the paths under src/ that differ from HEAD (the build measured). */
function sourceState() {
  const git = (args) => {
    try {
      return require('node:child_process')
        .execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedSrc: git(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
  };
}

/** Resident set size of `pid` in MiB (/proc/PID/status VmRSS). */
function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? round(Number(match[1]) / 1024, 1) : null;
}

// ------------------------------------------------------------------ machine

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const version = (cmd, args) => {
    try {
      return require('node:child_process')
        .execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim();
    } catch {
      return 'unknown';
    }
  };
  const pgRoot = '/usr/lib/postgresql';
  const pgVersions = existsSync(pgRoot)
    ? readdirSync(pgRoot)
        .filter((v) => /^\d+/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return {
    cpuModel: model,
    cpus: os.cpus().length,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    load: loadGenerator().version,
    autocannon: loadGenerator().autocannon,
    redis: version('redis-server', ['--version']).replace(/^Redis server /, ''),
    postgres: pgVersions.length ? version(join(pgRoot, pgVersions[0], 'bin', 'postgres'), ['--version']) : 'unknown',
  };
}

/**
 * Platform jitter (bench/jitter.js): one spinning process per CPU, pinned
 * with `taskset` when it is installed, all at once for `seconds`. Returns
 * one result per CPU: stalls per second at or above 0.5 / 1 / 2 / 5 ms, the
 * worst stall, the share of time stalled and how much of it was spent behind
 * other tasks of this machine (the rest is the host's). Run it only while
 * nothing else of the bench is running: the spinners take every CPU.
 */
async function platformJitter(seconds) {
  const pin = spawnSync('taskset', ['-V']).error ? null : 'taskset';
  const script = join(__dirname, 'jitter.js');
  const runs = os
    .cpus()
    .map((_, cpu) =>
      pin
        ? runForJson(pin, ['-c', String(cpu), process.execPath, script, String(seconds)], 'jitter')
        : runForJson(process.execPath, [script, String(seconds)], 'jitter'),
    );
  return (await Promise.all(runs)).map((result, cpu) => ({ cpu: pin ? cpu : null, ...result }));
}

// ------------------------------------------------------------------ interleaved load

/**
 * Interleaved load on several targets (`{ name, url, pid }`): one warm-up each, `between()`, then
 * `load.slices` cycles in which every target gets durationSec / slices
 * seconds in turn. The host's speed drifts from minute to minute (see
 * docs/BENCHMARKS.md, "Machine"); interleaving makes every target see the
 * same drift, and a ratio is taken per cycle, between slices seconds apart.
 * Returns, per target, the aggregate over its slices (requests, req/s, CPU
 * per request, latency) and the req/s and p99 of each slice. Latency: with wrk,
 * percentiles of every request of every slice (merged histograms); with
 * autocannon, which gives no histogram, p50 = the median and p99 = the worst
 * of the slices' values. `load`: { connections, warmupSec, durationSec, slices }.
 */
async function interleaved(targets, load, between) {
  for (const t of targets) await cannon(t.url, { connections: load.connections, durationSec: load.warmupSec });
  if (between) await between();
  const sliceSec = Math.max(1, Math.round(load.durationSec / load.slices));
  const slices = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let cycle = 0; cycle < load.slices; cycle++) {
    for (const t of targets) {
      const meter = cpuMeter(t.pid);
      const run = await cannon(t.url, { connections: load.connections, durationSec: sliceSec });
      run.cpu = meter();
      slices[t.name].push(run);
    }
  }
  const result = {};
  for (const t of targets) {
    const runs = slices[t.name];
    const requests = runs.reduce((a, r) => a + r.requests, 0);
    const seconds = runs.reduce((a, r) => a + r.durationSec, 0);
    const sum = (field) => runs.reduce((a, r) => a + r.cpu[field], 0);
    const perRequest = (ms) => round((ms * 1000) / Math.max(requests, 1), 1);
    result[t.name] = {
      url: t.url,
      requests,
      durationSec: round(seconds, 2),
      rps: round(requests / seconds, 1),
      sliceRps: runs.map((r) => r.rps),
      latencyMs: aggregateLatency(runs),
      sliceP99Ms: runs.map((r) => r.latencyMs.p99),
      statusCodes: runs.reduce((acc, r) => {
        for (const [code, n] of Object.entries(r.statusCodes)) acc[code] = (acc[code] ?? 0) + n;
        return acc;
      }, {}),
      cpu: {
        serverCpuMs: sum('serverCpuMs'),
        serverUserMs: sum('serverUserMs'),
        serverSysMs: sum('serverSysMs'),
        foreignPct: round(mean(runs.map((r) => r.cpu.foreignPct)), 0),
      },
      serverCpuUsPerRequest: perRequest(sum('serverCpuMs')),
      serverUserUsPerRequest: perRequest(sum('serverUserMs')),
      serverSysUsPerRequest: perRequest(sum('serverSysMs')),
    };
  }
  return result;
}

/** Latency over the slices of one target: exact percentiles when every slice has a histogram (wrk). */
function aggregateLatency(runs) {
  if (runs.every((r) => r.histogramUs)) {
    const merged = mergeHistograms(runs.map((r) => r.histogramUs));
    return {
      p50: round(percentileUs(merged, 50) / 1000, 3),
      p99: round(percentileUs(merged, 99) / 1000, 3),
      max: Math.max(...runs.map((r) => r.latencyMs.max)),
      of: 'all requests',
    };
  }
  return {
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: Math.max(...runs.map((r) => r.latencyMs.p99)),
    max: Math.max(...runs.map((r) => r.latencyMs.max)),
    of: 'slices: median p50, worst p99',
  };
}

/** Median over cycles of target req/s ÷ ceiling req/s in the same cycle. */
function pairedRatio(target, ceiling) {
  return round(median(target.sliceRps.map((rps, i) => rps / ceiling.sliceRps[i])), 3);
}

module.exports = {
  ROOT,
  sleep,
  now,
  round,
  mean,
  median,
  descendantPids,
  installExitCleanup,
  stopChild,
  freePort,
  waitUntil,
  startServices,
  snapshotBuild,
  spawnApp,
  startReferenceServer,
  cannon,
  loadGenerator,
  interleaved,
  pairedRatio,
  probe,
  startPoller,
  timeTo200,
  rssMiB,
  IMAGE_ENV,
  cpuMeter,
  sourceState,
  machine,
  platformJitter,
};

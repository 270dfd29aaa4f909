/**
 * Where a probe request's CPU time goes: `node --cpu-prof` on the built app
 * (dist/main.js; each frame names its package) and on the bare node:http
 * ceiling, each under the same load, and the samples inside each measured
 * window summarized as CPU microseconds per request, by package group and by
 * function.
 *
 *   npm run build && npm run bench:build && node dist-bench/bench/profile.js
 *   node dist-bench/bench/profile.js --summarize bench/results/profile-<stamp>   (re-summarize an earlier run)
 *
 * Environment: BENCH_DURATION_SEC (10), BENCH_WARMUP_SEC (2), BENCH_CONNECTIONS (32),
 * PROFILE_APP_ENV (extra app env, e.g. "LOG_LEVEL=silent METRICS_ENABLED=false").
 * Output: a summary on stdout; bench/results/profile-<timestamp>/ holds the
 * .cpuprofile files (open them in Chrome DevTools) and summary.json.
 *
 * Each sample counts once (not by its time delta): while the process waits
 * for a CPU (2 cores shared with the load generator), no sample is taken, whereas a
 * time delta would charge the whole wait to the syscall that woke the load
 * generator (writev). The shares are then scaled to the server's measured
 * CPU time per request (/proc/PID/stat utime+stime), so "µs per request" is CPU.
 *
 * Samples are attributed to the frame that was running ("self time"); time in
 * a V8 builtin or native callback without a script URL (JSON.stringify, a
 * socket write) is charged to the nearest caller that has one, so
 * "fastify" includes the JSON serialization Fastify asked for. The profile's
 * timestamps are CLOCK_MONOTONIC microseconds, as process.hrtime here, so the
 * warm-up, boot and shutdown samples are left out by time.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Profiler, Runtime } from 'node:inspector';
import { join } from 'node:path';
import { runMain } from './lib/cli';
import { timeTo200 } from './lib/http-probe';
import { cannon, type LoadRun } from './lib/load';
import { RESULTS_DIR } from './lib/paths';
import {
  imageAppEnv,
  installExitCleanup,
  snapshotBuild,
  spawnApp,
  startReferenceServer,
  startServices,
  type AppHandle,
  type ReferenceServer,
} from './lib/processes';
import { round } from './lib/stats';
import { cpuMeter, sourceState, type CpuWindow } from './lib/system';
import { envNumber } from './settings';

const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 32);
const DURATION_SEC = envNumber('BENCH_DURATION_SEC', 10);
const WARMUP_SEC = envNumber('BENCH_WARMUP_SEC', 2);
const SAMPLING_US = 250;

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Package (or app folder) → group shown in the summary. */
const GROUPS: Array<[group: string, owners: string[]]> = [
  [
    'Nest core (router, execution context, params, interceptors)',
    ['@nestjs/core', '@nestjs/common', 'rxjs', 'reflect-metadata', 'iterare', 'uid', 'tslib'],
  ],
  [
    'Nest Fastify adapter + middleware (middie, path matching)',
    ['@nestjs/platform-fastify', '@fastify/middie', 'path-to-regexp', 'fastify-plugin', 'reusify'],
  ],
  [
    'Fastify (routing, hooks, reply, serialization)',
    [
      'fastify',
      'find-my-way',
      'fast-json-stringify',
      'fast-querystring',
      'avvio',
      'light-my-request',
      '@fastify/error',
      '@fastify/fast-json-stringify-compiler',
      'fast-decode-uri-component',
      'safe-regex2',
      'ret',
      'toad-cache',
      'abstract-logging',
      'process-warning',
      'rfdc',
      'fast-uri',
      '@fastify/ajv-compiler',
      'fast-content-type-parse',
      '@fastify/proxy-addr',
      'proxy-addr',
      'secure-json-parse',
      'fastq',
      'semver',
      'json-schema-ref-resolver',
      'fast-deep-equal',
      'ajv',
      '@fastify/merge-json-schemas',
      'content-type',
      'forwarded',
      'ipaddr.js',
      'cookie',
      'set-cookie-parser',
      'fast-redact',
    ],
  ],
  [
    'logging (pino, pino-http, nestjs-pino, request id)',
    [
      'pino',
      'pino-http',
      'nestjs-pino',
      'pino-std-serializers',
      'sonic-boom',
      'thread-stream',
      'on-exit-leak-free',
      'atomic-sleep',
      'quick-format-unescaped',
      'safe-stable-stringify',
      'get-caller-file',
      'app:logging',
    ],
  ],
  ['metrics (prom-client, onResponse hook)', ['prom-client', 'tdigest', 'bintrees', 'app:metrics']],
  [
    'our controller / views / snapshot (dist/health, lifecycle)',
    ['app:health', 'app:lifecycle', 'app:common', 'app:config'],
  ],
];
const SOCKET_WRITE = 'socket write syscall (writev; kernel loopback send)';
const GROUP_OF = new Map(GROUPS.flatMap(([group, names]) => names.map((n) => [n, group] as const)));

/** The package (or app folder) a frame belongs to; null for a native frame without a script URL. */
function ownerOf(frame: Runtime.CallFrame): string | null {
  const { url, functionName } = frame;
  if (!url)
    return ['(root)', '(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : null;
  if (url.startsWith('node:')) return 'node core';
  const modules = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (modules.length > 0) return modules[modules.length - 1][1];
  const app = /\/dist\/([^/]+)\//.exec(url) ?? /\/dist\/([^/]+)$/.exec(url);
  if (app) return `app:${app[1].replace(/\.js$/, '')}`;
  return `other:${url}`;
}

function groupOf(owner: string): string {
  if (owner === 'node core') return 'Node core (http, net, streams, timers)';
  if (owner === '(garbage collector)') return 'V8 garbage collector';
  if (owner === '(program)') return '(program): native, unattributed (syscalls, libuv, parser)';
  return GROUP_OF.get(owner) ?? (owner.startsWith('app:') ? `our code: ${owner.slice(4)}` : owner);
}

interface Share {
  name: string;
  share: number;
  usPerRequest: number;
}

export interface Analysis {
  requests: number;
  windowMs: number;
  busySamples: number;
  idleSamples: number;
  cpuUsPerRequest: number;
  groups: Share[];
  owners: Share[];
  selfFunctions: Share[];
  inclusiveOurAndNestFrames: Share[];
}

/** Summarizes the samples taken between fromUs and toUs: per group / owner / function, CPU µs in total and per request. */
export function analyze(
  profile: Profiler.Profile,
  fromUs: number,
  toUs: number,
  requests: number,
  cpuUsPerRequest: number,
): Analysis {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const frameOf = (id: number): Runtime.CallFrame => {
    const node = byId.get(id);
    if (!node) throw new Error(`profile node ${id} not found`);
    return node.callFrame;
  };
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const ownerCache = new Map<number, string>();
  /** Owner of a node: its own, or (native frames) the nearest caller's. */
  const owner = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    let current: number | undefined = id;
    let found: string | null = null;
    while (current !== undefined) {
      found = ownerOf(frameOf(current));
      if (found !== null) break;
      current = parentOf.get(current);
    }
    const result = found ?? '(native)';
    ownerCache.set(id, result);
    return result;
  };
  const fnName = (id: number): string => {
    let current: number | undefined = id;
    while (current !== undefined && !frameOf(current).url && ownerOf(frameOf(current)) === null)
      current = parentOf.get(current);
    const f = frameOf(current ?? id);
    const short = f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
    return `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
  };
  const inclusiveTargets = (id: number): Set<string> => {
    // Frames on the stack (each counted once per sample) that are ours or Nest's, for inclusive time.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      if (/\/dist\/|@nestjs\/|middie|pino-http|nestjs-pino/.test(frameOf(current).url)) seen.add(fnName(current));
    }
    return seen;
  };

  const groups = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1); // one sample = one unit of CPU (see the header comment)
  };
  let total = 0;
  let idle = 0;
  let t = profile.startTime;
  const samples = profile.samples ?? [];
  const timeDeltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const id = samples[i];
    const o = owner(id);
    if (o === '(idle)') {
      idle += 1;
      continue;
    }
    total += 1;
    const leaf = frameOf(id);
    // The write syscall itself (kernel time for the loopback send) is shown apart from Node's JS.
    add(
      groups,
      !leaf.url && /^(writev|writeUtf8String|writeBuffer|writeLatin1String)$/.test(leaf.functionName)
        ? SOCKET_WRITE
        : groupOf(o),
    );
    add(owners, o);
    add(functions, leaf.url || ownerOf(leaf) ? fnName(id) : `${leaf.functionName} (native) ← ${fnName(id)}`);
    for (const frame of inclusiveTargets(id)) add(inclusive, frame);
  }
  const table = (map: Map<string, number>, limit: number): Share[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, n]) => ({
        name,
        share: round(n / total, 3),
        usPerRequest: round((n / total) * cpuUsPerRequest, 2),
      }));
  return {
    requests,
    windowMs: round((toUs - fromUs) / 1000, 0),
    busySamples: total,
    idleSamples: idle,
    cpuUsPerRequest,
    groups: table(groups, 40),
    owners: table(owners, 40),
    selfFunctions: table(functions, 40),
    inclusiveOurAndNestFrames: table(inclusive, 40),
  };
}

type Target = 'ceiling' | 'liveness' | 'readiness' | 'livenessServing';

const TITLES: Record<Target, string> = {
  ceiling: 'bare node:http ceiling',
  liveness: 'GET /health/live',
  readiness: 'GET /health/ready',
  livenessServing: 'GET /health/live after one logged request (async hooks on)',
};

/** One measured window of load on a profiled process. */
interface Window {
  run: LoadRun;
  fromUs: number;
  toUs: number;
  cpu: CpuWindow;
  cpuUsPerRequest: number;
}

interface TargetSummary {
  /** Without the histogram. */
  run: LoadRun;
  cpu: CpuWindow;
  fromUs: number;
  toUs: number;
  analysis: Analysis;
  profile: string;
}

interface Summary {
  dir: string;
  source: ReturnType<typeof sourceState>;
  settings: Record<string, unknown>;
  results: Partial<Record<Target, TargetSummary>>;
}

/** One table: CPU µs per request by group for the ceiling and the probes, and the probes' excess over the ceiling. */
function compare(results: Summary['results']): string {
  const names = (['ceiling', 'liveness', 'readiness', 'livenessServing'] as const).filter((n) => results[n]);
  const analysisOf = (name: Target): Analysis | undefined => results[name]?.analysis;
  const value = (name: Target, group: string): number =>
    analysisOf(name)?.groups.find((g) => g.name === group)?.usPerRequest ?? 0;
  const groups = [...new Set(names.flatMap((n) => analysisOf(n)?.groups.map((g) => g.name) ?? []))]
    .map((group) => ({ group, values: names.map((n) => value(n, group)) }))
    .filter((row) => row.values.some((v) => v >= 0.05))
    .sort((a, b) => b.values[1] - a.values[1]);
  const total = names.map((n) => analysisOf(n)?.cpuUsPerRequest ?? 0);
  const cell = (v: number): number => round(v, 1);
  const heads: Record<Target, string> = {
    ceiling: 'ceiling',
    liveness: 'liveness',
    readiness: 'readiness',
    livenessServing: 'liveness, serving',
  };
  const line = (label: string, values: number[], bold = false): string => {
    const b = (v: number): string => (bold ? `**${cell(v)}**` : String(cell(v)));
    return `| ${label} | ${values.map(b).join(' | ')} | ${values
      .slice(1)
      .map((v) => b(v - values[0]))
      .join(' | ')} |`;
  };
  return [
    '',
    '## CPU µs per request by group (profiled; the profiler itself adds to every figure)',
    '',
    `| group | ${names.map((n) => heads[n]).join(' | ')} | ${names
      .slice(1)
      .map((n) => `${heads[n]} − ceiling`)
      .join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|${names
      .slice(1)
      .map(() => '---')
      .join('|')}|`,
    ...groups.map(({ group, values }) => line(group, values)),
    line('**total (measured utime+stime)**', total, true),
  ].join('\n');
}

function profileOf(dir: string, pid: number): { file: string; profile: Profiler.Profile } {
  const file = readdirSync(dir).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile for pid ${pid} in ${dir}`);
  return { file: join(dir, file), profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profiler.Profile };
}

async function measured(url: string, pid: number): Promise<Window> {
  await cannon(url, { connections: CONNECTIONS, durationSec: WARMUP_SEC });
  const meter = cpuMeter(pid);
  const fromUs = monotonicUs();
  const run = await cannon(url, { connections: CONNECTIONS, durationSec: DURATION_SEC });
  const toUs = monotonicUs();
  const cpu = meter();
  return { run, fromUs, toUs, cpu, cpuUsPerRequest: round(((cpu.serverCpuMs ?? 0) * 1000) / run.requests, 1) };
}

function render(name: string, a: Analysis, w: Pick<Window, 'run' | 'cpu'>): string {
  const perRequest = (ms: number | null): number => round(((ms ?? 0) * 1000) / w.run.requests, 1);
  const lines = [
    '',
    `## ${name}: ${w.run.rps} req/s under --cpu-prof, ${a.cpuUsPerRequest} µs CPU per request ` +
      `(${perRequest(w.cpu.serverUserMs)} user + ${perRequest(w.cpu.serverSysMs)} sys; ` +
      `${a.busySamples} busy / ${a.idleSamples} idle samples; other processes ${w.cpu.foreignPct} % of the machine)`,
    '',
    '| group | share of busy CPU | µs per request |',
    '|---|---|---|',
    ...a.groups.map((g) => `| ${g.name} | ${(g.share * 100).toFixed(1)} % | ${g.usPerRequest} |`),
    '',
    'Top self-time functions (native callees charged to their JS caller):',
    '',
    '| function | share | µs/req |',
    '|---|---|---|',
    ...a.selfFunctions
      .slice(0, 25)
      .map((f) => `| \`${f.name}\` | ${(f.share * 100).toFixed(1)} % | ${f.usPerRequest} |`),
    '',
    "Inclusive time of our and Nest frames (share of busy samples with the frame on the stack; Fastify hooks call the next step synchronously, so a hook's inclusive time contains the rest of the request):",
    '',
    '| frame | share | µs/req |',
    '|---|---|---|',
    ...a.inclusiveOurAndNestFrames
      .slice(0, 25)
      .map((f) => `| \`${f.name}\` | ${(f.share * 100).toFixed(1)} % | ${f.usPerRequest} |`),
  ];
  return lines.join('\n');
}

function writeSummary(dir: string, summary: Summary, sections: string[]): void {
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.md'), `${sections.join('\n')}\n`);
}

async function main(): Promise<void> {
  snapshotBuild();
  const source = sourceState();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(RESULTS_DIR, `profile-${stamp}`);
  mkdirSync(dir, { recursive: true });
  const profArgs = ['--cpu-prof', '--cpu-prof-dir', dir, `--cpu-prof-interval`, String(SAMPLING_US)];
  const extra = Object.fromEntries(
    (process.env.PROFILE_APP_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  const services = await startServices();
  installExitCleanup();
  let app: AppHandle | undefined;
  let ceiling: ReferenceServer | undefined;
  const windows: Partial<Record<Target, Window>> = {};
  try {
    ceiling = await startReferenceServer(profArgs);
    app = await spawnApp({
      env: { ...imageAppEnv({ redisUrl: services.redis.url(), databaseUrl: services.postgres.url() }), ...extra },
      nodeArgs: profArgs,
    });
    await timeTo200(`${app.baseUrl}/health/ready`, app.spawnedAt, { isAlive: app.alive });
    windows.ceiling = await measured(ceiling.url, ceiling.pid);
    windows.liveness = await measured(`${app.baseUrl}/health/live`, app.pid);
    windows.readiness = await measured(`${app.baseUrl}/health/ready`, app.pid);
    // Once one access-logged request has been served, the process is in the state of a pod that serves traffic.
    const logged = await fetch(`${app.baseUrl}/jobs?limit=1`);
    if (logged.status !== 200) throw new Error(`GET /jobs?limit=1 answered ${logged.status}`);
    windows.livenessServing = await measured(`${app.baseUrl}/health/live`, app.pid);
  } finally {
    // SIGTERM: both exit through process.exit, which writes the profile.
    if (app) await app.stop();
    if (ceiling) await ceiling.stop();
    await services.stop();
  }
  const ceilingProfile = profileOf(dir, ceiling.pid);
  const appProfile = profileOf(dir, app.pid);
  const summary: Summary = {
    dir,
    source,
    settings: { CONNECTIONS, DURATION_SEC, WARMUP_SEC, SAMPLING_US, extra },
    results: {},
  };
  const out: string[] = [];
  for (const [name, profile] of [
    ['ceiling', ceilingProfile],
    ['liveness', appProfile],
    ['readiness', appProfile],
    ['livenessServing', appProfile],
  ] as const) {
    const w = windows[name];
    if (!w) throw new Error(`no measured window for ${name}`);
    const a = analyze(profile.profile, w.fromUs, w.toUs, w.run.requests, w.cpuUsPerRequest);
    summary.results[name] = {
      run: { ...w.run, histogramUs: undefined },
      cpu: w.cpu,
      fromUs: w.fromUs,
      toUs: w.toUs,
      analysis: a,
      profile: profile.file,
    };
    out.push(render(TITLES[name], a, w));
  }
  out.unshift(compare(summary.results));
  writeSummary(dir, summary, out);
  const head =
    `source ${source.commit}${source.uncommittedSrc.length ? ` + uncommitted ${source.uncommittedSrc.join(', ')}` : ''}; ` +
    `${CONNECTIONS} connections, ${WARMUP_SEC} s warm-up + ${DURATION_SEC} s profiled per endpoint, sampling every ${SAMPLING_US} µs`;
  process.stdout.write(`${head}\n${out.join('\n')}\n\nprofiles and summary: ${dir}\n`);
}

/** Re-summarizes an earlier run's profiles. */
function resummarize(dir: string): void {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  const out: string[] = [];
  for (const name of Object.keys(summary.results) as Target[]) {
    const r = summary.results[name];
    if (!r) continue;
    const profile = JSON.parse(readFileSync(r.profile, 'utf8')) as Profiler.Profile;
    r.analysis = analyze(profile, r.fromUs, r.toUs, r.run.requests, r.analysis.cpuUsPerRequest);
    out.push(render(TITLES[name], r.analysis, r));
  }
  out.unshift(compare(summary.results));
  writeSummary(dir, summary, out);
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) {
  const summarize = process.argv[2] === '--summarize' ? process.argv[3] : undefined;
  runMain('profile', summarize ? () => Promise.resolve().then(() => resummarize(summarize)) : main);
}

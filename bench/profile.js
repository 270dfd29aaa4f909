'use strict';
/**
 * Where a probe request's CPU time goes: `node --cpu-prof` on the built app
 * (dist/main.js; each frame names its package) and on the bare node:http ceiling, each under the same autocannon load, and
 * the samples inside each measured window summarized as CPU microseconds per
 * request, by package group and by function.
 *
 *   node bench/profile.js            (build first: npm run build)
 *
 * Environment: BENCH_DURATION_SEC (10), BENCH_WARMUP_SEC (2), BENCH_CONNECTIONS (32),
 * PROFILE_APP_ENV (extra app env, e.g. "LOG_LEVEL=silent METRICS_ENABLED=false").
 * Output: a summary on stdout; bench/results/profile-<timestamp>/ holds the
 * .cpuprofile files (open them in Chrome DevTools) and summary.json.
 *
 * Each sample counts once (not by its time delta): while the process waits
 * for a CPU (2 cores shared with autocannon), no sample is taken, whereas a
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
const { mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const {
  cannon,
  cpuMeter,
  installExitCleanup,
  round,
  snapshotBuild,
  sourceState,
  spawnApp,
  startReferenceServer,
  startServices,
  timeTo200,
} = require('./support');

const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const DURATION_SEC = num('BENCH_DURATION_SEC', 10);
const WARMUP_SEC = num('BENCH_WARMUP_SEC', 2);
const SAMPLING_US = 250;

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Package (or app folder) → group shown in the summary. */
const GROUPS = [
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
const GROUP_OF = new Map(GROUPS.flatMap(([group, names]) => names.map((n) => [n, group])));

function ownerOf(frame) {
  const { url, functionName } = frame;
  if (!url)
    return ['(root)', '(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : null;
  if (url.startsWith('node:')) return 'node core';
  const modules = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (modules.length > 0) return modules.at(-1)[1];
  const app = /\/dist\/([^/]+)\//.exec(url) ?? /\/dist\/([^/]+)$/.exec(url);
  if (app) return `app:${app[1].replace(/\.js$/, '')}`;
  return `other:${url}`;
}

function groupOf(owner) {
  if (owner === 'node core') return 'Node core (http, net, streams, timers)';
  if (owner === '(garbage collector)') return 'V8 garbage collector';
  if (owner === '(program)') return '(program): native, unattributed (syscalls, libuv, parser)';
  return GROUP_OF.get(owner) ?? (owner.startsWith('app:') ? `our code: ${owner.slice(4)}` : owner);
}

/**
 * Summarizes the samples taken between fromUs and toUs.
 * @returns per group / owner / function: CPU µs in total and per request.
 */
function analyze(profile, fromUs, toUs, requests, cpuUsPerRequest) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const ownerCache = new Map();
  /** Owner of a node: its own, or (native frames) the nearest caller's. */
  const owner = (id) => {
    if (ownerCache.has(id)) return ownerCache.get(id);
    let current = id;
    let found = null;
    while (current !== undefined) {
      found = ownerOf(byId.get(current).callFrame);
      if (found !== null) break;
      current = parentOf.get(current);
    }
    const result = found ?? '(native)';
    ownerCache.set(id, result);
    return result;
  };
  const fnName = (id) => {
    let current = id;
    while (current !== undefined && !byId.get(current).callFrame.url && ownerOf(byId.get(current).callFrame) === null)
      current = parentOf.get(current);
    const f = byId.get(current ?? id).callFrame;
    const short = f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
    return `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
  };
  const inclusiveTargets = (id) => {
    // Frames on the stack (each counted once per sample) that are ours or Nest's, for inclusive time.
    const seen = new Set();
    for (let current = id; current !== undefined; current = parentOf.get(current)) {
      const f = byId.get(current).callFrame;
      if (/\/dist\/|@nestjs\/|middie|pino-http|nestjs-pino/.test(f.url)) seen.add(fnName(current));
    }
    return seen;
  };

  const groups = new Map();
  const owners = new Map();
  const functions = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const dt = 1; // one sample = one unit of CPU (see the header comment)
    const id = profile.samples[i];
    const o = owner(id);
    if (o === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    const leaf = byId.get(id).callFrame;
    // The write syscall itself (kernel time for the loopback send) is shown apart from Node's JS.
    const g =
      !leaf.url && /^(writev|writeUtf8String|writeBuffer|writeLatin1String)$/.test(leaf.functionName)
        ? SOCKET_WRITE
        : groupOf(o);
    groups.set(g, (groups.get(g) ?? 0) + dt);
    owners.set(o, (owners.get(o) ?? 0) + dt);
    const f =
      byId.get(id).callFrame.url || ownerOf(byId.get(id).callFrame)
        ? fnName(id)
        : `${byId.get(id).callFrame.functionName} (native) ← ${fnName(id)}`;
    functions.set(f, (functions.get(f) ?? 0) + dt);
    for (const frame of inclusiveTargets(id)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + dt);
  }
  const table = (map, limit) =>
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

const TITLES = {
  ceiling: 'bare node:http ceiling',
  liveness: 'GET /health/live',
  readiness: 'GET /health/ready',
  livenessServing: 'GET /health/live after one logged request (async hooks on)',
};

/** One table: CPU µs per request by group for the ceiling and the probes, and the probes' excess over the ceiling. */
function compare(results) {
  const names = ['ceiling', 'liveness', 'readiness', 'livenessServing'].filter((n) => results[n]);
  const value = (name, group) => results[name].analysis.groups.find((g) => g.name === group)?.usPerRequest ?? 0;
  const groups = [...new Set(names.flatMap((n) => results[n].analysis.groups.map((g) => g.name)))]
    .map((group) => ({ group, values: names.map((n) => value(n, group)) }))
    .filter((row) => row.values.some((v) => v >= 0.05))
    .sort((a, b) => b.values[1] - a.values[1]);
  const total = names.map((n) => results[n].analysis.cpuUsPerRequest);
  const cell = (v) => round(v, 1);
  const heads = {
    ceiling: 'ceiling',
    liveness: 'liveness',
    readiness: 'readiness',
    livenessServing: 'liveness, serving',
  };
  const line = (label, values, bold = false) => {
    const b = (v) => (bold ? `**${cell(v)}**` : String(cell(v)));
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

function newestProfile(dir, pid) {
  const file = readdirSync(dir).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile for pid ${pid} in ${dir}`);
  return { file: join(dir, file), profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) };
}

async function measured(url, pid) {
  await cannon(url, { connections: CONNECTIONS, durationSec: WARMUP_SEC });
  const meter = cpuMeter(pid);
  const fromUs = monotonicUs();
  const run = await cannon(url, { connections: CONNECTIONS, durationSec: DURATION_SEC });
  const toUs = monotonicUs();
  const cpu = meter();
  return { run, fromUs, toUs, cpu, cpuUsPerRequest: round((cpu.serverCpuMs * 1000) / run.requests, 1) };
}

function render(name, a, w) {
  const lines = [
    '',
    `## ${name}: ${w.run.rps} req/s under --cpu-prof, ${a.cpuUsPerRequest} µs CPU per request ` +
      `(${round((w.cpu.serverUserMs * 1000) / w.run.requests, 1)} user + ${round((w.cpu.serverSysMs * 1000) / w.run.requests, 1)} sys; ` +
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

async function main() {
  snapshotBuild();
  const source = sourceState();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results', `profile-${stamp}`);
  mkdirSync(dir, { recursive: true });
  const profArgs = ['--cpu-prof', '--cpu-prof-dir', dir, `--cpu-prof-interval`, String(SAMPLING_US)];
  const extra = Object.fromEntries(
    (process.env.PROFILE_APP_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => pair.split('=')),
  );
  const services = await startServices();
  installExitCleanup();
  let app;
  let ceiling;
  const windows = {};
  try {
    ceiling = await startReferenceServer(profArgs);
    app = await spawnApp({
      redisUrl: services.redis.url(),
      databaseUrl: services.postgres.url(),
      nodeArgs: profArgs,
      extra,
    });
    await timeTo200(`${app.baseUrl}/health/ready`, app.spawnedAt, { isAlive: () => app.child.exitCode === null });
    windows.ceiling = await measured(ceiling.url, ceiling.pid);
    windows.liveness = await measured(`${app.baseUrl}/health/live`, app.pid);
    windows.readiness = await measured(`${app.baseUrl}/health/ready`, app.pid);
    // Once one access-logged request has been served, nestjs-pino's AsyncLocalStorage keeps
    // async hooks on for the whole process: the state of a pod that serves traffic.
    const logged = await fetch(`${app.baseUrl}/jobs?limit=1`);
    if (logged.status !== 200) throw new Error(`GET /jobs?limit=1 answered ${logged.status}`);
    windows.livenessServing = await measured(`${app.baseUrl}/health/live`, app.pid);
  } finally {
    // SIGTERM: both exit through process.exit, which writes the profile.
    if (app) await app.stop();
    if (ceiling) await ceiling.stop();
    await services.stop();
  }
  const ceilingProfile = newestProfile(dir, ceiling.pid);
  const appProfile = newestProfile(dir, app.pid);
  const summary = { dir, source, settings: { CONNECTIONS, DURATION_SEC, WARMUP_SEC, SAMPLING_US, extra }, results: {} };
  const out = [];
  for (const [name, profile] of [
    ['ceiling', ceilingProfile],
    ['liveness', appProfile],
    ['readiness', appProfile],
    ['livenessServing', appProfile],
  ]) {
    const w = windows[name];
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
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.md'), `${out.join('\n')}\n`);
  const head =
    `source ${source.commit}${source.uncommittedSrc.length ? ` + uncommitted ${source.uncommittedSrc.join(', ')}` : ''}; ` +
    `${CONNECTIONS} connections, ${WARMUP_SEC} s warm-up + ${DURATION_SEC} s profiled per endpoint, sampling every ${SAMPLING_US} µs`;
  process.stdout.write(`${head}\n${out.join('\n')}\n\nprofiles and summary: ${dir}\n`);
}

module.exports = { analyze, render, newestProfile };

/** Re-summarizes an earlier run: `node bench/profile.js --summarize bench/results/profile-<stamp>`. */
function resummarize(dir) {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const out = [];
  for (const name of Object.keys(summary.results)) {
    const r = summary.results[name];
    const profile = JSON.parse(readFileSync(r.profile, 'utf8'));
    r.analysis = analyze(profile, r.fromUs, r.toUs, r.run.requests, r.analysis.cpuUsPerRequest);
    out.push(render(TITLES[name], r.analysis, r));
  }
  out.unshift(compare(summary.results));
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.md'), `${out.join('\n')}\n`);
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module && process.argv[2] === '--summarize') {
  resummarize(process.argv[3]);
} else if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`profile failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}

/** What the bench reads from Linux' /proc and the machine: CPU time, RSS, versions, the source measured. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { descendantPids } from '../../test/support/wait';
import { ROOT } from './paths';
import { round } from './stats';

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** USER_HZ, the unit of utime/stime in /proc/PID/stat: 100 on every mainstream Linux. */
const MS_PER_TICK = 1000 / 100;

/** utime, stime, cutime, cstime of `pid` in clock ticks; null when it is gone. */
function procTicks(pid: number): { user: number; sys: number; children: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of /proc/PID/stat (utime stime cutime cstime) are f[11..14] after "pid (comm) ".
    return { user: Number(f[11]), sys: Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** CPU time (user + system) `pid` has used, in ms; null when it is gone. */
export function cpuTimeMs(pid: number): number | null {
  const ticks = procTicks(pid);
  return ticks === null ? null : (ticks.user + ticks.sys) * MS_PER_TICK;
}

/** utime+stime (with `children`, plus its reaped children's) of `pid` in ticks; 0 when it is gone. */
function cpuTicks(pid: number, children = false): number {
  const ticks = procTicks(pid);
  if (ticks === null) return 0;
  return ticks.user + ticks.sys + (children ? ticks.children : 0);
}

/** Machine-wide busy and total ticks from /proc/stat (all CPUs). */
function machineTicks(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** CPU use over one window (see cpuMeter); the server fields are null without a server pid. */
export interface CpuWindow {
  wallMs: number;
  serverCpuMs: number | null;
  serverCpuPct: number | null;
  serverUserMs: number | null;
  serverSysMs: number | null;
  machineBusyPct: number | null;
  /** CPU used by processes outside this bench's tree, in % of the whole machine (all CPUs). */
  foreignPct: number | null;
  cpus: number;
}

/**
 * CPU accounting over a window: the server's own CPU (for CPU per request),
 * and how much CPU processes outside this bench's process tree used (other
 * work on a shared machine makes every figure noisier). Call the returned
 * function at the window's end.
 */
export function cpuMeter(serverPid?: number): () => CpuWindow {
  const tree = (): number =>
    [process.pid, ...descendantPids(process.pid)].reduce((sum, pid) => sum + cpuTicks(pid, true), 0);
  const split = (): { user: number; sys: number } => {
    const ticks = serverPid ? procTicks(serverPid) : null;
    return ticks ?? { user: 0, sys: 0 };
  };
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
    const wallMs = now() - start.at;
    return {
      wallMs: round(wallMs, 0),
      serverCpuMs: serverPid ? (cpuTicks(serverPid) - start.server) * MS_PER_TICK : null,
      serverCpuPct: serverPid ? round((((cpuTicks(serverPid) - start.server) * MS_PER_TICK) / wallMs) * 100, 0) : null,
      serverUserMs: serverPid ? (split().user - start.split.user) * MS_PER_TICK : null,
      serverSysMs: serverPid ? (split().sys - start.split.sys) * MS_PER_TICK : null,
      machineBusyPct: total > 0 ? round((busy / total) * 100, 0) : null,
      foreignPct: total > 0 ? round((Math.max(0, busy - ours) / total) * 100, 0) : null,
      cpus: os.cpus().length,
    };
  };
}

/** Resident set size of `pid` in MiB (/proc/PID/status VmRSS). */
export function rssMiB(pid: number): number | null {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? round(Number(match[1]) / 1024, 1) : null;
}

/** The build measured: HEAD and the paths under src/ that differ from it. */
export interface SourceState {
  commit: string;
  uncommittedSrc: string[];
}

/** Output of a command, trimmed; `fallback` when it fails. */
function commandOutput(command: string, args: string[], fallback: string, cwd?: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch {
    return fallback;
  }
}

export function sourceState(): SourceState {
  const git = (args: string[]): string => commandOutput('git', args, '', ROOT);
  return {
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedSrc: git(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
  };
}

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** The closed-loop load generator and its version. */
  load: string;
  /** autocannon's version (the fixed-rate fault load and the jobs load). */
  autocannon: string;
  redis: string;
  postgres: string;
}

/** The machine and the versions of everything measured; `load` as loadGenerator() describes it. */
export function machine(load: { version: string; autocannon: string }): Machine {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
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
    load: load.version,
    autocannon: load.autocannon,
    redis: commandOutput('redis-server', ['--version'], 'unknown').replace(/^Redis server /, ''),
    postgres: pgVersions.length
      ? commandOutput(join(pgRoot, pgVersions[0], 'bin', 'postgres'), ['--version'], 'unknown')
      : 'unknown',
  };
}

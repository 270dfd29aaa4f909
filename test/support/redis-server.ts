import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Redis from 'ioredis';
import { freePort } from './ports';
import {
  reapOnExit,
  removeOnExit,
  signalQuietly,
  unrefChild,
  waitFor,
  waitForExit,
  WaitTimeoutError,
  waitForResumed,
  waitForStopped,
} from './wait';

/** Options for {@link startRedis}. */
export interface RedisStartOptions {
  /** Sets `--requirepass`; clients must AUTH with it. */
  password?: string;
  /** `--appendonly yes` (data survives restart()); default false. */
  appendonly?: boolean;
  /** Data directory to use instead of a fresh temp dir (created if missing); stop() does not delete it. */
  dir?: string;
  /** More server arguments, e.g. `['--replicaof', '127.0.0.1', '7000']` or cluster mode. */
  args?: string[];
  /**
   * Runs a sentinel (`redis-server sentinel.conf --sentinel`) with this
   * sentinel.conf, written into the dir on first start; the sentinel rewrites
   * it as it learns, and restart() keeps what it learned.
   */
  sentinelConfig?: string;
  /** Picks the port to try (default freePort); e.g. one whose cluster bus port (+10000) is free too. */
  pickPort?: () => Promise<number>;
}

/** A redis-server process owned by the test, on its own loopback port. */
export interface RedisFixture {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly password?: string;
  /** The server's working directory (AOF files live here). */
  readonly dir: string;
  /** PID of the current redis-server process; changes on restart()/start(). */
  readonly pid: number;
  /** `redis://[:password@]127.0.0.1:PORT/DB` (db defaults to 0). */
  url(db?: number): string;
  /** SIGKILL the server and wait for it to exit. */
  kill(): Promise<void>;
  /** SIGSTOP the server: connections stay open, nothing is answered. */
  pause(): Promise<void>;
  /** SIGCONT a paused server. */
  resume(): Promise<void>;
  /** SIGTERM, wait for exit, start again on the same port and dir. */
  restart(): Promise<void>;
  /** Start again after kill() (same port and dir); no-op while running. */
  start(): Promise<void>;
  /** Remove everything: resume, kill, delete the temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Runs one command on a fresh short-lived connection (AUTH if needed, no
   * ready check, no CLIENT SETNAME), e.g. `command('INFO', 'commandstats')`;
   * a leading `'-n', db` selects a database like redis-cli (SELECT is sent).
   * That connection's own command (and AUTH) counts in INFO commandstats.
   */
  command(...args: Array<string | number>): Promise<unknown>;
  /** CLIENT LIST parsed into one record per connection, without the asking connection itself. */
  clientList(): Promise<Array<Record<string, string>>>;
  /** The server's captured stdout/stderr (its log). */
  output(): string;
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 5_000;
const MAX_LOG_LINES = 2_000;

interface RunningProcess {
  child: ChildProcess;
  pid: number;
  hasExited: boolean;
}

class RedisServer implements RedisFixture {
  readonly host = HOST;
  private proc: RunningProcess | undefined;
  private lastPid = 0;
  private paused = false;
  private removed = false;
  private readonly log: string[] = [];
  private readonly forgetDir: () => void;

  constructor(
    public port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly appendonly: boolean,
    readonly password?: string,
    private readonly extraArgs: string[] = [],
    private readonly sentinelConfig?: string,
  ) {
    this.forgetDir = ownsDir ? removeOnExit(dir) : () => undefined;
  }

  get pid(): number {
    return this.proc?.pid ?? this.lastPid;
  }

  url(db = 0): string {
    const auth = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return `redis://${auth}${HOST}:${this.port}/${db}`;
  }

  output(): string {
    return this.log.join('\n');
  }

  async start(): Promise<void> {
    if (this.removed) throw new Error('redis fixture: start() after stop()');
    if (this.isRunning()) return;
    if (this.sentinelConfig !== undefined) {
      const exists = await access(this.sentinelConfigPath).then(
        () => true,
        () => false,
      );
      if (!exists) await writeFile(this.sentinelConfigPath, this.sentinelConfig);
    }
    const proc = this.spawnServer();
    this.proc = proc;
    this.lastPid = proc.pid;
    await this.waitUntilReady(proc);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited) return;
    signalQuietly(proc.pid, 'SIGKILL');
    await waitForExit(() => proc.hasExited, `redis-server ${proc.pid}`);
    this.paused = false;
  }

  async pause(): Promise<void> {
    const proc = this.requireRunning('pause');
    process.kill(proc.pid, 'SIGSTOP');
    this.paused = true;
    await waitForStopped([proc.pid]);
  }

  async resume(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited || !this.paused) return;
    process.kill(proc.pid, 'SIGCONT');
    this.paused = false;
    await waitForResumed([proc.pid]);
  }

  async restart(): Promise<void> {
    const proc = this.proc;
    if (proc && !proc.hasExited) {
      await this.resume();
      process.kill(proc.pid, 'SIGTERM');
      try {
        await waitForExit(() => proc.hasExited, `redis-server ${proc.pid} (SIGTERM)`);
      } catch (error) {
        if (!(error instanceof WaitTimeoutError)) throw error;
        await this.kill();
      }
    }
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await this.resume();
    await this.kill();
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
    this.forgetDir();
  }

  async command(...args: Array<string | number>): Promise<unknown> {
    // redis-cli style database selection: command('-n', 2, 'GET', 'key').
    let db = 0;
    if (args[0] === '-n') {
      db = Number(args[1]);
      if (!Number.isInteger(db) || db < 0) throw new Error(`redis fixture: bad database number ${String(args[1])}`);
      args = args.slice(2);
    }
    if (args.length === 0) throw new Error('redis fixture: command() needs a command name');
    const [name, ...rest] = args;
    return this.withConnection((client) => client.call(String(name), ...rest), COMMAND_TIMEOUT_MS, db);
  }

  async clientList(): Promise<Array<Record<string, string>>> {
    const [ownId, list] = await this.withConnection(async (client) => {
      const id = await client.call('CLIENT', 'ID');
      const text = await client.call('CLIENT', 'LIST');
      return [String(id), String(text)] as const;
    });
    return parseClientList(list).filter((entry) => entry.id !== ownId);
  }

  private get sentinelConfigPath(): string {
    return join(this.dir, 'sentinel.conf');
  }

  /** Spawns redis-server on this.port with stdout/stderr captured into the log. */
  private spawnServer(): RunningProcess {
    const mode = this.sentinelConfig === undefined ? [] : [this.sentinelConfigPath, '--sentinel'];
    const args = [
      ...mode,
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.appendonly ? 'yes' : 'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
    ];
    // Every write reaches the AOF before its reply: with the default `everysec` a busy disk lets
    // Redis postpone the write, and a write acknowledged just before kill() could be lost.
    if (this.appendonly) args.push('--appendfsync', 'always');
    if (this.password !== undefined) args.push('--requirepass', this.password);
    args.push(...this.extraArgs);
    const child = spawn('redis-server', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (error) => this.capture(`spawn error: ${error.message}`));
    if (child.pid === undefined)
      throw new Error(`redis fixture: could not spawn redis-server in ${this.dir} (is it on PATH?)`);
    unrefChild(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.capture(line));
    }
    const proc: RunningProcess = { child, pid: child.pid, hasExited: false };
    const forget = reapOnExit(child.pid);
    child.once('exit', () => {
      proc.hasExited = true;
      forget();
    });
    return proc;
  }

  private async waitUntilReady(proc: RunningProcess): Promise<void> {
    let lastError = 'no answer yet';
    try {
      await waitFor(
        async () => {
          if (proc.hasExited) throw new Error('redis-server exited during startup');
          try {
            return (await this.withConnection((client) => client.ping(), 500)) === 'PONG';
          } catch (error) {
            lastError = error instanceof Error ? error.message : String(error);
            return false;
          }
        },
        {
          timeoutMs: START_TIMEOUT_MS,
          intervalMs: 25,
          description: `redis-server on ${HOST}:${this.port} to answer PING`,
        },
      );
    } catch (error) {
      signalQuietly(proc.pid, 'SIGKILL');
      await waitForExit(() => proc.hasExited, `redis-server ${proc.pid}`);
      const reason = error instanceof Error ? error.message : String(error);
      throw new RedisStartError(
        `${reason} (last error: ${lastError})\n--- redis-server output ---\n${this.output()}`,
        this.output(),
      );
    }
  }

  private async withConnection<T>(
    fn: (client: Redis) => Promise<T>,
    timeoutMs = COMMAND_TIMEOUT_MS,
    db = 0,
  ): Promise<T> {
    const client = new Redis({
      host: HOST,
      port: this.port,
      password: this.password,
      db,
      lazyConnect: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
    });
    client.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis command timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    const work = (async () => {
      await client.connect();
      return fn(client);
    })();
    work.catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      // disconnect() arms a 2 s timer that only the socket's next 'close' clears: on a socket that
      // already closed (refused while the server starts, or the server went away) it would run out
      // and keep jest alive after the last test.
      if (client.status !== 'end') client.disconnect();
    }
  }

  private isRunning(): boolean {
    return this.proc !== undefined && !this.proc.hasExited;
  }

  private requireRunning(action: string): RunningProcess {
    const proc = this.proc;
    if (!proc || proc.hasExited) throw new Error(`redis fixture: ${action}() while the server is not running`);
    return proc;
  }

  private capture(line: string): void {
    this.log.push(line);
    if (this.log.length > MAX_LOG_LINES) this.log.shift();
  }
}

/** Startup failure; `output` is the server's log. */
class RedisStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'RedisStartError';
  }
}

/** Parses CLIENT LIST text ("id=3 addr=... name= ...", one line per client). */
export function parseClientList(text: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const entry: Record<string, string> = {};
      for (const field of line.split(' ')) {
        const eq = field.indexOf('=');
        if (eq > 0) entry[field.slice(0, eq)] = field.slice(eq + 1);
      }
      return entry;
    });
}

/**
 * Starts a private redis-server on a free 127.0.0.1 port in a fresh temp dir
 * (`--save ""`, `--appendonly yes|no`, `--requirepass` when a password is
 * given) and resolves once it answers PING (10 s deadline). Call stop() in
 * afterAll; if the test process dies first, a watchdog SIGKILLs the server
 * and deletes its dir (see reapOnExit).
 */
export async function startRedis(opts: RedisStartOptions = {}): Promise<RedisFixture> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'redis-fixture-')));
  if (!ownsDir) await mkdir(dir, { recursive: true });
  const server = new RedisServer(
    0,
    dir,
    ownsDir,
    opts.appendonly ?? false,
    opts.password,
    opts.args,
    opts.sentinelConfig,
  );
  // The free port may be taken between freePort() and bind: retry on a new one.
  for (let attempt = 1; ; attempt++) {
    server.port = await (opts.pickPort ?? freePort)();
    try {
      await server.start();
      return server;
    } catch (error) {
      const portTaken = error instanceof RedisStartError && /address already in use/i.test(error.output);
      if (!portTaken || attempt >= 3) {
        await server.stop();
        throw error;
      }
    }
  }
}

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Client, type QueryResultRow } from 'pg';
import { freePort } from './ports';
import {
  descendantPids,
  isProcessGone,
  reapOnExit,
  signalQuietly,
  removeOnExit,
  unrefChild,
  waitFor,
  waitForExit,
  WaitTimeoutError,
  waitForGone,
  waitForResumed,
  waitForStopped,
} from './wait';

const execFileAsync = promisify(execFile);

/** One row of pg_stat_activity (the columns tests usually look at are typed). */
export interface PgStatActivityRow {
  pid: number;
  datname: string | null;
  usename: string | null;
  application_name: string;
  client_addr: string | null;
  backend_start: Date | null;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string;
  backend_type: string;
  [column: string]: unknown;
}

/** A PostgreSQL cluster owned by the test, on its own loopback port. */
export interface PostgresFixture {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly database: 'app';
  /** The application's role: it logs in with `password` (scram-sha-256) and owns database `app`. */
  readonly user: 'app';
  readonly password: string;
  /** The fixture's temp dir (data directory and socket directory live below it). */
  readonly dir: string;
  readonly dataDir: string;
  /** False when pg_stat_statements could not be loaded or created. */
  readonly hasPgStatStatements: boolean;
  /** Throws, saying why, unless pg_stat_statements is available: for tests that count statements. */
  requirePgStatStatements(): void;
  /** PID of the postmaster itself (not of a runuser wrapper); changes on start(). */
  readonly pid: number;
  /** `postgres://app:PASSWORD@127.0.0.1:PORT/app` (or another database): the app's role, with its password. */
  url(database?: string): string;
  /** SIGKILL the postmaster and all its children; wait until they are gone. */
  kill(): Promise<void>;
  /** SIGSTOP the postmaster and every backend: existing connections hang too. */
  pause(): Promise<void>;
  /** SIGCONT everything pause() stopped. */
  resume(): Promise<void>;
  /** Graceful fast shutdown (SIGINT); waits for exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** `pg_ctl stop -m immediate`: every backend quits at once, no checkpoint (start() then recovers). */
  stopImmediate(): Promise<void>;
  /** Start again on the same port and data dir; no-op while running. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Remove everything: resume, stop (or kill), delete the temp dir. Idempotent. */
  destroy(): Promise<void>;
  /** One query on a fresh short-lived connection to `app` (statement_timeout 10 s). */
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** pg_stat_activity rows of database `app`, without the asking backend. */
  appConnections(applicationName?: string): Promise<PgStatActivityRow[]>;
  /** The server's captured log (stderr/stdout). */
  output(): string;
}

const HOST = '127.0.0.1';
const DATABASE = 'app';
/** The application's role (password authentication). */
const APP_USER = 'app';
/** The fixture's own superuser, for its helpers: trusted on loopback, never given to the app. */
const SUPERUSER = 'postgres';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const MAX_LOG_LINES = 2_000;
const HELPER_APPLICATION_NAME = 'pg-fixture';

/** The newest installed PostgreSQL: /usr/lib/postgresql/<highest version>. */
function postgresInstallDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+(\.\d+)?$/.test(name) && existsSync(join(root, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`postgres fixture: no PostgreSQL found under ${root}/*/bin`);
  return join(root, versions[0]);
}

/** client.end() waits for the server to close the socket, which a paused server never does: bound it. */
async function endQuietly(client: Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1_000);
    }),
  ]);
  clearTimeout(timer);
}

interface RunningProcess {
  child: ChildProcess;
  /** The spawned process: runuser when running as root, else the postmaster. */
  wrapperPid: number;
  postmasterPid: number;
  hasExited: boolean;
}

/** Startup failure; `output` is the server's log. */
class PostgresStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'PostgresStartError';
  }
}

class PostgresServer implements PostgresFixture {
  readonly host = HOST;
  readonly database = DATABASE;
  readonly user = APP_USER;
  readonly password = `app-pw-${randomBytes(6).toString('hex')}`;
  readonly dataDir: string;
  readonly socketDir: string;
  hasPgStatStatements = false;
  private pgStatStatementsProblem = 'not set up yet';
  private proc: RunningProcess | undefined;
  private lastPid = 0;
  private pausedPids: number[] = [];
  /** SysV shared memory key/id from postmaster.pid, to clean up after a SIGKILL. */
  private shmem: { key: string; id: string } | undefined;
  private removed = false;
  private readonly log: string[] = [];
  private readonly forgetDir: () => void;

  constructor(
    public port: number,
    readonly dir: string,
    private readonly installDir: string,
    private readonly asPostgresUser: boolean,
  ) {
    this.dataDir = join(dir, 'data');
    this.socketDir = join(dir, 'socket');
    this.forgetDir = removeOnExit(dir);
  }

  get pid(): number {
    return this.proc?.postmasterPid ?? this.lastPid;
  }

  url(database: string = DATABASE): string {
    return `postgres://${APP_USER}:${encodeURIComponent(this.password)}@${HOST}:${this.port}/${database}`;
  }

  requirePgStatStatements(): void {
    if (!this.hasPgStatStatements) {
      throw new Error(`postgres fixture: pg_stat_statements is not available (${this.pgStatStatementsProblem})`);
    }
  }

  output(): string {
    return this.log.join('\n');
  }

  /**
   * Runs initdb into dataDir (superuser postgres), then sets client
   * authentication: the app's role by password (scram-sha-256), as in
   * production; the fixture's superuser trusted, for its helpers only.
   */
  async initdb(): Promise<void> {
    const [command, args] = this.command(join(this.installDir, 'bin', 'initdb'), [
      '-D',
      this.dataDir,
      '-A',
      'trust',
      '-U',
      SUPERUSER,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    try {
      await execFileAsync(command, args, { cwd: this.dir, env: this.env(), timeout: 60_000 });
    } catch (error) {
      const details = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `postgres fixture: initdb failed: ${details.message}\n${details.stdout ?? ''}${details.stderr ?? ''}`,
        { cause: error },
      );
    }
    const hba = join(this.dataDir, 'pg_hba.conf');
    writeFileSync(
      hba,
      [
        'local all all trust',
        `host all ${SUPERUSER} ${HOST}/32 trust`,
        `host all all ${HOST}/32 scram-sha-256`,
        '',
      ].join('\n'),
    );
    if (this.asPostgresUser) {
      const { uid, gid } = postgresIds();
      chownSync(hba, uid, gid);
    }
  }

  /** Creates the app's role and database app and (when loadable) the pg_stat_statements extension. */
  async createAppDatabase(): Promise<void> {
    // The password is ours (hex), so it can be inlined: CREATE ROLE takes no parameters.
    await this.queryOn('postgres', `CREATE ROLE ${APP_USER} LOGIN PASSWORD '${this.password}'`);
    await this.queryOn('postgres', `CREATE DATABASE ${DATABASE} OWNER ${APP_USER}`);
    if (!this.preloadsPgStatStatements()) {
      this.pgStatStatementsProblem = `${join(this.installDir, 'lib', 'pg_stat_statements.so')} is missing; install postgresql-contrib`;
      return;
    }
    try {
      await this.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      this.hasPgStatStatements = true;
    } catch (error) {
      this.pgStatStatementsProblem = `CREATE EXTENSION failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  async start(): Promise<void> {
    if (this.removed) throw new Error('postgres fixture: start() after destroy()');
    if (this.proc && !this.proc.hasExited) return;
    const proc = this.spawnPostmaster();
    this.proc = proc;
    await this.waitUntilReady(proc);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited) return;
    const pids = this.processTree(proc);
    for (const pid of pids) signalQuietly(pid, 'SIGKILL');
    // runuser stops itself when its child stops; wake it so it can reap and exit.
    if (proc.wrapperPid !== proc.postmasterPid) signalQuietly(proc.wrapperPid, 'SIGCONT');
    await waitForExit(() => proc.hasExited, `postgres ${proc.postmasterPid}`);
    await waitForGone(pids);
    this.pausedPids = [];
    this.removeStaleState();
  }

  async pause(): Promise<void> {
    const proc = this.requireRunning('pause');
    // Postmaster first, so it cannot fork new backends while we stop the others.
    process.kill(proc.postmasterPid, 'SIGSTOP');
    this.pausedPids = this.processTree(proc);
    for (const pid of this.pausedPids) signalQuietly(pid, 'SIGSTOP');
    await waitForStopped(this.pausedPids);
  }

  async resume(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited || this.pausedPids.length === 0) return;
    const pids = [...new Set([...this.pausedPids, ...this.processTree(proc)])];
    for (const pid of pids) signalQuietly(pid, 'SIGCONT');
    if (proc.wrapperPid !== proc.postmasterPid) signalQuietly(proc.wrapperPid, 'SIGCONT');
    this.pausedPids = [];
    await waitForResumed(pids.filter((pid) => !isProcessGone(pid)));
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited) return;
    if (proc.postmasterPid === 0) return this.kill(); // Still starting: no postmaster to ask.
    await this.resume();
    signalQuietly(proc.postmasterPid, 'SIGINT');
    try {
      await waitForExit(() => proc.hasExited, `postmaster ${proc.postmasterPid} (SIGINT)`, STOP_TIMEOUT_MS);
      this.shmem = undefined; // A clean shutdown removes its own segment.
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      await this.kill();
    }
  }

  async stopImmediate(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited) return;
    await this.resume();
    const [command, args] = this.command(join(this.installDir, 'bin', 'pg_ctl'), [
      'stop',
      '-D',
      this.dataDir,
      '-m',
      'immediate',
      '-w',
      '-t',
      String(STOP_TIMEOUT_MS / 1000),
    ]);
    await execFileAsync(command, args, { cwd: this.dir, env: this.env(), timeout: STOP_TIMEOUT_MS + 5_000 });
    await waitForExit(() => proc.hasExited, `postmaster ${proc.postmasterPid} (pg_ctl stop -m immediate)`);
    this.shmem = undefined; // The postmaster removes its own segment on an immediate shutdown too.
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    try {
      await this.stop();
    } finally {
      await this.kill();
      await rm(this.dir, { recursive: true, force: true });
      this.forgetDir();
    }
  }

  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
    return this.queryOn<R>(DATABASE, sql, params);
  }

  appConnections(applicationName?: string): Promise<PgStatActivityRow[]> {
    const byName = applicationName === undefined ? '' : ' AND application_name = $2';
    const params: unknown[] = applicationName === undefined ? [DATABASE] : [DATABASE, applicationName];
    return this.query<PgStatActivityRow>(
      `SELECT * FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()${byName} ORDER BY pid`,
      params,
    );
  }

  private async queryOn<R extends QueryResultRow = QueryResultRow>(
    database: string,
    sql: string,
    params?: unknown[],
  ): Promise<R[]> {
    const client = new Client({
      host: HOST,
      port: this.port,
      user: SUPERUSER,
      database,
      application_name: HELPER_APPLICATION_NAME,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 10_000,
      query_timeout: 15_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const result = await client.query<R>(sql, params);
      return result.rows;
    } finally {
      await endQuietly(client);
    }
  }

  private spawnPostmaster(): RunningProcess {
    const args = ['-D', this.dataDir, '-p', String(this.port), '-k', this.socketDir];
    args.push('-c', `listen_addresses=${HOST}`, '-c', 'fsync=off');
    if (this.preloadsPgStatStatements()) args.push('-c', 'shared_preload_libraries=pg_stat_statements');
    const [command, fullArgs] = this.command(join(this.installDir, 'bin', 'postgres'), args);
    const child = spawn(command, fullArgs, { cwd: this.dir, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (error) => this.capture(`spawn error: ${error.message}`));
    if (child.pid === undefined) throw new Error(`postgres fixture: could not spawn ${command}`);
    unrefChild(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.capture(line));
    }
    const proc: RunningProcess = {
      child,
      wrapperPid: child.pid,
      postmasterPid: this.asPostgresUser ? 0 : child.pid,
      hasExited: false,
    };
    // Kills runuser, the postmaster and every backend if the test process dies.
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
          if (proc.hasExited) throw new Error('postgres exited during startup');
          try {
            await this.ping();
            return true;
          } catch (error) {
            lastError = error instanceof Error ? error.message : String(error);
            return false;
          }
        },
        {
          timeoutMs: START_TIMEOUT_MS,
          intervalMs: 25,
          description: `postgres on ${HOST}:${this.port} to accept connections`,
        },
      );
      // Accepting connections implies the current postmaster has written postmaster.pid.
      const lockFile = readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n');
      const postmasterPid = Number(lockFile[0]);
      if (!(postmasterPid > 1)) throw new Error(`unreadable postmaster.pid (first line: ${lockFile[0]})`);
      proc.postmasterPid = postmasterPid;
      const [key, id] = (lockFile[6] ?? '').trim().split(/\s+/);
      this.shmem = key && id ? { key, id } : undefined;
      this.lastPid = proc.postmasterPid;
    } catch (error) {
      const pids = [...new Set([...this.processTree(proc), proc.wrapperPid, ...descendantPids(proc.wrapperPid)])];
      for (const pid of pids) signalQuietly(pid, 'SIGKILL');
      await waitForExit(() => proc.hasExited, `postgres ${proc.wrapperPid}`);
      await waitForGone(pids).catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new PostgresStartError(
        `${reason} (last error: ${lastError})\n--- postgres output ---\n${this.output()}`,
        this.output(),
      );
    }
  }

  /** One short connection to the always-present `postgres` database. */
  private async ping(): Promise<void> {
    const client = new Client({
      host: HOST,
      port: this.port,
      user: SUPERUSER,
      database: 'postgres',
      connectionTimeoutMillis: 1_000,
      query_timeout: 1_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await endQuietly(client);
    }
  }

  /** After a SIGKILL: drop the orphaned SysV segment and the stale lock file. */
  private removeStaleState(): void {
    this.removeSharedMemory();
    rmSync(join(this.dataDir, 'postmaster.pid'), { force: true });
  }

  /**
   * Removes the cluster's SysV segment only if it still exists under the same
   * id AND key with no process attached (ids are reused by other servers).
   */
  private removeSharedMemory(): void {
    const recorded = this.shmem;
    this.shmem = undefined;
    if (!recorded) return;
    let table: string;
    try {
      table = readFileSync('/proc/sysvipc/shm', 'utf8');
    } catch {
      return;
    }
    // Columns: key shmid perms size cpid lpid nattch ...
    const orphaned = table
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .some(([key, id, , , , , nattch]) => key === recorded.key && id === recorded.id && nattch === '0');
    if (!orphaned) return;
    try {
      execFileSync('ipcrm', ['-m', recorded.id], { stdio: 'ignore' });
    } catch {
      // Removed meanwhile, or ipcrm is missing: nothing to do.
    }
  }

  private preloadsPgStatStatements(): boolean {
    return existsSync(join(this.installDir, 'lib', 'pg_stat_statements.so'));
  }

  /** The command line, wrapped in `runuser -u postgres --` when running as root. */
  private command(binary: string, args: string[]): [string, string[]] {
    return this.asPostgresUser ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  }

  private env(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
  }

  private requireRunning(action: string): RunningProcess {
    const proc = this.proc;
    if (!proc || proc.hasExited || proc.postmasterPid === 0) {
      throw new Error(`postgres fixture: ${action}() while the server is not running`);
    }
    return proc;
  }

  /** The postmaster (or, while it is unknown, the spawned wrapper) with all its descendants. */
  private processTree(proc: RunningProcess): number[] {
    const root = proc.postmasterPid > 0 ? proc.postmasterPid : proc.wrapperPid;
    return [root, ...descendantPids(root)];
  }

  private capture(line: string): void {
    this.log.push(line);
    if (this.log.length > MAX_LOG_LINES) this.log.shift();
  }
}

/** Makes every ancestor of `dir` traversable (o+x) so the postgres user can reach it. */
function makeAncestorsTraversable(dir: string): void {
  for (let current = dirname(dir); ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) break;
  }
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('postgres fixture: running as root but there is no "postgres" OS user');
  }
}

/**
 * Creates and starts a private PostgreSQL cluster (newest version under
 * /usr/lib/postgresql) on a free 127.0.0.1 port: initdb in a fresh temp dir
 * (the app's role `app` logs in by scram password, the fixture's superuser
 * is trusted), the postgres binary spawned directly (as the postgres OS
 * user via runuser when running as root), database `app` and, if available,
 * the pg_stat_statements extension. Resolves once it accepts connections.
 * Call destroy() in afterAll; if the test process dies first, a watchdog
 * SIGKILLs the whole process tree and deletes the dir (see reapOnExit).
 */
export async function startPostgres(): Promise<PostgresFixture> {
  const installDir = postgresInstallDir();
  const asPostgresUser = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'pg-fixture-'));
  const server = new PostgresServer(0, dir, installDir, asPostgresUser);
  try {
    await mkdir(server.socketDir);
    if (asPostgresUser) {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
      chownSync(server.socketDir, uid, gid);
      makeAncestorsTraversable(dir);
    }
    await server.initdb();
    // The free port may be taken between freePort() and bind: retry on a new one.
    for (let attempt = 1; ; attempt++) {
      server.port = await freePort();
      try {
        await server.start();
        break;
      } catch (error) {
        const portTaken =
          error instanceof PostgresStartError && /could not bind|address already in use/i.test(error.output);
        if (!portTaken || attempt >= 3) throw error;
      }
    }
    await server.createAppDatabase();
    return server;
  } catch (error) {
    await server.destroy();
    throw error;
  }
}

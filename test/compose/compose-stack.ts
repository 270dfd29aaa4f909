/**
 * A throwaway copy of the project run with Docker Compose, for the compose
 * suite: the committed tree (`git archive HEAD`) with `.env.example` as
 * `.env`, its own project name, image tag and free API_PORT. Everything it
 * starts carries that project name, and `down()` removes exactly that.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/app-process';
import { freePort } from '../support/ports';
import { unrefChild } from '../support/wait';

/** What a finished command printed and how it ended (code -1: it could not run or was killed). */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command without a shell and never throws: a missing binary or a
 * timeout is code -1 with the reason in stderr.
 */
export function run(
  argv: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      argv[0],
      argv.slice(1),
      { cwd: opts.cwd, env: opts.env ?? dockerEnv(), timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const ms = Date.now() - started;
        if (!error) return resolve({ code: 0, stdout, stderr, ms });
        const e = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        const reason =
          e.code === 'ENOENT'
            ? `${argv[0]}: not found`
            : e.killed
              ? `${argv.join(' ')}: killed after ${opts.timeoutMs} ms`
              : '';
        resolve({
          code: typeof e.code === 'number' ? e.code : -1,
          stdout,
          stderr: reason ? `${reason}\n${stderr}` : stderr,
          ms,
        });
      },
    );
  });
}

/** The last `n` lines a command printed, for an error message. */
export function tail(result: CommandResult, n = 25): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-n).join('\n');
}

/**
 * The environment for docker and compose: PATH, HOME and the Docker client's
 * own settings from ours, nothing else, so a developer's exported
 * POSTGRES_PASSWORD cannot override the copy's `.env`. BuildKit is on unless
 * the caller turned it off: Compose v2 always builds with it, and
 * docker-compose v1 should build the same way (its classic builder also
 * leaves untagged stage images behind).
 */
export function dockerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (key === 'PATH' || key === 'HOME' || /^(DOCKER|COMPOSE|BUILDKIT)_/.test(key))) {
      env[key] = value;
    }
  }
  delete env.COMPOSE_PROJECT_NAME;
  delete env.COMPOSE_FILE;
  return { DOCKER_BUILDKIT: '1', COMPOSE_DOCKER_CLI_BUILD: '1', ...env, ...extra };
}

const HOW_TO_GET_ONE =
  "start one (on this project's machines: `sudo bash ../shared/tools/docker-local/setup.sh`, then `export` the PATH line it prints), or point DOCKER_HOST at one";

/**
 * The compose command to use: `docker compose` (v2) where that plugin exists,
 * else `docker-compose` (v1.27+ reads this compose file). Throws one line
 * saying what is missing and how to get it when no Docker engine answers.
 */
export async function findCompose(): Promise<string[]> {
  const engine = await run(['docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  if (engine.code !== 0) {
    const why =
      engine.stderr
        .trim()
        .split('\n')
        .find((line) => line.trim() !== '') ?? `exit ${engine.code}`;
    throw new Error(`npm run test:compose needs a Docker engine, and none is reachable (${why}): ${HOW_TO_GET_ONE}.`);
  }
  if ((await run(['docker', 'compose', 'version'], { timeoutMs: 20_000 })).code === 0) return ['docker', 'compose'];
  if ((await run(['docker-compose', 'version', '--short'], { timeoutMs: 20_000 })).code === 0)
    return ['docker-compose'];
  throw new Error(
    'npm run test:compose needs Docker Compose: neither `docker compose` (v2) nor `docker-compose` (v1.27+) runs; install one.',
  );
}

/** The parts of `docker inspect` the suite reads (never the whole: Config.Env holds the passwords). */
export interface ContainerInfo {
  id: string;
  status: string;
  exitCode: number;
  startedAt: number;
  finishedAt: number;
  /** Config.StopTimeout: compose's stop_grace_period, in seconds. */
  stopTimeoutS: number | null;
  health?: {
    status: string;
    failingStreak: number;
    log: Array<{ start: number; end: number; exitCode: number; output: string }>;
  };
  /** The container's healthcheck, in ms and tries. */
  healthcheck?: { intervalMs: number; timeoutMs: number; retries: number };
}

interface RawInspect {
  Id: string;
  State: {
    Status: string;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
    Health?: {
      Status: string;
      FailingStreak: number;
      Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> | null;
    };
  };
  Config: {
    StopTimeout?: number;
    Healthcheck?: { Interval?: number; Timeout?: number; Retries?: number };
  };
}

/** Docker prints `0001-01-01T00:00:00Z` for "never": NaN here, so no comparison with it passes. */
const time = (text: string): number => (text.startsWith('0001-') ? NaN : Date.parse(text));

function containerInfo(raw: RawInspect): ContainerInfo {
  const health = raw.State.Health;
  const hc = raw.Config.Healthcheck;
  return {
    id: raw.Id,
    status: raw.State.Status,
    exitCode: raw.State.ExitCode,
    startedAt: time(raw.State.StartedAt),
    finishedAt: time(raw.State.FinishedAt),
    stopTimeoutS: raw.Config.StopTimeout ?? null,
    health: health && {
      status: health.Status,
      failingStreak: health.FailingStreak,
      log: (health.Log ?? []).map((entry) => ({
        start: time(entry.Start),
        end: time(entry.End),
        exitCode: entry.ExitCode,
        output: entry.Output.trim(),
      })),
    },
    healthcheck: hc && {
      intervalMs: (hc.Interval ?? 30e9) / 1e6,
      timeoutMs: (hc.Timeout ?? 30e9) / 1e6,
      retries: hc.Retries ?? 3,
    },
  };
}

/** One HTTP answer from the published port. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** The project's services, as named in docker-compose.yml. */
export type Service = 'postgres' | 'redis' | 'api';

export class ComposeStack {
  private downDone = false;
  private disarmCleanup: () => void = () => undefined;

  private constructor(
    private readonly composeCommand: string[],
    /** The compose project name: every container, network and volume carries it. */
    readonly project: string,
    /** The copy of the project the stack runs from. */
    readonly dir: string,
    /** Host port of the api (API_PORT). */
    readonly port: number,
    /** The image tag the api is built under (removed by down()). */
    readonly image: string,
  ) {}

  /**
   * Copies the committed tree into a temp dir with `.env.example` as `.env`,
   * and names the project and the api's image after this run.
   */
  static async prepare(composeCommand: string[]): Promise<ComposeStack> {
    const project = `probe-compose-test-${process.pid}-${Date.now().toString(36)}`;
    const image = `probe-ready-api:${project}`;
    const dir = await mkdtemp(join(tmpdir(), 'compose-stack-'));
    const archive = join(dir, '.tree.tar');
    const git = await run(['git', 'archive', '--format=tar', `--output=${archive}`, 'HEAD'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '' },
      timeoutMs: 60_000,
    });
    if (git.code !== 0) throw new Error(`git archive HEAD failed: ${tail(git)}`);
    const untar = await run(['tar', '-xf', archive, '-C', dir], { timeoutMs: 60_000 });
    if (untar.code !== 0) throw new Error(`tar failed: ${tail(untar)}`);
    await rm(archive);
    await copyFile(join(dir, '.env.example'), join(dir, '.env'));
    // Only the api's image tag differs from the committed file: a developer's
    // probe-ready-api:local is neither replaced nor raced by a parallel run.
    await writeFile(
      join(dir, 'compose.test-override.yml'),
      `# Written by the compose test suite.\nservices:\n  api:\n    image: ${image}\n`,
    );
    const port = await freePort();
    const stack = new ComposeStack(composeCommand, project, dir, port, image);
    stack.disarmCleanup = cleanupIfKilled(
      dir,
      [stack.composeArgv(['down', '-v', '--timeout', '5']), ['docker', 'rmi', image]],
      stack.env(),
    );
    return stack;
  }

  /** Compose's environment: the Docker client's settings plus this run's API_PORT (wins over .env). */
  private env(): NodeJS.ProcessEnv {
    return dockerEnv({ API_PORT: String(this.port) });
  }

  private composeArgv(args: string[]): string[] {
    return [
      ...this.composeCommand,
      '--project-name',
      this.project,
      '--file',
      'docker-compose.yml',
      '--file',
      'compose.test-override.yml',
      ...args,
    ];
  }

  /** Runs a compose command in the copy; throws with its output unless it exits 0. */
  async compose(args: string[], timeoutMs: number): Promise<CommandResult> {
    const result = await run(this.composeArgv(args), { cwd: this.dir, env: this.env(), timeoutMs });
    if (result.code !== 0) {
      // The one failure with a known cure on Docker 23+ clients without the buildx plugin.
      const hint = /buildx/i.test(result.stderr)
        ? "\n(put a docker client with BuildKit built in, such as Debian's 20.10 one, first on PATH, or install buildx)"
        : '';
      throw new Error(`compose ${args.join(' ')} exited ${result.code}:\n${tail(result)}${hint}`);
    }
    return result;
  }

  /** The container of `service` (compose ps -q), inspected. */
  async inspect(service: Service): Promise<ContainerInfo> {
    const ps = await this.compose(['ps', '-q', service], 30_000);
    const id = ps.stdout.trim();
    if (!/^[0-9a-f]{12,64}$/.test(id)) throw new Error(`no container for ${service} in ${this.project}: '${id}'`);
    const result = await run(['docker', 'inspect', id], { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`docker inspect ${service} failed: ${tail(result, 3)}`);
    return containerInfo((JSON.parse(result.stdout) as RawInspect[])[0]);
  }

  /** The container's stdout and stderr lines (`docker logs`). */
  async logs(service: Service): Promise<string[]> {
    const { id } = await this.inspect(service);
    const result = await run(['docker', 'logs', id], { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`docker logs ${service} failed: ${tail(result, 3)}`);
    return `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
  }

  /** One request to the api through the published port, on a fresh connection (no keep-alive across restarts). */
  request(method: string, path: string, body?: unknown, timeoutMs = 2_000): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: false,
          timeout: timeoutMs,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Status of GET `path`, or 0 when nothing answered (for polling). */
  async status(path: string): Promise<number> {
    try {
      return (await this.request('GET', path)).status;
    } catch {
      return 0;
    }
  }

  /**
   * `down -v` (containers, network, volumes of this project only), then the
   * api's image tag and the copy. Safe to call more than once.
   */
  async down(): Promise<void> {
    if (this.downDone) return;
    const down = await run(this.composeArgv(['down', '-v', '--timeout', '5']), {
      cwd: this.dir,
      env: this.env(),
      timeoutMs: 120_000,
    });
    if (down.code !== 0) throw new Error(`compose down -v failed (project ${this.project}): ${tail(down)}`);
    // Only the tag this run created; the layers stay in the build cache for the next run.
    await run(['docker', 'rmi', this.image], { timeoutMs: 60_000 });
    this.downDone = true;
    this.disarmCleanup();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * If the test process dies before down() (Ctrl-C, a CI timeout, SIGKILL),
 * afterAll hooks never run. A small detached process holds a pipe from us and,
 * when it closes without a "disarm" line, runs `commands` in `cwd` and
 * deletes it.
 */
function cleanupIfKilled(cwd: string, commands: string[][], env: NodeJS.ProcessEnv): () => void {
  const source = `
    const { spawnSync } = require('child_process');
    const fs = require('fs');
    let input = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => { input += chunk; });
    const finish = () => {
      if (input.includes('disarm')) return process.exit(0);
      for (const argv of ${JSON.stringify(commands)}) {
        spawnSync(argv[0], argv.slice(1), { cwd: ${JSON.stringify(cwd)}, stdio: 'ignore', timeout: 120000 });
      }
      fs.rmSync(${JSON.stringify(cwd)}, { recursive: true, force: true });
      process.exit(0);
    };
    process.stdin.on('end', finish);
    process.stdin.on('error', finish);
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => undefined);
  `;
  const watchdog = spawn(process.execPath, ['-e', source], {
    detached: true,
    env,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.stdin.on('error', () => undefined);
  unrefChild(watchdog);
  return () => {
    watchdog.stdin.end('disarm\n');
  };
}

/**
 * Deployment files against the app, without a Docker engine or a Kubernetes
 * cluster (`npm run test:compose` runs the compose stack in a real engine):
 * - docker-compose.yml is accepted by `docker-compose config`, and refuses to
 *   resolve without the passwords (no secret defaults);
 * - every probe and healthcheck path in compose, the Dockerfile and the k8s
 *   manifests is served by the built app;
 * - their numbers agree with the app's budgets (readiness budget, drain,
 *   shutdown timeout, the CLI's deadline);
 * - every variable they set exists in the config schema;
 * - the build output runs with the Dockerfile's exact CMD, NODE_ENV=production
 *   and production dependencies only (`npm ci --omit=dev` in a temp copy), on
 *   real PostgreSQL and Redis, and
 *   the healthcheck CLI answers for each state.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { getMetadataStorage } from 'class-validator';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { EnvironmentVariables, validateEnvironment } from '../src/config/environment';
import { DEFAULT_HEALTHCHECK_TIMEOUT_MS, HEALTHCHECK_ENV_VARS } from '../src/healthcheck';
import { ensureBuilt, REPO_ROOT } from './support/app-process';
import { freePort } from './support/ports';
import { PostgresFixture, startPostgres } from './support/postgres-server';
import { RedisFixture, startRedis } from './support/redis-server';
import { waitFor } from './support/wait';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------
// Reading the files
// ---------------------------------------------------------------------------

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
function dict(v: unknown, what: string): Dict {
  if (!isDict(v)) throw new Error(`${what}: expected a mapping`);
  return v;
}
function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list`);
  return v;
}
/** A YAML scalar as text ('' for null); a mapping or a list is not a scalar. */
const str = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`expected a scalar, got ${JSON.stringify(v)}`);
};

/** Every variable the app's schema declares (with or without a default). */
function schemaVariables(): Set<string> {
  const names = new Set(Object.keys(new EnvironmentVariables()));
  for (const meta of getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', true, false)) {
    names.add(meta.propertyName);
  }
  return names;
}

/** `.env.example`: active `NAME=value` lines, and the names of commented `# NAME=` entries. */
function readEnvExample(): { values: Record<string, string>; commented: Set<string> } {
  const values: Record<string, string> = {};
  const commented = new Set<string>();
  for (const line of read('.env.example').split('\n')) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (active) values[active[1]] = active[2];
    const disabled = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (disabled) commented.add(disabled[1]);
  }
  return { values, commented };
}

/** Compose-style interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $$. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (match, name?: string, colon?: string, op?: string, arg?: string) => {
      if (match === '$$') return '$$';
      const key = name as string;
      const set = key in vars && (colon !== ':' || vars[key] !== '');
      if (set) return vars[key];
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(`compose: missing ${key}: ${arg ?? ''}`);
      return '';
    },
  );
}

/** Names referenced as ${NAME...} in the compose file. */
const composeReferences = (text: string): Set<string> =>
  new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));

/** Interpolates every string in a parsed compose document (compose parses first, then interpolates). */
function interpolateDeep(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars));
  if (isDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)]));
  return value;
}

/** The compose file as compose resolves it with .env.example's values. */
function composeModel(vars: Record<string, string>): Dict {
  return dict(interpolateDeep(parseYaml(read('docker-compose.yml')), vars), 'docker-compose.yml');
}

/** `1m30s`, `3s`, `500ms` (compose and Docker durations) in milliseconds. */
function durationMs(value: unknown): number {
  const text = str(value).trim();
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|us|h|m|s)/.exec(rest);
    if (!m) throw new Error(`not a duration: '${text}'`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  if (text === '') throw new Error('empty duration');
  return total;
}

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (continuations joined, comments dropped), grouped by stage. */
function dockerfileStages(): Instruction[][] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of read('Dockerfile').split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const instruction = { keyword: m[1].toUpperCase(), args: m[2].trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    if (stages.length === 0) continue; // ARG before the first FROM
    stages[stages.length - 1].push(instruction);
  }
  return stages;
}

interface DockerHealthcheck {
  options: Record<string, string>;
  cmd: string[];
}

function dockerHealthcheck(finalStage: Instruction[]): DockerHealthcheck {
  const instruction = finalStage.find((i) => i.keyword === 'HEALTHCHECK');
  if (!instruction) throw new Error('Dockerfile: no HEALTHCHECK in the final stage');
  const m = /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(\[.*\])$/.exec(instruction.args);
  if (!m) throw new Error(`Dockerfile: HEALTHCHECK must use CMD in exec form: ${instruction.args}`);
  const options = Object.fromEntries(
    m[1]
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((o) => o.replace(/^--/, '').split('=') as [string, string]),
  );
  return { options, cmd: JSON.parse(m[2]) as string[] };
}

/** The Kubernetes objects kustomization.yaml lists. */
function k8sObjects(): Dict[] {
  const kustomization = dict(parseYaml(read('deploy/k8s/kustomization.yaml')), 'kustomization.yaml');
  return list(kustomization.resources, 'kustomization resources').flatMap((file) =>
    parseAllDocuments(read(join('deploy/k8s', str(file)))).map((doc) => dict(doc.toJSON(), str(file))),
  );
}

function k8sObject(objects: Dict[], kind: string): Dict {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in deploy/k8s, found ${found.length}`);
  return found[0];
}

const PROBE_NAMES = ['startupProbe', 'livenessProbe', 'readinessProbe'] as const;

/** A path the healthcheck CLI requests for argv like ['node', 'dist/healthcheck.js', 'ready']. */
function cliPath(argv: string[]): string {
  const script = argv.findIndex((a) => a.endsWith('dist/healthcheck.js'));
  if (script < 0) throw new Error(`not the healthcheck CLI: ${argv.join(' ')}`);
  return `/health/${argv[script + 1] ?? 'ready'}`;
}

/** Compose `healthcheck.test` as argv (CMD form only: no shell needed in the image). */
function composeTestArgv(test: unknown): string[] {
  const argv = list(test, 'healthcheck.test').map(str);
  if (argv[0] !== 'CMD') throw new Error(`api healthcheck must use the CMD form: ${argv.join(' ')}`);
  return argv.slice(1);
}

// ---------------------------------------------------------------------------
// The files, loaded once
// ---------------------------------------------------------------------------

const schema = schemaVariables();
const envExample = readEnvExample();
const compose = composeModel(envExample.values);
const composeServices = dict(compose.services, 'services');
const api = dict(composeServices.api, 'services.api');
const apiEnv = Object.fromEntries(
  Object.entries(dict(api.environment, 'api.environment')).map(([k, v]) => [k, str(v)]),
);
const apiHealthcheck = dict(api.healthcheck, 'api.healthcheck');
const stages = dockerfileStages();
const finalStage = stages[stages.length - 1];
const dockerCmd = ((): string[] => {
  const cmd = finalStage.find((i) => i.keyword === 'CMD');
  if (!cmd) throw new Error('Dockerfile: no CMD in the final stage');
  return JSON.parse(cmd.args) as string[];
})();
const dockerHc = dockerHealthcheck(finalStage);
/** Every `ENV NAME=value` of the final stage: the environment the image runs the app with. */
const imageEnv = Object.fromEntries(
  finalStage
    .filter((i) => i.keyword === 'ENV')
    .flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|(\S+))/g)].map((m) => [m[1], m[2] ?? m[3]])),
);
const objects = k8sObjects();
const services = objects.filter((o) => o.kind === 'Service');
const deployment = k8sObject(objects, 'Deployment');
const podSpec = dict(dict(dict(deployment.spec, 'spec').template, 'template').spec, 'pod spec');
const container = dict(list(podSpec.containers, 'containers')[0], 'container');
const configMap = k8sObject(objects, 'ConfigMap');
const configData = Object.fromEntries(
  Object.entries(dict(configMap.data, 'ConfigMap data')).map(([k, v]) => [k, str(v)]),
);
const secretExample = dict(parseYaml(read('deploy/k8s/secret.example.yaml')), 'secret.example.yaml');
const probe = (name: (typeof PROBE_NAMES)[number]): Dict => dict(container[name], name);
const probePath = (name: (typeof PROBE_NAMES)[number]): string =>
  str(dict(probe(name).httpGet, `${name}.httpGet`).path);

/** Settings the manifests give the app, with the schema's defaults for the rest. */
const k8sSettings = validateEnvironment({ ...configData, ...dict(secretExample.stringData, 'stringData') });
const composeSettings = validateEnvironment(apiEnv);
const cliTimeoutMs = Number(apiEnv.HEALTHCHECK_TIMEOUT_MS || DEFAULT_HEALTHCHECK_TIMEOUT_MS);

/** Every probe and healthcheck path with where it comes from. */
const probePaths: Array<[string, string]> = [
  ...PROBE_NAMES.map((name): [string, string] => [`k8s ${name}`, probePath(name)]),
  ['Dockerfile HEALTHCHECK', cliPath(dockerHc.cmd)],
  ['compose api healthcheck', cliPath(composeTestArgv(apiHealthcheck.test))],
];

// ---------------------------------------------------------------------------
// Static checks
// ---------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const composeBinary = 'docker-compose';

  async function composeConfig(
    envFile: string,
    args: string[],
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(
        composeBinary,
        ['--env-file', envFile, '-f', 'docker-compose.yml', 'config', ...args],
        {
          cwd: REPO_ROOT,
          // Only what compose needs: no POSTGRES_PASSWORD from the developer's shell.
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
          timeout: 30_000,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number | string; stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') {
        throw new Error(`${composeBinary} is not installed: apt-get install docker-compose (.ci/run installs it)`, {
          cause: error,
        });
      }
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  it('is accepted by `docker-compose config` with the values of .env.example', async () => {
    const result = await composeConfig(join(REPO_ROOT, '.env.example'), ['-q']);

    expect(result).toMatchObject({ code: 0 });
  });

  it('is resolved by docker-compose exactly as this test reads it (same api environment)', async () => {
    const result = await composeConfig(join(REPO_ROOT, '.env.example'), []);
    const resolved = dict(parseYaml(result.stdout), 'docker-compose config output');
    const resolvedApi = dict(dict(resolved.services, 'services').api, 'api');

    const resolvedEnv = Object.fromEntries(
      Object.entries(dict(resolvedApi.environment, 'env')).map(([k, v]) => [k, str(v)]),
    );
    expect(resolvedEnv).toEqual(apiEnv);
    expect(str(resolvedApi.stop_grace_period)).toBe(str(api.stop_grace_period));
  });

  it('refuses to resolve without POSTGRES_PASSWORD and REDIS_PASSWORD (no default secret)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compose-env-'));
    try {
      const empty = join(dir, '.env');
      writeFileSync(empty, '');
      const result = await composeConfig(empty, ['-q']);

      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/POSTGRES_PASSWORD|REDIS_PASSWORD/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives postgres, redis and api a healthcheck, and api waits for both to be healthy', () => {
    for (const name of ['postgres', 'redis', 'api']) {
      expect(dict(composeServices[name], name).healthcheck).toBeDefined();
    }
    expect(JSON.stringify(dict(composeServices.postgres, 'postgres').healthcheck)).toContain('pg_isready');
    expect(JSON.stringify(dict(composeServices.redis, 'redis').healthcheck)).toContain('redis-cli ping');
    expect(api.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(api.init).toBe(true);
    expect(api.cap_add).toBeUndefined();
    expect(api.privileged).toBeUndefined();
  });

  it('keeps Redis data in AOF on a named volume, behind a password from the environment', () => {
    const redis = dict(composeServices.redis, 'redis');
    const command = list(redis.command, 'redis.command').map(str);

    expect(command.join(' ')).toContain('--appendonly yes');
    expect(command[command.indexOf('--requirepass') + 1]).toBe(envExample.values.REDIS_PASSWORD);
    // The healthcheck's redis-cli takes the password from REDISCLI_AUTH, not from its command line.
    expect(JSON.stringify(redis.healthcheck)).not.toContain('-a ');
    expect(list(redis.volumes, 'redis.volumes').map(str)).toContain('redis-data:/data');
    expect(list(dict(composeServices.postgres, 'postgres').volumes, 'postgres.volumes').map(str)).toContain(
      'postgres-data:/var/lib/postgresql/data',
    );
    expect(Object.keys(dict(compose.volumes, 'volumes')).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it("gives the api's healthcheck a timeout above the CLI's own deadline, and the CLI one above the readiness budget", () => {
    const timeoutMs = durationMs(apiHealthcheck.timeout);

    expect(timeoutMs).toBeGreaterThan(cliTimeoutMs);
    expect(cliTimeoutMs).toBeGreaterThan(composeSettings.HEALTH_READINESS_BUDGET_MS);
    expect(durationMs(apiHealthcheck.start_period)).toBeGreaterThanOrEqual(10_000);
  });

  it('lets the api drain: stop_grace_period exceeds SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS', () => {
    expect(durationMs(api.stop_grace_period)).toBeGreaterThan(
      composeSettings.SHUTDOWN_DRAIN_MS + composeSettings.SHUTDOWN_TIMEOUT_MS,
    );
  });

  it("sets only variables of the app's config schema (or the healthcheck CLI's) on the api", () => {
    const allowed = new Set<string>([...schema, ...HEALTHCHECK_ENV_VARS]);

    expect(Object.keys(apiEnv).filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('takes every secret from the environment, required and without a default value', () => {
    const raw = dict(dict(parseYaml(read('docker-compose.yml')), 'compose').services, 'services');
    const secrets = Object.entries(raw).flatMap(([service, def]) =>
      Object.entries(dict(dict(def, service).environment ?? {}, `${service}.environment`))
        .filter(([name]) => /PASSWORD|AUTH|TOKEN|SECRET/.test(name))
        .map(([name, value]) => `${service}.${name}=${str(value)}`),
    );
    // Required (${X:?...}), or optional and empty by default (${X:-}).
    const unsafe = secrets.filter((entry) => !/=\$\{[A-Z_]+(:\?[^}]*|:-)\}$/.test(entry));

    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(unsafe).toEqual([]);
    expect(apiEnv.DB_PASSWORD).toBe(envExample.values.POSTGRES_PASSWORD);
    expect(apiEnv.REDIS__PASSWORD).toBe(envExample.values.REDIS_PASSWORD);
  });
});

describe('.env.example', () => {
  it('lists every variable of the config schema', () => {
    const listed = new Set([...Object.keys(envExample.values), ...envExample.commented]);

    expect([...schema].filter((name) => !listed.has(name))).toEqual([]);
  });

  it('lists every variable docker-compose.yml interpolates, and nothing that nobody reads', () => {
    const referenced = composeReferences(read('docker-compose.yml'));
    const listed = new Set([...Object.keys(envExample.values), ...envExample.commented]);
    const known = new Set<string>([...schema, ...referenced, ...HEALTHCHECK_ENV_VARS]);

    expect([...referenced].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !known.has(name))).toEqual([]);
  });

  it("gives each app variable the schema's default", () => {
    const defaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
    const fromCompose = new Set(['NODE_ENV']); // documented as compose's fixed value
    const differing = Object.entries(envExample.values)
      .filter(([name]) => schema.has(name) && !fromCompose.has(name))
      .filter(([name, value]) => {
        const d = defaults[name];
        return str(Array.isArray(d) ? d.join(',') : d) !== value;
      });

    expect(differing).toEqual([]);
    expect(() => validateEnvironment(envExample.values)).not.toThrow();
  });
});

describe('Dockerfile', () => {
  it("builds with the engine's built-in frontend: no `# syntax=` line (BuildKit would pull that frontend from a registry)", () => {
    expect(read('Dockerfile')).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('is multi-stage on a Node LTS image, installs from the lockfile before copying sources', () => {
    const from = stages.map((s) => s[0].args);
    const deps = stages.findIndex((s) => s.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args)));
    const sources = stages.findIndex((s) => s.some((i) => i.keyword === 'COPY' && /(^|\s)src\b/.test(i.args)));
    const lockfileFirst = stages[deps].findIndex((i) => i.keyword === 'COPY' && i.args.includes('package-lock.json'));
    const ciAt = stages[deps].findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));

    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(read('Dockerfile')).toMatch(/ARG NODE_VERSION=24\b/);
    expect(from[0]).toMatch(/^node:\$\{NODE_VERSION\}-(bookworm-slim|alpine)\b/);
    expect(lockfileFirst).toBeGreaterThanOrEqual(0);
    expect(lockfileFirst).toBeLessThan(ciAt);
    expect(deps).toBeLessThanOrEqual(sources);
  });

  it('copies every file `npm run build` reads into the build stage', () => {
    const copied = stages
      .flatMap((s) => s.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const nestCli = JSON.parse(read('nest-cli.json')) as { compilerOptions?: { tsConfigPath?: string } };
    const buildTsconfig = nestCli.compilerOptions?.tsConfigPath ?? 'tsconfig.build.json';
    const extendsFile = (JSON.parse(read(buildTsconfig)) as { extends?: string }).extends?.replace(/^\.\//, '');

    expect(copied).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'nest-cli.json', buildTsconfig, 'src']),
    );
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBe('nest build');
    if (extendsFile) expect(copied).toContain(extendsFile);
  });

  it('ships dist/main.js as the compiled src/main.ts, with its source map', () => {
    ensureBuilt();
    const main = read('dist/main.js');

    expect(main).toMatch(/\/\/# sourceMappingURL=main\.js\.map\s*$/);
    const map = JSON.parse(read('dist/main.js.map')) as { sources: string[] };
    expect(map.sources).toEqual(['../src/main.ts']);
  });

  it('runs production dependencies only, as the node user, with NODE_ENV=production and the CLI healthcheck', () => {
    const args = (keyword: string): string[] => finalStage.filter((i) => i.keyword === keyword).map((i) => i.args);
    const prodInstall = stages.some((s) => s.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)));

    expect(prodInstall).toBe(true);
    expect(args('COPY').join('\n')).toMatch(/--from=prod-deps\s+\/app\/node_modules/);
    expect(args('ENV').join(' ')).toMatch(/\bNODE_ENV=production\b/);
    expect(args('USER')).toEqual(['node']);
    expect(args('EXPOSE')).toEqual([String(new EnvironmentVariables().PORT)]);
    expect(dockerCmd).toEqual(['node', 'dist/main.js']);
    expect(dockerHc.cmd.slice(0, 2)).toEqual(['node', 'dist/healthcheck.js']);
  });

  it("maps a logged stack trace into src/ under the image's environment: dist/main.js loads source-maps.js before the rest of the app", async () => {
    ensureBuilt();
    const firstLocalRequire = /require\("\.\/([^"]+)"\)/.exec(read('dist/main.js'))?.[1];
    const script =
      "require('./dist/source-maps');" +
      "try { require('./dist/config/environment').validateEnvironment({ PORT: 'x' }); }" +
      'catch (error) { process.stdout.write(String(error.stack)); }';
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...imageEnv },
    });

    expect(firstLocalRequire).toBe('source-maps');
    expect(stdout).toMatch(/\/src\/config\/environment\.ts:\d+:\d+/);
  });

  it('asks liveness in the image HEALTHCHECK and readiness in compose, which overrides it for service_healthy', () => {
    expect(cliPath(dockerHc.cmd)).toBe('/health/live');
    expect(cliPath(composeTestArgv(apiHealthcheck.test))).toBe('/health/ready');
  });

  it("gives HEALTHCHECK a timeout above the CLI's deadline", () => {
    expect(durationMs(dockerHc.options.timeout)).toBeGreaterThan(DEFAULT_HEALTHCHECK_TIMEOUT_MS);
    expect(durationMs(dockerHc.options['start-period'])).toBeGreaterThanOrEqual(10_000);
    expect(Number(dockerHc.options.retries)).toBeGreaterThanOrEqual(1);
  });

  it('keeps secrets, dependencies and build output out of the build context (.dockerignore)', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());

    expect(ignored).toEqual(expect.arrayContaining(['.env', '**/node_modules', 'dist', '.git']));
  });
});

describe('Kubernetes manifests', () => {
  it('are a Deployment, two Services, ConfigMap and PodDisruptionBudget; the Secret is an example outside kustomization', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'Service',
    ]);
    expect(secretExample.kind).toBe('Secret');
    const kustomization = dict(parseYaml(read('deploy/k8s/kustomization.yaml')), 'kustomization.yaml');
    expect(list(kustomization.resources, 'resources')).not.toContain('secret.example.yaml');
  });

  it('wire the ConfigMap and the Secret into the container', () => {
    const sources = list(container.envFrom, 'envFrom').map((s) => dict(s, 'envFrom entry'));
    const secretMeta = dict(secretExample.metadata, 'secret metadata');
    const configMeta = dict(configMap.metadata, 'configmap metadata');

    expect(sources).toEqual([{ configMapRef: { name: configMeta.name } }, { secretRef: { name: secretMeta.name } }]);
  });

  it('probe startup, liveness and readiness on the port the app listens on', () => {
    const ports = list(container.ports, 'ports').map((p) => dict(p, 'port'));
    const http = ports.find((p) => p.name === 'http');

    expect(http?.containerPort).toBe(k8sSettings.PORT);
    expect(PROBE_NAMES.map(probePath)).toEqual(['/health/startup', '/health/live', '/health/ready']);
    for (const name of PROBE_NAMES) expect(dict(probe(name).httpGet, name).port).toBe('http');
  });

  it('give readiness a timeout at least 1 s above HEALTH_READINESS_BUDGET_MS', () => {
    const timeoutMs = Number(probe('readinessProbe').timeoutSeconds) * 1000;

    expect(timeoutMs).toBeGreaterThan(k8sSettings.HEALTH_READINESS_BUDGET_MS);
    expect(timeoutMs).toBeGreaterThanOrEqual(k8sSettings.HEALTH_READINESS_BUDGET_MS + 1000);
  });

  it('see readiness fail within the drain: periodSeconds x failureThreshold <= SHUTDOWN_DRAIN_MS', () => {
    const readiness = probe('readinessProbe');

    expect(Number(readiness.periodSeconds) * Number(readiness.failureThreshold) * 1000).toBeLessThanOrEqual(
      k8sSettings.SHUTDOWN_DRAIN_MS,
    );
  });

  it('let the pod drain: terminationGracePeriodSeconds exceeds SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS, without preStop', () => {
    expect(Number(podSpec.terminationGracePeriodSeconds) * 1000).toBeGreaterThan(
      k8sSettings.SHUTDOWN_DRAIN_MS + k8sSettings.SHUTDOWN_TIMEOUT_MS,
    );
    expect(container.lifecycle).toBeUndefined();
    expect(container.command).toBeUndefined();
  });

  it('run non-root, read-only, without privilege escalation or capabilities, within resource limits', () => {
    const security = dict(container.securityContext, 'securityContext');
    const podSecurity = dict(podSpec.securityContext, 'pod securityContext');
    const resources = dict(container.resources, 'resources');

    expect(podSecurity.runAsNonRoot).toBe(true);
    expect(podSecurity.runAsUser).toBe(1000); // uid of the node image's `node` user
    expect(security).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(dict(resources.requests, 'requests')).toHaveProperty('memory');
    expect(dict(resources.limits, 'limits').memory).toBe('256Mi');
  });

  it('select the same pods in Deployment, Service and PodDisruptionBudget', () => {
    const selector = dict(dict(deployment.spec, 'spec').selector, 'selector').matchLabels;
    const labels = dict(dict(dict(deployment.spec, 'spec').template, 'template').metadata, 'metadata').labels;

    for (const service of services) expect(dict(service.spec, 'svc').selector).toEqual(selector);
    expect(
      dict(dict(k8sObject(objects, 'PodDisruptionBudget').spec, 'pdb').selector, 'pdb selector').matchLabels,
    ).toEqual(selector);
    expect(labels).toMatchObject(dict(selector, 'matchLabels'));
  });

  it('give the peers a headless Service that keeps unready pods visible, named by HEALTH_PEERS_DNS', () => {
    const peers = services.find((service) => dict(service.spec, 'svc').clusterIP === 'None');
    const spec = dict(peers?.spec, 'peers svc');
    const port = dict(list(spec.ports, 'peers ports')[0], 'peers port');

    expect(spec.publishNotReadyAddresses).toBe(true);
    expect(`${str(dict(peers?.metadata, 'peers metadata').name)}:${String(port.port)}`).toBe(
      configData.HEALTH_PEERS_DNS,
    );
    expect(port.port).toBe(k8sSettings.PORT);
    expect(port.targetPort).toBe('http');
  });

  it("set only variables of the app's config schema, with valid values", () => {
    const secretKeys = Object.keys(dict(secretExample.stringData, 'stringData'));

    expect(Object.keys(configData).filter((name) => !schema.has(name))).toEqual([]);
    expect(secretKeys.filter((name) => !schema.has(name))).toEqual([]);
    expect(k8sSettings.NODE_ENV).toBe('production');
  });
});

// ---------------------------------------------------------------------------
// The build output, as the image runs it
// ---------------------------------------------------------------------------

interface CliRun {
  code: number;
  line: string;
}

/** Runs argv (e.g. the Dockerfile's HEALTHCHECK CMD) in `cwd`, like the engine does in the container. */
async function runCli(argv: string[], cwd: string, env: Record<string, string>): Promise<CliRun> {
  const started = Date.now();
  try {
    const { stdout } = await execFileAsync(argv[0], argv.slice(1), { cwd, env, timeout: 10_000 });
    return { code: 0, line: stdout.trimEnd() };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; killed?: boolean };
    if (e.killed) throw new Error(`${argv.join(' ')} was killed after ${Date.now() - started} ms`, { cause: error });
    return { code: typeof e.code === 'number' ? e.code : -1, line: (e.stdout ?? '').trimEnd() };
  }
}

interface RunningImage {
  port: number;
  output(): string;
  hasExited(): boolean;
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** `CMD` from the Dockerfile, spawned in `cwd` with exactly `env`. */
function runCmd(cmd: string[], cwd: string, env: Record<string, string>): RunningImage {
  const child = spawn(cmd[0], cmd.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    port: Number(env.PORT),
    output: () => lines.join('\n'),
    hasExited: () => done,
    exited,
    signal: (sig) => {
      if (!done) child.kill(sig);
    },
  };
}

async function status(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.status;
}

describe('the build output, run as the image runs it', () => {
  let dir: string;
  let postgres: PostgresFixture | undefined;
  let redis: RedisFixture | undefined;
  let app: RunningImage | undefined;
  let env: Record<string, string>;
  const setupStarted = Date.now();
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'deploy-image-'));
    // The runtime stage: package.json, the lockfile, production dependencies, dist/.
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(REPO_ROOT, file), join(dir, file));
    cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    await Promise.all([
      startPostgres().then((fixture) => {
        postgres = fixture;
      }),
      // As compose runs it: AOF and a password.
      startRedis({ password: 'deploy-test-redis-pw', appendonly: true }).then((fixture) => {
        redis = fixture;
      }),
      (async () => {
        const t = Date.now();
        await execFileAsync(
          'npm',
          ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
          {
            cwd: dir,
            env: { ...process.env, NODE_ENV: 'production' },
            timeout: 240_000,
            maxBuffer: 16 * 1024 * 1024,
          },
        );
        timings.npmCiMs = Date.now() - t;
      })(),
    ]);
    const pg = postgres as PostgresFixture;
    const rd = redis as RedisFixture;

    // The image's ENV, then compose's api environment, pointed at the fixtures.
    env = {
      PATH: process.env.PATH ?? '',
      ...imageEnv,
      ...apiEnv,
      PORT: String(await freePort()),
      DB_HOST: pg.host,
      DB_PORT: String(pg.port),
      DB_USER: pg.user,
      DB_PASSWORD: pg.password,
      DB_NAME: pg.database,
      REDIS__HOST: rd.host,
      REDIS__PORT: String(rd.port),
      REDIS__PASSWORD: 'deploy-test-redis-pw',
    };
    const t = Date.now();
    app = runCmd(dockerCmd, dir, env);
    const running = app;
    await waitFor(
      async () => {
        if (running.hasExited()) {
          throw new Error(`app exited during boot\n--- app output ---\n${running.output()}`);
        }
        return (await status(running.port, '/health/startup').catch(() => 0)) === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: `/health/startup to answer 200\n${running.output()}` },
    );
    timings.bootMs = Date.now() - t;
    timings.setupMs = Date.now() - setupStarted;
  }, 300_000);

  afterAll(async () => {
    app?.signal('SIGKILL');
    await app?.exited;
    await Promise.all([postgres?.destroy(), redis?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    process.stderr.write(`deploy e2e timings: ${JSON.stringify(timings)}\n`);
  }, 60_000);

  it('has production dependencies only: no package the lockfile marks dev-only is installed', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, meta]) => path !== '' && meta.dev === true)
      .map(([path]) => path);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };

    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/@nestjs/cli', 'node_modules/jest']));
    expect(devOnly.filter((path) => existsSync(join(dir, path)))).toEqual([]);
    expect(Object.keys(pkg.dependencies).filter((name) => !existsSync(join(dir, 'node_modules', name)))).toEqual([]);
  });

  it.each(probePaths)('serves the %s path (%s)', async (_where, path) => {
    expect(await status(Number(env.PORT), path)).toBe(200);
  });

  it('answers 404 for a path it does not serve (the check above can fail)', async () => {
    expect(await status(Number(env.PORT), '/health/not-a-probe')).toBe(404);
  });

  it('answers /health/live and /health/ready with 200', async () => {
    expect(await status(Number(env.PORT), '/health/live')).toBe(200);
    expect(await status(Number(env.PORT), '/health/ready')).toBe(200);
  });

  it.each(['live', 'ready', 'startup'])('passes the healthcheck CLI for %s (exit 0, one line)', async (name) => {
    const result = await runCli(['node', 'dist/healthcheck.js', name], dir, { PATH: env.PATH, PORT: env.PORT });

    expect(result).toEqual({ code: 0, line: `${name}: 200 ok` });
  });

  it("passes the Dockerfile's HEALTHCHECK and compose's api healthcheck commands as written", async () => {
    const cliEnv = { PATH: env.PATH, PORT: env.PORT };

    expect(await runCli(dockerHc.cmd, dir, cliEnv)).toEqual({ code: 0, line: 'live: 200 ok' });
    expect(await runCli(composeTestArgv(apiHealthcheck.test), dir, cliEnv)).toEqual({ code: 0, line: 'ready: 200 ok' });
  });

  it('on SIGTERM: fails readiness at once, keeps liveness while draining, exits 0; then the CLI says connection refused', async () => {
    const running = app as RunningImage;
    const cliEnv = { PATH: env.PATH, PORT: env.PORT };
    const stopStarted = Date.now();

    running.signal('SIGTERM');
    const draining = await waitFor(
      async () => {
        const ready = await runCli(['node', 'dist/healthcheck.js', 'ready'], dir, cliEnv);
        return ready.code === 1 ? ready : undefined;
      },
      { timeoutMs: composeSettings.SHUTDOWN_DRAIN_MS, intervalMs: 100, description: 'readiness to fail after SIGTERM' },
    );
    const live = await runCli(['node', 'dist/healthcheck.js', 'live'], dir, cliEnv);
    const code = await running.exited;
    const refused = await runCli(['node', 'dist/healthcheck.js', 'live'], dir, cliEnv);
    timings.stopMs = Date.now() - stopStarted;

    expect(draining.line).toBe('ready: 503 shutting_down');
    expect(live).toEqual({ code: 0, line: 'live: 200 ok' });
    expect(code).toBe(0);
    expect(timings.stopMs).toBeLessThan(composeSettings.SHUTDOWN_DRAIN_MS + composeSettings.SHUTDOWN_TIMEOUT_MS);
    expect(refused).toEqual({ code: 1, line: 'live: connection refused' });
  }, 60_000);
});

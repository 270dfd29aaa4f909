/**
 * The V8 code cache of the bundle (scripts/main-loader.js, which the build
 * installs as dist/main.js, and scripts/write-code-cache.js, which the image's
 * final stage runs): the app boots from a cache written under the same V8
 * flags, and boots all the same, compiling from source, when the cache was
 * written under other flags or is garbage. A preloaded spy
 * (support/vm-script-spy.js) reports what V8 did with the cache.
 *
 * No database or Redis is needed: the app boots and serves liveness without
 * them, which is all a boot from the cache has to show.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, REPO_ROOT, startApp } from './support/app-process';
import { freePort } from './support/ports';

const execFileAsync = promisify(execFile);
const SPY = join(__dirname, 'support', 'vm-script-spy.js');
const IMAGE_FLAGS = '--max-semi-space-size=4 --max-old-space-size=160';

interface Compiled {
  file: string;
  withCache: boolean;
  rejected: boolean | null;
}

describe('V8 code cache of the bundle', () => {
  let dir: string;
  let dist: string;

  beforeAll(async () => {
    ensureBuilt();
    // A copy of the build output (as the image has it), resolving node_modules from the checkout.
    dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
    dist = join(dir, 'dist');
    cpSync(join(REPO_ROOT, 'dist'), dist, { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    await execFileAsync(process.execPath, [join(REPO_ROOT, 'scripts', 'write-code-cache.js'), dist], {
      env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: IMAGE_FLAGS },
      timeout: 60_000,
    });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Boots the copy under `v8Flags` until liveness answers 200, stops it, and returns what the spy saw of the bundle. */
  async function bootWith(v8Flags: string): Promise<{ bundle: Compiled; exitCode: number | null }> {
    const closed = String(await freePort());
    const app = await startApp(
      {
        NODE_OPTIONS: `${v8Flags} --require ${SPY}`,
        REDIS_URL: `redis://127.0.0.1:${closed}`,
        DATABASE_URL: `postgres://cache@127.0.0.1:${closed}/cache`,
        SHUTDOWN_DRAIN_MS: '0',
      },
      { entry: join(dist, 'main.js') },
    );
    const exit = await app.stop();
    const line = app.lines().find((l) => l.startsWith('vm-script-spy '));
    if (!line) throw new Error(`no spy report in the app output:\n${app.output()}`);
    const compiled = JSON.parse(line.slice('vm-script-spy '.length)) as Compiled[];
    const bundle = compiled.find((c) => c.file === join(dist, 'main.bundle.js'));
    if (!bundle) throw new Error(`the bundle was not compiled through vm.Script: ${line}`);
    return { bundle, exitCode: exit.code };
  }

  it('is written next to the bundle by scripts/write-code-cache.js', () => {
    expect(existsSync(join(dist, 'main.bundle.cache'))).toBe(true);
  });

  it('is used when the app runs under the V8 flags it was written with', async () => {
    const { bundle, exitCode } = await bootWith(IMAGE_FLAGS);

    expect(bundle).toEqual({ file: join(dist, 'main.bundle.js'), withCache: true, rejected: false });
    expect(exitCode).toBe(0);
  }, 60_000);

  it('is rejected by V8 under other heap flags, and the app boots from source all the same', async () => {
    const { bundle, exitCode } = await bootWith('--max-semi-space-size=8 --max-old-space-size=160');

    expect(bundle).toMatchObject({ withCache: true, rejected: true });
    expect(exitCode).toBe(0);
  }, 60_000);

  it('is rejected when it is garbage, and the app boots from source all the same', async () => {
    writeFileSync(join(dist, 'main.bundle.cache'), Buffer.from('not a V8 code cache'));
    const { bundle, exitCode } = await bootWith(IMAGE_FLAGS);

    expect(bundle).toMatchObject({ withCache: true, rejected: true });
    expect(exitCode).toBe(0);
  }, 60_000);

  it('is not required: without the file the app compiles the bundle from source', async () => {
    rmSync(join(dist, 'main.bundle.cache'));
    const { bundle, exitCode } = await bootWith(IMAGE_FLAGS);

    expect(bundle).toEqual({ file: join(dist, 'main.bundle.js'), withCache: false, rejected: null });
    expect(exitCode).toBe(0);
  }, 60_000);
});

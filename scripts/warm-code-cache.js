'use strict';
/**
 * Writes dist/main.bundle.cache, the V8 code cache that dist/main.js (the
 * loader, scripts/main-loader.js) compiles the bundle with.
 *
 *   node scripts/warm-code-cache.js [DIST_DIR]      (default: ./dist)
 *
 * It boots the app once (`node DIST_DIR/main.js`, CODE_CACHE_WRITE=1) with
 * PostgreSQL and Redis pointed at a closed port (the app boots without
 * them), waits for liveness and one readiness answer, stops it with SIGTERM,
 * and checks that V8 accepts the cache the app wrote at exit.
 *
 * V8 accepts a cache only under the V8 flags it was written with, so run this
 * with the NODE_OPTIONS the app will run with: the image runs it in its final
 * stage, after its `ENV NODE_OPTIONS=`; `npm run bench` runs it on its copy of
 * dist/ with the image's environment. Exits 1, with the reason, on failure.
 */
const { spawn } = require('node:child_process');
const { existsSync, readFileSync, rmSync } = require('node:fs');
const { get } = require('node:http');
const Module = require('node:module');
const { createServer } = require('node:net');
const { join, resolve } = require('node:path');
const vm = require('node:vm');

const DIST = resolve(process.argv[2] ?? 'dist');
const BUNDLE = join(DIST, 'main.bundle.js');
const CACHE = join(DIST, 'main.bundle.cache');
const DEADLINE_MS = 30_000;

const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer().once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

const status = (url) =>
  new Promise((done) => {
    get(url, (res) => {
      res.resume();
      done(res.statusCode);
    }).once('error', () => done(0));
  });

async function until(what, check) {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} not found: run \`npm run build\` first`);
  rmSync(CACHE, { force: true }); // a fresh run compiles everything the boot needs
  const port = await freePort();
  const closed = await freePort(); // nothing listens there: the dependencies are "down"
  const app = spawn(process.execPath, [...process.execArgv, join(DIST, 'main.js')], {
    cwd: resolve(DIST, '..'),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
      NODE_ENV: process.env.NODE_ENV ?? 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${closed}`,
      DATABASE_URL: `postgres://warm@127.0.0.1:${closed}/warm`,
      SHUTDOWN_DRAIN_MS: '0',
      CODE_CACHE_WRITE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [app.stdout, app.stderr]) stream.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
  const exited = new Promise((done) => app.once('exit', (code, signal) => done({ code, signal })));
  try {
    const base = `http://127.0.0.1:${port}`;
    await until('no liveness 200', async () => (await status(`${base}/health/live`)) === 200);
    await until('no readiness answer', async () => (await status(`${base}/health/ready`)) !== 0);
  } catch (error) {
    app.kill('SIGKILL');
    throw new Error(`${error.message}; app output:\n${output}`);
  }
  app.kill('SIGTERM');
  const { code, signal } = await exited;
  if (code !== 0) throw new Error(`the app exited with ${code ?? signal} on SIGTERM; output:\n${output}`);
  if (!existsSync(CACHE)) throw new Error(`the app did not write ${CACHE}`);
  const check = new vm.Script(Module.wrap(readFileSync(BUNDLE, 'utf8')), {
    filename: BUNDLE,
    cachedData: readFileSync(CACHE),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, // as the loader compiles it
  });
  if (check.cachedDataRejected) throw new Error('V8 rejects the cache it just wrote');
  const flags = process.env.NODE_OPTIONS ? ` for NODE_OPTIONS="${process.env.NODE_OPTIONS}"` : '';
  process.stdout.write(`code cache: ${CACHE} (${readFileSync(CACHE).length} bytes)${flags}\n`);
}

main().catch((error) => {
  process.stderr.write(`warm-code-cache failed: ${error.message}\n`);
  process.exit(1);
});

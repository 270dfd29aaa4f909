'use strict';
/**
 * Writes dist/main.bundle.cache, the V8 code cache that dist/main.js (the
 * loader, scripts/main-loader.js) compiles the bundle with.
 *
 *   node scripts/write-code-cache.js [DIST_DIR]      (default: ./dist)
 *
 * It compiles dist/main.bundle.js as the loader does and saves what V8
 * compiled up front (the module's top-level code and the functions it
 * compiles eagerly), then checks that V8 accepts the file. Functions V8
 * compiles lazily, at first call, are left out on purpose: a cache written
 * after a full boot saves twice as much boot time but made every probe
 * request ≈ 10 % more expensive (docs/BENCHMARKS.md, "Code cache").
 *
 * V8 accepts a cache only under the V8 flags it was written with, so run this
 * with the NODE_OPTIONS the app will run with: the image runs it in its final
 * stage, after its `ENV NODE_OPTIONS=`; `npm run bench` runs it on its copy of
 * dist/ with the image's environment. Exits 1, with the reason, on failure.
 */
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join, resolve } = require('node:path');
const vm = require('node:vm');

const DIST = resolve(process.argv[2] ?? 'dist');
const BUNDLE = join(DIST, 'main.bundle.js');
const CACHE = join(DIST, 'main.bundle.cache');

/**
 * Compiles the bundle exactly as scripts/main-loader.js does (same wrapper, file name and
 * options; V8 rejects a cache made otherwise). The loader runs the bundle when loaded, so it
 * cannot lend this function; test/code-cache.e2e-spec.ts fails if the two drift apart.
 */
function compile(source, cachedData) {
  return new vm.Script(Module.wrap(source), {
    filename: BUNDLE,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

try {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} not found: run \`npm run build\` first`);
  const source = readFileSync(BUNDLE, 'utf8');
  const cache = compile(source).createCachedData();
  if (compile(source, cache).cachedDataRejected) throw new Error('V8 rejects the cache it just wrote');
  const partial = `${CACHE}.${process.pid}`;
  writeFileSync(partial, cache);
  renameSync(partial, CACHE);
  const flags = process.env.NODE_OPTIONS ? ` for NODE_OPTIONS="${process.env.NODE_OPTIONS}"` : '';
  process.stdout.write(`code cache: ${CACHE} (${cache.length} bytes)${flags}\n`);
} catch (error) {
  process.stderr.write(`write-code-cache failed: ${error.message}\n`);
  process.exit(1);
}

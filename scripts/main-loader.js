'use strict';
/**
 * dist/main.js, the entry the image runs (copied here by scripts/bundle.js):
 * runs the one-file bundle dist/main.bundle.js as a CommonJS module, compiled
 * with the V8 code cache dist/main.bundle.cache when there is one.
 *
 * Why: compiling the 4.7 MB bundle is the largest single part of the boot.
 * With the cache (scripts/write-code-cache.js, run by the image build), V8
 * skips compiling what it compiles up front: spawn → readiness ≈ 60 ms
 * shorter (docs/BENCHMARKS.md, "Code cache").
 *
 * Safe by construction: V8 checks the cache against the source, its own
 * version and the V8 flags of this process (NODE_OPTIONS' heap sizes
 * included) and ignores a cache that does not match; the bundle is then
 * compiled as without one. No cache file: the same.
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const bundleFile = join(__dirname, 'main.bundle.js');
const cacheFile = join(__dirname, 'main.bundle.cache');

function readCache() {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

const script = new vm.Script(Module.wrap(readFileSync(bundleFile, 'utf8')), {
  filename: bundleFile,
  cachedData: readCache(),
  // TypeORM's optional ESM file loader uses import(); resolve it as the main context would.
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});

const bundle = new Module(bundleFile, module);
bundle.filename = bundleFile;
bundle.loaded = true;
script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(bundleFile), bundle, bundleFile, dirname(bundleFile));

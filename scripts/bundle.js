'use strict';
/**
 * Second step of `npm run build` (after `nest build`): bundles the compiled
 * entry dist/main.js, with what it requires from dist/ and most of what it
 * requires from node_modules, into one file, dist/main.bundle.js, and puts the
 * loader scripts/main-loader.js in its place as dist/main.js: the file the
 * image, the tests and the bench run. The loader compiles the bundle with a
 * V8 code cache when one was written for it (scripts/write-code-cache.js, run
 * by the image build); this script removes a cache left from an older bundle.
 *
 * Why: Node 20 spends most of the app's boot resolving, reading and compiling
 * about 1,800 CommonJS files (`node --cpu-prof`: module stat calls alone took
 * 190 ms). The bundle cuts spawn → readiness by about a quarter; the figures
 * are in docs/BENCHMARKS.md.
 *
 * What stays a runtime `require` from node_modules:
 * - the request path: Fastify (with the packages it loads: find-my-way,
 *   avvio, fast-json-stringify, ...) and prom-client, which runs on every
 *   response. Class names must be kept (Nest logs them as contexts, errors
 *   carry them), and esbuild keeps them by wrapping every named function in a
 *   `__name()` call where it is defined, closures too: Fastify's per-request
 *   closures then cost 6-15 µs of CPU per probe request (measured with two
 *   processes per variant, interleaved, docs/BENCHMARKS.md). Loaded from
 *   node_modules they cost nothing extra; the boot keeps most of its gain;
 * - packages that locate their own files by `__dirname` at run time: pino
 *   (its transport worker, used by pino-pretty in development) and
 *   swagger-ui-dist (the /docs assets);
 * - optional packages that are not installed (Nest's microservices and
 *   websockets, Terminus' mongoose and sequelize indicators, ...): the
 *   libraries load them lazily and cope with their absence, exactly as before
 *   bundling.
 *
 * The compiled modules next to dist/main.js stay. dist/healthcheck.js is its
 * own small entry. tsc's entry is kept as dist/main.unbundled.js (with its
 * source map): the same code run module by module, for bench/profile.js (its
 * frames then name their packages) and for debugging with
 * `node --enable-source-maps dist/main.unbundled.js`. The bundle has no source
 * map: no stack trace is ever logged (docs/OBSERVABILITY.md), and a composed
 * map of ~2,300 files misnames many of node_modules' own sources.
 *
 * License comments are kept, at the end of the file.
 */
const { build } = require('esbuild');
const { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'dist', 'main.js');
const UNBUNDLED = join(ROOT, 'dist', 'main.unbundled.js');
const BUNDLE = join(ROOT, 'dist', 'main.bundle.js');
const CODE_CACHE = join(ROOT, 'dist', 'main.bundle.cache');
const LOADER = join(__dirname, 'main-loader.js');

/** Packages whose code stays in node_modules (see above). */
const KEEP_EXTERNAL = [
  // the request path
  'fastify',
  '@fastify/*',
  'find-my-way',
  'light-my-request',
  'avvio',
  'fast-json-stringify',
  'prom-client',
  // files found by __dirname
  'pino',
  'swagger-ui-dist',
];

/** A bare import that does not resolve is an optional package: leave it to run time. */
const optionalPackagesStayExternal = {
  name: 'optional-packages-stay-external',
  setup(bundler) {
    bundler.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'probe') return undefined;
      const found = await bundler.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'probe' });
      return found.errors.length > 0 ? { path: args.path, external: true } : undefined;
    });
  },
};

/** Keeps tsc's entry (and its map) as dist/main.unbundled.js before the bundle replaces dist/main.js. */
function keepUnbundledEntry() {
  if (!existsSync(`${ENTRY}.map`)) {
    // Only tsc's output has a map: bundling the bundle would overwrite main.unbundled.js with it.
    throw new Error('dist/main.js is not `nest build` output (already bundled?): run `npm run build`');
  }
  const source = readFileSync(ENTRY, 'utf8');
  writeFileSync(UNBUNDLED, source.replace(/\/\/# sourceMappingURL=main\.js\.map\s*$/, '//# sourceMappingURL=main.unbundled.js.map\n'));
  renameSync(`${ENTRY}.map`, `${UNBUNDLED}.map`);
}

/**
 * esbuild escapes non-ASCII characters everywhere except inside regular
 * expression literals (validator's locale alphabets, via class-validator).
 * One such character makes V8 hold the whole 4.7 MB source as a two-byte
 * string: +4.7 MiB of RSS and a slower parse. `\uXXXX` is the same character
 * to the regex engine, in or out of a character class and with or without the
 * `u` flag (a pair of surrogate escapes is one code point there); only the
 * regex's `.source` text changes.
 */
function asciiOnly(code) {
  return code.replace(/[^\x00-\x7f]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

try {
  keepUnbundledEntry();
} catch (error) {
  process.stderr.write(`bundle failed: ${error.message}\n`);
  process.exit(1);
}
build({
  entryPoints: [UNBUNDLED],
  outfile: BUNDLE,
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20', // package.json engines
  format: 'cjs',
  external: KEEP_EXTERNAL,
  plugins: [optionalPackagesStayExternal],
  keepNames: true, // see above
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
})
  .then(({ outputFiles: [bundle] }) => {
    writeFileSync(BUNDLE, asciiOnly(bundle.text));
    copyFileSync(LOADER, ENTRY);
    rmSync(CODE_CACHE, { force: true });
  })
  .catch((error) => {
    process.stderr.write(`bundle failed: ${error.message}\n`);
    process.exitCode = 1;
  });

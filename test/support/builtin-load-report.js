'use strict';
/**
 * Preloaded with `--require` by test/foundation.e2e-spec.ts: prints at exit,
 * as one line, which of Node's own lazily loaded modules the process loaded:
 *   builtin-load-report {"undici":false}
 */
process.on('exit', () => {
  const loaded = (name) => process.moduleLoadList.some((entry) => entry.includes(name));
  process.stderr.write(`builtin-load-report ${JSON.stringify({ undici: loaded('internal/deps/undici') })}\n`);
});

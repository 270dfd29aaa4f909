'use strict';
/**
 * Preloaded with `--require` by test/code-cache.e2e-spec.ts: records every
 * vm.Script the process compiles (its file, whether a code cache was offered
 * and whether V8 rejected it) and prints them as one line at exit:
 *   vm-script-spy [{"file":"…/main.bundle.js","withCache":true,"rejected":false}]
 */
const vm = require('node:vm');

const seen = [];
const Original = vm.Script;
vm.Script = class extends Original {
  constructor(code, options = {}) {
    super(code, options);
    const withCache = options.cachedData !== undefined;
    seen.push({ file: options.filename, withCache, rejected: withCache ? this.cachedDataRejected : null });
  }
};
process.on('exit', () => process.stderr.write(`vm-script-spy ${JSON.stringify(seen)}\n`));

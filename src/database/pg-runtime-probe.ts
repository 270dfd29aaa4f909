/**
 * Spares the boot pg's check for Cloudflare Workers.
 *
 * When pg 8 loads (`pg/lib/stream.js`) it asks once whether it runs in a
 * Cloudflare Worker: by `navigator.userAgent` when the runtime has a
 * `navigator`, otherwise by constructing a fetch `Response`. Node 21+ has
 * `navigator`. Node 20 has not, and that one `Response` makes Node load its
 * whole fetch implementation (undici), which this app never uses: 3.5-3.8 MiB
 * of RSS and 5-8 % of the boot's CPU, measured in docs/BENCHMARKS.md ("Boot
 * to readiness").
 *
 * So, where `navigator` is missing, this defines the part of Node 21's that
 * pg reads, `userAgent: "Node.js/<major>"`, before pg is loaded (main.ts; the
 * Postgres driver loads pg when the DataSource is built). On Node 21+ it does
 * nothing. No other package the app loads reads `navigator` (searched in the
 * bundle and in the packages left outside it), so nothing else can take the
 * process for a browser.
 */
export function answerPgRuntimeProbe(): void {
  if ('navigator' in globalThis) return;
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.freeze({ userAgent: `Node.js/${process.versions.node.split('.')[0]}` }),
    configurable: true,
    enumerable: false,
    writable: false,
  });
}

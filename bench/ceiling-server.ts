/**
 * The ceiling: a bare `node:http` server answering one fixed JSON body (the
 * shape and size of the liveness answer) with the same kind of headers.
 * Started by the bench as its own process: `node dist-bench/bench/ceiling-server.js PORT`.
 * Prints `listening PORT` once bound.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 0);
const BODY = JSON.stringify({
  status: 'ok',
  timestamp: '2026-11-22T03:37:25.715Z',
  version: '0.1.0',
  uptime_seconds: 42,
});
const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': Buffer.byteLength(BODY),
  'cache-control': 'no-store',
};

const server = http.createServer((req, res) => {
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
server.keepAliveTimeout = 72_000; // Fastify's default, so neither side closes idle load connections.
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

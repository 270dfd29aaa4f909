'use strict';
/**
 * The framework reference: the "trivial Nest 12 controller on Fastify" that
 * the probe targets of bench/run.js are ratios to. One GET route returning the
 * liveness-shaped object with `@Header('Cache-Control', 'no-store')`; no
 * logger, hooks, metrics or request ids. Started by bench/run.js as its own
 * process: `node bench/nest-reference-server.js PORT`; answers on
 * /health/live; prints `listening PORT` once bound.
 *
 * Plain JavaScript, so the decorators are applied as functions.
 */
require('reflect-metadata');
const { Controller, Get, Header, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

const port = Number(process.argv[2] ?? 0);

class ProbeController {
  live() {
    return {
      status: 'ok',
      timestamp: new Date().toISOString(),
      version: '0.1.0',
      uptime_seconds: Math.floor(process.uptime()),
    };
  }
}
const live = Object.getOwnPropertyDescriptor(ProbeController.prototype, 'live');
Get('live')(ProbeController.prototype, 'live', live);
Header('Cache-Control', 'no-store')(ProbeController.prototype, 'live', live);
Controller('health')(ProbeController);

class ReferenceModule {}
Module({ controllers: [ProbeController] })(ReferenceModule);

(async () => {
  const app = await NestFactory.create(ReferenceModule, new FastifyAdapter(), { logger: false });
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
})();

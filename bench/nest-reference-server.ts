/**
 * The framework reference: the "trivial Nest 12 controller on Fastify" that
 * the probe targets of `npm run bench` are ratios to. One GET route returning
 * the liveness-shaped object with `@Header('Cache-Control', 'no-store')`; no
 * logger, hooks, metrics or request ids. Started by the bench as its own
 * process: `node dist-bench/bench/nest-reference-server.js PORT`; answers on
 * /health/live; prints `listening PORT` once bound.
 */
import 'reflect-metadata';
import { Controller, Get, Header, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

const port = Number(process.argv[2] ?? 0);

@Controller('health')
class ProbeController {
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: string; timestamp: string; version: string; uptime_seconds: number } {
    return {
      status: 'ok',
      timestamp: new Date().toISOString(),
      version: '0.1.0',
      uptime_seconds: Math.floor(process.uptime()),
    };
  }
}

@Module({ controllers: [ProbeController] })
class ReferenceModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ReferenceModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();

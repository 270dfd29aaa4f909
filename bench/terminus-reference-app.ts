/**
 * The memory reference: a health service built the way the Nest and Terminus
 * docs show, on the same generation as the app (Nest 12 on Fastify, Terminus
 * 12, TypeORM 1 through @nestjs/typeorm, ioredis 6 through
 * @liaoliaots/nestjs-redis). One `@HealthCheck()` route that pings PostgreSQL
 * and Redis on every request; nothing else. bench/memory.ts compares the app's
 * RSS with this one's, idle and after probe load, under the same V8 flags.
 *
 * `node dist-bench/bench/terminus-reference-app.js PORT` with DATABASE_URL and REDIS_URL;
 * answers on /health; prints `listening PORT` once bound.
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisModule, RedisService } from '@liaoliaots/nestjs-redis';
import type Redis from 'ioredis';

const port = Number(process.argv[2] ?? 0);

@Controller('health')
class HealthController {
  private readonly redis: Redis;

  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    redis: RedisService,
  ) {
    this.redis = redis.getOrThrow();
  }

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database').withTimeout(1000),
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await this.redis.ping();
          })
          .withTimeout(1000),
    ]);
  }
}

@Module({
  imports: [
    TerminusModule,
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL }),
    RedisModule.forRoot({ config: { url: process.env.REDIS_URL } }),
  ],
  controllers: [HealthController],
})
class ReferenceModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ReferenceModule, new FastifyAdapter(), {
    logger: false,
  });
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
}

void main();

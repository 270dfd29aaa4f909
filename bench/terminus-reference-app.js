'use strict';
/**
 * The memory reference: a health service built the way the Nest and Terminus
 * docs show, on the same generation as the app (Nest 12 on Fastify, Terminus
 * 12, TypeORM 1 through @nestjs/typeorm, ioredis 6 through
 * @liaoliaots/nestjs-redis). One `@HealthCheck()` route that pings PostgreSQL
 * and Redis on every request; nothing else. bench/run.js compares the app's
 * RSS with this one's, idle and after probe load, under the same V8 flags.
 *
 * `node bench/terminus-reference-app.js PORT` with DATABASE_URL and REDIS_URL;
 * answers on /health; prints `listening PORT` once bound. Plain JavaScript, so
 * the decorators are applied as functions.
 */
require('reflect-metadata');
const { Controller, Get, Inject, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  TypeOrmHealthIndicator,
} = require('@nestjs/terminus');
const { TypeOrmModule } = require('@nestjs/typeorm');
const { RedisModule, RedisService } = require('@liaoliaots/nestjs-redis');

const port = Number(process.argv[2] ?? 0);

class HealthController {
  constructor(health, db, indicators, redis) {
    this.health = health;
    this.db = db;
    this.indicators = indicators;
    this.redis = redis.getOrThrow();
  }

  check() {
    return this.health.check([
      () => this.db.pingCheck('database').withTimeout(1000),
      () =>
        this.indicators
          .check('redis')
          .attempt(() => this.redis.ping())
          .withTimeout(1000),
    ]);
  }
}
[HealthCheckService, TypeOrmHealthIndicator, HealthIndicatorService, RedisService].forEach((token, index) =>
  Inject(token)(HealthController, undefined, index),
);
const check = Object.getOwnPropertyDescriptor(HealthController.prototype, 'check');
Get()(HealthController.prototype, 'check', check);
HealthCheck()(HealthController.prototype, 'check', check);
Controller('health')(HealthController);

class ReferenceModule {}
Module({
  imports: [
    TerminusModule,
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL }),
    RedisModule.forRoot({ config: { url: process.env.REDIS_URL } }),
  ],
  controllers: [HealthController],
})(ReferenceModule);

(async () => {
  const app = await NestFactory.create(ReferenceModule, new FastifyAdapter(), { logger: false });
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${port}\n`);
})();

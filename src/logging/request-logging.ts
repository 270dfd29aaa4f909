import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';
import { pinoHttp } from 'pino-http';
import { appConfig, AppConfig } from '../config/configuration';
import { ACCESS_LOG_OPTIONS, isUnloggedRoute } from './pino-options';

/**
 * Access logging in one Fastify onRequest hook, added at bootstrap.
 *
 * For a logged request it runs pino-http (request.id is the X-Request-Id,
 * see request-id.ts) and continues inside nestjs-pino's async context, so
 * every line logged while the request is served carries `reqId`. For a probe
 * or scrape route the hook returns after one string comparison on the route
 * template: no child logger, no serialization, no async context. With
 * LOG_LEVEL=silent no hook is added at all.
 */
@Injectable()
export class RequestLogging implements OnModuleInit {
  private readonly logger = new Logger('Logging');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (this.app.logLevel === 'silent' || !adapter) return;
    if (adapter.getType() !== 'fastify') {
      this.logger.warn(`access logging needs the Fastify adapter; ${adapter.getType()} requests are not logged`);
      return;
    }
    // The root logger nestjs-pino built from buildPinoOptions (level, redaction, serializers).
    const accessLog = pinoHttp({ logger: PinoLogger.root, ...ACCESS_LOG_OPTIONS });
    adapter.getInstance<FastifyInstance>().addHook(
      'onRequest',
      (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
        if (isUnloggedRoute(request.routeOptions.url)) {
          done();
          return;
        }
        const raw = request.raw;
        raw.id = request.id;
        accessLog(raw, reply.raw);
        storage.run(new Store(raw.log), done);
      },
    );
  }
}

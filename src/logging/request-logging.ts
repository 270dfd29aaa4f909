import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { pinoHttp } from 'pino-http';
import { appConfig, AppConfig } from '../config/app.config';
import { ACCESS_LOG_OPTIONS, isUnloggedRoute } from './pino-options';

/**
 * Access logging in one Fastify onRequest hook, added at bootstrap.
 *
 * For a logged request it runs pino-http (request.id is the X-Request-Id,
 * see request-id.ts), which writes the access line when the response ends.
 * For a probe or scrape route the hook returns after one string comparison
 * on the route template. With LOG_LEVEL=silent no hook is added at all.
 *
 * No async context (AsyncLocalStorage): on Node 22 it switches on async
 * hooks for the whole process, and every promise, tick and socket write of
 * every request then pays for them, probes included (docs/OBSERVABILITY.md).
 * Code that logs while serving a request has the
 * request at hand and puts `reqId: request.id` on its line, as
 * JobStoreUnavailableFilter and UnhandledErrorFilter do.
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
    adapter
      .getInstance<FastifyInstance>()
      .addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
        if (isUnloggedRoute(request.routeOptions.url)) {
          done();
          return;
        }
        request.raw.id = request.id;
        accessLog(request.raw, reply.raw);
        done();
      });
  }
}

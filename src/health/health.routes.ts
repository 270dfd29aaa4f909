import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appConfig, AppConfig } from '../config/configuration';
import { HEALTH_MESSAGES } from './health.constants';
import { HealthAnswers, RenderedAnswer } from './health-answers';
import { HealthDetailsAuth } from './health-details.auth';
import { HealthMonitor } from './health-monitor.service';

export interface LivenessBody {
  status: 'ok';
  timestamp: string;
  version: string;
  uptime_seconds: number;
}

/** The probe routes; health.openapi.ts documents the same table. */
export const HEALTH_ROUTES = {
  liveness: ['/health', '/health/live'],
  readiness: '/health/ready',
  readinessOne: '/health/ready/:check',
  startup: '/health/startup',
  dependency: '/health/:check',
} as const;

type ProbeRequest = FastifyRequest<{ Params: { check?: string }; Querystring: { exclude?: string | string[] } }>;

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

/**
 * The probe endpoints, registered as plain synchronous Fastify routes when
 * the module initializes.
 *
 * Why not a Nest @Controller: probes are the hottest routes and the cheapest
 * answers (a cached string), so the framework around them is most of their
 * cost. Profiled with `node --cpu-prof` (docs/BENCHMARKS.md): Nest's router
 * pipeline (guards, interceptors, pipes, parameter factories and the
 * promises between them) took ≈7 µs of a probe's ≈30 µs, the largest single
 * item. A handler here creates no promise and awaits nothing. Everything else
 * applies as to any route: request id, metrics, the 404/400 body shape of
 * Nest's exceptions, the OpenAPI document.
 */
@Injectable()
export class HealthRoutes implements OnModuleInit {
  private readonly logger = new Logger('HealthRoutes');
  private readonly startedAtMs = Date.now();
  private readonly versionJson: string;
  private liveness = { atMs: 0, json: '' };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly monitor: HealthMonitor,
    private readonly answers: HealthAnswers,
    private readonly auth: HealthDetailsAuth,
    @Inject(appConfig.KEY) app: AppConfig,
  ) {
    this.versionJson = JSON.stringify(app.version);
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') {
      throw new Error(
        `HealthModule serves its probes on Fastify; the HTTP adapter is ${adapter?.getType() ?? 'missing'}`,
      );
    }
    const fastify = adapter.getInstance<FastifyInstance>();
    for (const url of HEALTH_ROUTES.liveness) fastify.get(url, this.live);
    fastify.get(HEALTH_ROUTES.readiness, this.ready);
    fastify.get(HEALTH_ROUTES.readinessOne, this.one);
    fastify.get(HEALTH_ROUTES.startup, this.startup);
    fastify.get(HEALTH_ROUTES.dependency, this.one);
    this.logger.log(`Mapped probe routes (plain Fastify): GET ${Object.values(HEALTH_ROUTES).flat().join(', ')}`);
  }

  /** Liveness: the process can serve. Checks no dependency; stays 200 while draining. */
  readonly live = (_request: FastifyRequest, reply: FastifyReply): void => {
    const now = Date.now();
    if (now !== this.liveness.atMs) this.liveness = { atMs: now, json: this.livenessJson(now) };
    send(reply, 200, this.liveness.json);
  };

  /** The liveness body of millisecond `now`; built once per millisecond, however many probes arrive in it. */
  private livenessJson(now: number): string {
    const uptime = Math.floor((now - this.startedAtMs) / 1000);
    return `{"status":"ok","timestamp":"${new Date(now).toISOString()}","version":${this.versionJson},"uptime_seconds":${uptime}}`;
  }

  /** Readiness: 200 when every required check is up; `?exclude=a,b` leaves checks out. */
  readonly ready = (request: ProbeRequest, reply: FastifyReply): void => {
    const excluded = this.parseExclude(request.query.exclude);
    if (typeof excluded === 'string') return sendError(reply, 400, excluded);
    sendAnswer(reply, this.answers.readiness(this.authorized(request), excluded));
  };

  /** Startup: 503 until boot finished and every required check was up once. */
  readonly startup = (request: ProbeRequest, reply: FastifyReply): void => {
    sendAnswer(reply, this.answers.startup(this.authorized(request)));
  };

  /** One check by name: `/health/db`, `/health/ready/redis`, … */
  readonly one = (request: ProbeRequest, reply: FastifyReply): void => {
    const name = request.params.check ?? '';
    if (!this.monitor.has(name)) return sendError(reply, 404, HEALTH_MESSAGES.unknownCheck(name));
    sendAnswer(reply, this.answers.one(name, this.authorized(request)));
  };

  private authorized(request: FastifyRequest): boolean {
    return this.auth.isAuthorized(request.headers.authorization);
  }

  /** The validated exclude set, or the 400 message naming the unknown checks. */
  private parseExclude(exclude: string | string[] | undefined): ReadonlySet<string> | string {
    if (exclude === undefined) return NO_EXCLUSIONS;
    const names = (Array.isArray(exclude) ? exclude : [exclude])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !this.monitor.has(n));
    return unknown.length > 0 ? HEALTH_MESSAGES.unknownExclude(unknown) : new Set(names);
  }
}

function send(reply: FastifyReply, status: number, json: string): void {
  reply.code(status).header('cache-control', 'no-store').type(JSON_TYPE).send(json);
}

function sendAnswer(reply: FastifyReply, answer: RenderedAnswer): void {
  send(reply, answer.httpStatus, answer.json);
}

const ERROR_NAMES = { 400: 'Bad Request', 404: 'Not Found' } as const;

/** The body Nest's HttpException filter gives (`{ statusCode, message, error }`), as on every other route. */
function sendError(reply: FastifyReply, status: keyof typeof ERROR_NAMES, message: string): void {
  send(reply, status, JSON.stringify({ statusCode: status, message, error: ERROR_NAMES[status] }));
}

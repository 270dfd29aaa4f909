import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Headers,
  NotFoundException,
  Param,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Inject } from '@nestjs/common';
import { appConfig, AppConfig } from '../config/configuration';
import { HEALTH_MESSAGES } from './health.constants';
import { HealthAnswers, RenderedAnswer } from './health-answers';
import { HealthDetailsAuth } from './health-details.auth';
import { HealthMonitor } from './health-monitor.service';
import { ApiHealthController, ApiLiveness, ApiOneCheck, ApiReadiness, ApiStartup } from './health.openapi';

export interface LivenessBody {
  status: 'ok';
  timestamp: string;
  version: string;
  uptime_seconds: number;
}

/**
 * Probe endpoints. Every answer is built from the monitor's snapshot and the
 * shutdown gate (HealthAnswers renders and caches them): no handler here
 * waits on PostgreSQL or Redis. Answers are sent pre-serialized.
 */
@ApiHealthController()
@Controller('health')
export class HealthController {
  private readonly startedAtMs = Date.now();

  constructor(
    private readonly monitor: HealthMonitor,
    private readonly answers: HealthAnswers,
    private readonly auth: HealthDetailsAuth,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  /** Liveness: the process can serve. Checks no dependency; stays 200 while draining. */
  @Get(['', 'live'])
  @ApiLiveness()
  @Header('Cache-Control', 'no-store')
  live(): LivenessBody {
    const now = Date.now();
    return {
      status: 'ok',
      timestamp: new Date(now).toISOString(),
      version: this.app.version,
      uptime_seconds: Math.floor((now - this.startedAtMs) / 1000),
    };
  }

  /** Readiness: 200 when every required check is up; `?exclude=a,b` leaves checks out. */
  @Get('ready')
  @ApiReadiness()
  @Header('Cache-Control', 'no-store')
  ready(
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('authorization') authorization?: string,
    @Query('exclude') exclude?: string | string[],
  ): string {
    return this.send(reply, this.answers.readiness(this.auth.isAuthorized(authorization), this.parseExclude(exclude)));
  }

  /** One readiness check by name. */
  @Get('ready/:check')
  @ApiOneCheck('One readiness check by name')
  @Header('Cache-Control', 'no-store')
  readyOne(
    @Param('check') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('authorization') authorization?: string,
  ): string {
    return this.one(name, reply, authorization);
  }

  /** Startup: 503 until boot finished and every required check was up once. */
  @Get('startup')
  @ApiStartup()
  @Header('Cache-Control', 'no-store')
  startup(@Res({ passthrough: true }) reply: FastifyReply, @Headers('authorization') authorization?: string): string {
    return this.send(reply, this.answers.startup(this.auth.isAuthorized(authorization)));
  }

  /** One dependency (`/health/db`, `/health/redis`, `/health/redis-cache`, …). */
  @Get(':check')
  @ApiOneCheck('One dependency check by name')
  @Header('Cache-Control', 'no-store')
  dependency(
    @Param('check') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('authorization') authorization?: string,
  ): string {
    return this.one(name, reply, authorization);
  }

  private one(name: string, reply: FastifyReply, authorization?: string): string {
    if (!this.monitor.has(name)) throw new NotFoundException(HEALTH_MESSAGES.unknownCheck(name));
    return this.send(reply, this.answers.one(name, this.auth.isAuthorized(authorization)));
  }

  private parseExclude(exclude?: string | string[]): Set<string> {
    if (exclude === undefined) return new Set();
    const names = (Array.isArray(exclude) ? exclude : [exclude])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !this.monitor.has(n));
    if (unknown.length > 0) throw new BadRequestException(HEALTH_MESSAGES.unknownExclude(unknown));
    return new Set(names);
  }

  private send(reply: FastifyReply, answer: RenderedAnswer): string {
    reply.status(answer.httpStatus).type('application/json; charset=utf-8');
    return answer.json;
  }
}

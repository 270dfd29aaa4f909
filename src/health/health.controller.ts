import { Controller, Get, Headers, Inject, Param, Query, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';
import { appConfig, AppConfig } from '../config/app.config';
import { HealthAnswers } from './health-answers';
import { HealthDetailsAuth } from './health-details.auth';
import { CheckRoute, LivenessRoute, ReadinessRoute, StartupRoute } from './health.openapi';
import { ExcludeChecksPipe, KnownCheckPipe } from './health.pipes';
import type { HealthBody, LivenessBody } from './health-body.dto';
import type { HealthAnswer } from './health.views';

type Body = HealthBody | Promise<HealthBody>;

/**
 * Terminus' own Cache-Control (`no-cache, no-store, must-revalidate`) is off: every probe
 * answer, errors included, carries `no-store` from the route decorators. Its OpenAPI
 * responses are replaced by ours, which know `degraded` and `responseTime`/`since`.
 */
const PROBE = { noCache: false, swaggerDocumentation: true };

/**
 * The body of a 200 answer; a 503 is thrown with its body, as Terminus'
 * HealthCheckService does. Most answers are already computed (HealthAnswers
 * keeps them until the snapshot changes) and are returned without a promise.
 */
function send(answer: HealthAnswer | Promise<HealthAnswer>): Body {
  return answer instanceof Promise ? answer.then(unwrap) : unwrap(answer);
}

function unwrap(answer: HealthAnswer): HealthBody {
  if (answer.httpStatus === 503) throw new ServiceUnavailableException(answer.body);
  return answer.body;
}

/**
 * The probes. Readiness, startup and the per-check routes are Terminus
 * `@HealthCheck()` routes answered by HealthCheckService over the monitor's
 * snapshot (HealthAnswers); none of them waits on a dependency.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly startedAtMs = Date.now();
  private liveness?: { atMs: number; body: LivenessBody };

  constructor(
    private readonly answers: HealthAnswers,
    private readonly auth: HealthDetailsAuth,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  /** Liveness: the process can serve. Checks no dependency; stays 200 while draining. */
  @Get(['', 'live'])
  @LivenessRoute()
  live(): LivenessBody {
    const now = Date.now();
    // One body per millisecond, however many probes arrive in it.
    if (this.liveness?.atMs !== now) {
      const body: LivenessBody = {
        status: 'ok',
        timestamp: new Date(now).toISOString(),
        version: this.app.version,
        uptime_seconds: Math.floor((now - this.startedAtMs) / 1000),
      };
      this.liveness = { atMs: now, body };
    }
    return this.liveness.body;
  }

  /** Readiness: 200 when every required check is up; `?exclude=a,b` leaves checks out. */
  @Get('ready')
  @ReadinessRoute()
  @HealthCheck(PROBE)
  ready(
    @Query('exclude', ExcludeChecksPipe) excluded: ReadonlySet<string>,
    @Headers('authorization') authorization?: string,
  ): Body {
    return send(this.answers.readiness(this.auth.isAuthorized(authorization), excluded));
  }

  @Get('ready/:check')
  @CheckRoute('One readiness check by name')
  @HealthCheck(PROBE)
  readyOne(@Param('check', KnownCheckPipe) name: string, @Headers('authorization') authorization?: string): Body {
    return send(this.answers.one(name, this.auth.isAuthorized(authorization)));
  }

  /** Startup: 503 until boot finished and every check ran once, whatever its result. */
  @Get('startup')
  @StartupRoute()
  @HealthCheck(PROBE)
  startup(@Headers('authorization') authorization?: string): Body {
    return send(this.answers.startup(this.auth.isAuthorized(authorization)));
  }

  /** One check by name: `/health/db`, `/health/redis`, … Declared last: routers that match in order (Express) try the fixed paths first. */
  @Get(':check')
  @CheckRoute('One dependency check by name')
  @HealthCheck(PROBE)
  one(@Param('check', KnownCheckPipe) name: string, @Headers('authorization') authorization?: string): Body {
    return send(this.answers.one(name, this.auth.isAuthorized(authorization)));
  }
}

/** `GET /ready`, the readiness path some clients are configured with: the same answer as `/health/ready`. */
@ApiTags('health')
@Controller('ready')
export class ReadyController {
  constructor(
    private readonly answers: HealthAnswers,
    private readonly auth: HealthDetailsAuth,
  ) {}

  @Get()
  @ReadinessRoute()
  @HealthCheck(PROBE)
  ready(
    @Query('exclude', ExcludeChecksPipe) excluded: ReadonlySet<string>,
    @Headers('authorization') authorization?: string,
  ): Body {
    return send(this.answers.readiness(this.auth.isAuthorized(authorization), excluded));
  }
}

import { Controller, Get, Header, Inject, NotFoundException, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Registry } from 'prom-client';
import { metricsConfig, MetricsConfig } from './metrics.config';
import { METRICS_MESSAGES } from './metrics.constants';

const EXPOSITION_EXAMPLE = [
  '# HELP health_check_status Health check state from the monitor snapshot: 1 up, 0 down (stale counts as down).',
  '# TYPE health_check_status gauge',
  'health_check_status{check="db"} 1',
  'health_check_status{check="redis"} 0',
].join('\n');

/** Prometheus scrape endpoint: state already in memory, serialized; never waits on a dependency. */
@ApiTags('observability')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly registry: Registry,
    @Inject(metricsConfig.KEY) private readonly config: MetricsConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format 0.0.4)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Every series, in the Prometheus text format.',
    schema: { type: 'string', example: EXPOSITION_EXAMPLE },
  })
  @ApiNotFoundResponse({ description: 'Metrics are disabled (METRICS_ENABLED=false).' })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (!this.config.enabled) throw new NotFoundException(METRICS_MESSAGES.disabled);
    reply.type(this.registry.contentType);
    return this.registry.metrics();
  }
}

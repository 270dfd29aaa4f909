import { NotFoundException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { FastifyReply } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { metricsConfig } from './metrics.config';
import { METRICS_MESSAGES } from './metrics.constants';
import { MetricsController } from './metrics.controller';

describe('MetricsController', () => {
  let registry: Registry;
  let reply: { type: jest.Mock };

  async function build(enabled: boolean): Promise<MetricsController> {
    const moduleRef = await Test.createTestingModule({
      controllers: [MetricsController],
      providers: [
        { provide: Registry, useValue: registry },
        { provide: metricsConfig.KEY, useValue: { enabled } },
      ],
    }).compile();
    return moduleRef.get(MetricsController);
  }

  beforeEach(() => {
    registry = new Registry();
    new Gauge({ name: 'probe_test_gauge', help: 'A series of the test registry.', registers: [registry] }).set(3);
    reply = { type: jest.fn() };
  });

  it('serves every series of the application registry in the text format', async () => {
    const controller = await build(true);

    const body = await controller.scrape(reply as unknown as FastifyReply);

    expect(body).toContain('# TYPE probe_test_gauge gauge');
    expect(body).toContain('probe_test_gauge 3');
  });

  it('labels the answer with the registry’s content type', async () => {
    const controller = await build(true);

    await controller.scrape(reply as unknown as FastifyReply);

    expect(reply.type).toHaveBeenCalledWith(registry.contentType);
  });

  it('answers 404 when metrics are disabled, without collecting anything', async () => {
    const metrics = jest.spyOn(registry, 'metrics');
    const controller = await build(false);

    await expect(controller.scrape(reply as unknown as FastifyReply)).rejects.toThrow(
      new NotFoundException(METRICS_MESSAGES.disabled),
    );
    expect(metrics).not.toHaveBeenCalled();
    expect(reply.type).not.toHaveBeenCalled();
  });
});

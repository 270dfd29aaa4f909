import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { RedisConnections } from './redis-connections';
import { REDIS_CONNECTED_METRIC, RedisMetrics } from './redis.metrics';

describe('RedisMetrics', () => {
  let registry: Registry;
  const statuses: Record<string, string> = {};
  const connections = {
    topology: 'sentinel',
    names: () => Object.keys(statuses),
    client: (name: string) => ({ status: statuses[name] }),
  };

  /** redis_client_connected as { client: value }, with the topology label checked on every series. */
  async function connected(): Promise<Record<string, number>> {
    const { values } = await registry.getSingleMetric(REDIS_CONNECTED_METRIC)!.get();
    for (const v of values) expect(v.labels.topology).toBe('sentinel');
    return Object.fromEntries(values.map((v) => [String(v.labels.client), v.value]));
  }

  beforeEach(async () => {
    for (const name of Object.keys(statuses)) delete statuses[name];
    registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      providers: [
        RedisMetrics,
        { provide: Registry, useValue: registry },
        { provide: RedisConnections, useValue: connections },
      ],
    }).compile();
    moduleRef.get(RedisMetrics);
  });

  it('reports 1 for a ready client and 0 for one that is not, per client and topology', async () => {
    Object.assign(statuses, { default: 'ready', cache: 'reconnecting' });

    await expect(connected()).resolves.toEqual({ default: 1, cache: 0 });
  });

  it('counts a client that is connected but not yet ready as 0', async () => {
    Object.assign(statuses, { default: 'connect' });

    await expect(connected()).resolves.toEqual({ default: 0 });
  });

  it('reads the client status at each scrape', async () => {
    Object.assign(statuses, { default: 'ready' });
    await connected();
    statuses.default = 'end';

    await expect(connected()).resolves.toEqual({ default: 0 });
  });
});

import { HealthIndicatorService } from '@nestjs/terminus';
import { Cluster, Redis } from 'ioredis';
import { RedisHealthIndicator, parseClusterSlots, parseInfo } from './redis.health';
import type { LastFailure, RedisConnections } from './redis-connections';

function indicatorWith(
  client: Partial<Redis> | Cluster,
  lastFailure?: LastFailure,
  overrides: Partial<Record<keyof RedisConnections, unknown>> = {},
): RedisHealthIndicator {
  const connections = {
    names: () => ['default', 'cache'],
    client: () => client,
    lastFailure: () => lastFailure,
    describe: () => ({ topology: 'standalone', host: 'h', port: 1, db: 0 }),
    primaryOf: () => undefined,
    ...overrides,
  } as unknown as RedisConnections;
  return new RedisHealthIndicator(new HealthIndicatorService(), connections);
}

/** A real ioredis Cluster object (never connected) whose status and nodes the test sets. */
function clusterWith(nodes: Array<Partial<Redis>>, ping = jest.fn().mockResolvedValue('PONG')): Cluster {
  const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
  Object.assign(cluster, { status: 'ready', ping, nodes: () => nodes });
  return cluster;
}

const CLUSTER_OK = 'cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_size:3\r\n';
const CLUSTER_FAIL = 'cluster_state:fail\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:10923\r\n';

describe('RedisHealthIndicator', () => {
  it('contributes one check per configured client', () => {
    expect(
      indicatorWith({})
        .healthChecks()
        .map((c) => c.name),
    ).toEqual(['redis', 'redis-cache']);
  });

  it('is up when PING answers', async () => {
    const ping = jest.fn().mockResolvedValue('PONG');
    await expect(indicatorWith({ status: 'ready', ping }).ping('redis', 'default', 1000)).resolves.toEqual({
      redis: { status: 'up', responseTime: expect.any(Number) },
    });
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('fails fast without a command while the client is reconnecting, with the failure that took it down', async () => {
    const ping = jest.fn();
    const failure: LastFailure = {
      message: 'authentication failed',
      reason: 'WRONGPASS invalid username-password pair or user is disabled.',
    };
    const result = await indicatorWith({ status: 'reconnecting', ping }, failure).ping('redis', 'default', 1000);
    expect(result.redis).toEqual({ status: 'down', ...failure });
    expect(ping).not.toHaveBeenCalled();
  });

  it('names the client status while no failure is known yet', async () => {
    const result = await indicatorWith({ status: 'connecting' }).ping('redis', 'default', 1000);
    expect(result.redis).toEqual({ status: 'down', message: 'not connected', reason: 'client status connecting' });
  });

  it("reports a failed PING with the client's message, for the monitor to classify", async () => {
    const ping = jest.fn().mockRejectedValue(new Error('Command timed out'));
    const result = await indicatorWith({ status: 'ready', ping }).ping('redis', 'default', 1000);
    expect(result.redis).toMatchObject({ status: 'down', message: 'Command timed out' });
  });

  it('is down with a timeout after its deadline, and sends no new PING while the last one hangs', async () => {
    const ping = jest.fn(() => new Promise(() => undefined));
    const indicator = indicatorWith({ status: 'ready', ping } as Partial<Redis>);
    const first = await indicator.ping('redis', 'default', 20);
    expect(first.redis).toMatchObject({ status: 'down', message: 'timeout of 20ms exceeded' });
    const second = await indicator.ping('redis', 'default', 20);
    expect(second.redis).toEqual({
      status: 'down',
      message: 'timeout',
      reason: 'the previous PING has not returned yet',
    });
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('shows authorized callers the primary a Sentinel client is connected to', async () => {
    const ping = jest.fn().mockResolvedValue('PONG');
    const indicator = indicatorWith({ status: 'ready', ping }, undefined, { primaryOf: () => '10.0.0.2:6379' });
    await expect(indicator.ping('redis', 'default', 1000)).resolves.toMatchObject({
      redis: { status: 'up', primary: '10.0.0.2:6379' },
    });
  });

  it('is up on a cluster when every primary says cluster_state:ok and PING answers', async () => {
    const info = jest.fn().mockResolvedValue(CLUSTER_OK);
    const ping = jest.fn().mockResolvedValue('PONG');
    const cluster = clusterWith(
      [
        { status: 'ready', cluster: info },
        { status: 'ready', cluster: info },
      ],
      ping,
    );
    await expect(indicatorWith(cluster).ping('redis', 'default', 1000)).resolves.toEqual({
      redis: { status: 'up', responseTime: expect.any(Number) },
    });
    expect(info).toHaveBeenCalledTimes(2);
    expect(info).toHaveBeenCalledWith('INFO');
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('is down with "cluster down" when a primary reports cluster_state:fail, without a PING', async () => {
    const ping = jest.fn();
    const cluster = clusterWith(
      [
        { status: 'ready', cluster: jest.fn().mockResolvedValue(CLUSTER_OK) },
        { status: 'ready', cluster: jest.fn().mockResolvedValue(CLUSTER_FAIL) },
        { status: 'end', cluster: jest.fn().mockRejectedValue(new Error('never asked')) },
      ],
      ping,
    );
    const result = await indicatorWith(cluster).ping('redis', 'default', 1000);
    // The monitor classifies this message as `cluster down`.
    expect(result.redis).toMatchObject({ status: 'down', message: 'cluster_state:fail, 10923 of 16384 slots ok' });
    expect(ping).not.toHaveBeenCalled();
  });

  it('is degraded on a cluster that serves with some slots not ok', async () => {
    const pfail =
      'cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:10923\r\ncluster_slots_pfail:5461\r\n';
    const cluster = clusterWith([
      { status: 'ready', cluster: jest.fn().mockResolvedValue(CLUSTER_OK) },
      { status: 'ready', cluster: jest.fn().mockResolvedValue(pfail) },
    ]);
    await expect(indicatorWith(cluster).ping('redis', 'default', 1000)).resolves.toEqual({
      redis: { status: 'degraded', reason: 'cluster_state:ok, 10923 of 16384 slots ok' },
    });
  });

  it('is down when the cluster client has no primary connected', async () => {
    const result = await indicatorWith(clusterWith([{ status: 'end' }])).ping('redis', 'default', 1000);
    expect(result.redis).toMatchObject({ status: 'down', message: 'not connected to any cluster primary' });
  });

  it('details a cluster: CLUSTER INFO facts and the slots of each primary', async () => {
    const cluster = clusterWith([]);
    const call = jest.fn((sub: string) =>
      Promise.resolve(
        sub === 'INFO'
          ? CLUSTER_OK
          : [
              [0, 5460, ['127.0.0.1', 7001, 'a']],
              [5461, 10922, ['127.0.0.1', 7002, 'b'], ['127.0.0.1', 7005, 'e']],
              [10923, 16383, ['127.0.0.1', 7003, 'c']],
            ],
      ),
    );
    Object.assign(cluster, { cluster: call });
    const details = await indicatorWith(cluster, undefined, {
      describe: () => ({ topology: 'cluster', nodes: ['127.0.0.1:7001'] }),
    }).details('default');
    expect(details).toMatchObject({
      topology: 'cluster',
      cluster_state: 'ok',
      cluster_slots_ok: 16384,
      cluster_size: 3,
      shards: [
        { primary: '127.0.0.1:7001', slots: 5461, ranges: ['0-5460'], replicas: [] },
        { primary: '127.0.0.1:7002', slots: 5462, ranges: ['5461-10922'], replicas: ['127.0.0.1:7005'] },
        { primary: '127.0.0.1:7003', slots: 5461, ranges: ['10923-16383'], replicas: [] },
      ],
    });
  });

  it('details Sentinel: the primary, its replicas and whether a failover is in progress', async () => {
    const askSentinel = jest.fn((sub: string) =>
      Promise.resolve({
        sentinel: '127.0.0.1:26379',
        reply:
          sub === 'MASTER'
            ? ['name', 'mymaster', 'ip', '127.0.0.1', 'port', '7001', 'flags', 'master,failover_in_progress']
            : [['ip', '127.0.0.1', 'port', '7002', 'flags', 'slave', 'master-link-status', 'ok']],
      }),
    );
    const info = jest.fn().mockResolvedValue('redis_version:7.0.15\r\n');
    const details = await indicatorWith({ status: 'ready', info }, undefined, {
      describe: () => ({ topology: 'sentinel', master: 'mymaster', sentinels: ['127.0.0.1:26379'], db: 0 }),
      askSentinel,
    }).details('default');
    expect(details).toEqual({
      topology: 'sentinel',
      master: 'mymaster',
      sentinels: ['127.0.0.1:26379'],
      db: 0,
      redis_version: '7.0.15',
      sentinel: '127.0.0.1:26379',
      primary: '127.0.0.1:7001',
      primaryFlags: 'master,failover_in_progress',
      failoverInProgress: true,
      replicas: [{ address: '127.0.0.1:7002', flags: 'slave', linkToPrimary: 'ok' }],
    });
    expect(askSentinel).toHaveBeenCalledWith('MASTER', 'mymaster');
    expect(askSentinel).toHaveBeenCalledWith('REPLICAS', 'mymaster');
  });

  it('parseClusterSlots merges the ranges of one primary', () => {
    expect(
      parseClusterSlots([
        [0, 99, ['h', 1, 'a']],
        [100, 100, ['h', 2, 'b']],
        [101, 200, ['h', 1, 'a']],
      ]),
    ).toEqual([
      { primary: 'h:1', slots: 200, ranges: ['0-99', '101-200'], replicas: [] },
      { primary: 'h:2', slots: 1, ranges: ['100'], replicas: [] },
    ]);
  });

  it('reports the server facts from one INFO', async () => {
    const info = jest
      .fn()
      .mockResolvedValue(
        '# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\nconnected_clients:3\r\nused_memory_human:1.1M\r\nother:x\r\n',
      );
    await expect(indicatorWith({ status: 'ready', info }).details('default')).resolves.toEqual({
      topology: 'standalone',
      host: 'h',
      port: 1,
      db: 0,
      redis_version: '7.0.15',
      uptime_in_seconds: 42,
      connected_clients: 3,
      used_memory_human: '1.1M',
    });
    expect(info).toHaveBeenCalledTimes(1);
  });

  it('parseInfo ignores unknown fields and comments', () => {
    expect(parseInfo('# Server\nfoo:bar\nredis_version:7')).toEqual({ redis_version: '7' });
  });
});

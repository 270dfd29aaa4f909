import { HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { RedisHealthIndicator, parseInfo } from './redis.health';
import type { LastFailure, RedisConnections } from './redis-connections.service';

function indicatorWith(client: Partial<Redis>, lastFailure?: LastFailure): RedisHealthIndicator {
  const connections = {
    names: () => ['default', 'cache'],
    client: () => client as Redis,
    lastFailure: () => lastFailure,
    describe: () => ({ host: 'h', port: 1, db: 0 }),
  } as unknown as RedisConnections;
  return new RedisHealthIndicator(new HealthIndicatorService(), connections);
}

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
    await expect(indicatorWith({ status: 'ready', ping }).ping('redis', 'default')).resolves.toEqual({
      redis: { status: 'up' },
    });
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('fails fast without a command while the client is reconnecting, with the failure that took it down', async () => {
    const ping = jest.fn();
    const failure: LastFailure = {
      message: 'authentication failed',
      reason: 'authentication failed: WRONGPASS invalid username-password pair or user is disabled.',
    };
    const result = await indicatorWith({ status: 'reconnecting', ping }, failure).ping('redis', 'default');
    expect(result.redis).toEqual({ status: 'down', ...failure });
    expect(ping).not.toHaveBeenCalled();
  });

  it('names the client status while no failure is known yet', async () => {
    const result = await indicatorWith({ status: 'connecting' }).ping('redis', 'default');
    expect(result.redis).toEqual({ status: 'down', message: 'not connected', reason: 'client status connecting' });
  });

  it('classifies a failed PING', async () => {
    const ping = jest.fn().mockRejectedValue(new Error('Command timed out'));
    const result = await indicatorWith({ status: 'ready', ping }).ping('redis', 'default');
    expect(result.redis).toMatchObject({ status: 'down', message: 'timeout' });
  });

  it('reports seed 004 facts from one INFO', async () => {
    const info = jest
      .fn()
      .mockResolvedValue(
        '# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\nconnected_clients:3\r\nused_memory_human:1.1M\r\nother:x\r\n',
      );
    await expect(indicatorWith({ status: 'ready', info }).details('default')).resolves.toEqual({
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

import type { ClusterService, RedisService } from '@liaoliaots/nestjs-redis';
import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { RedisConfig } from './redis.config';
import type { ShutdownConfig } from '../lifecycle/shutdown.config';
import { RedisConnections } from './redis-connections';

/** Just enough of an ioredis client: events, status, the socket's peer, connect(). */
class FakeClient extends EventEmitter {
  status = 'wait';
  stream = { remoteAddress: '10.0.0.1', remotePort: 6379 };
  connect = jest.fn(() => {
    this.status = 'connecting';
    return Promise.resolve();
  });
  disconnect = jest.fn(() => {
    this.status = 'end';
  });

  becomeReady(address: string): void {
    this.stream = { remoteAddress: address, remotePort: 6379 };
    this.status = 'ready';
    this.emit('ready');
  }
}

const SENTINEL_CONFIG = {
  topology: 'sentinel',
  endpoint: { host: 'localhost', port: 6379, db: 0, tls: false },
  sentinel: { nodes: [{ host: 's1', port: 26379 }], masterName: 'mymaster' },
  clusterNodes: [],
  named: { cache: 1 },
  connectTimeoutMs: 1000,
  commandTimeoutMs: 500,
  maxConnections: 50,
} as unknown as RedisConfig;

function connectionsWith(clients: Record<string, FakeClient>, config = SENTINEL_CONFIG): RedisConnections {
  const redis = { getOrThrow: (name: string) => clients[name] } as unknown as RedisService;
  const cluster = { getOrThrow: () => undefined } as unknown as ClusterService;
  const shutdown = { clientCloseMs: 100 } as ShutdownConfig;
  return new RedisConnections(redis, cluster, config, shutdown);
}

describe('RedisConnections', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('logs a Sentinel failover once, with the old and the new primary, whichever client sees it first', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const clients = { default: new FakeClient(), cache: new FakeClient() };
    const connections = connectionsWith(clients);
    clients.default.becomeReady('10.0.0.1');
    clients.cache.becomeReady('10.0.0.1');

    for (const client of Object.values(clients)) client.emit('close');
    clients.cache.becomeReady('10.0.0.2');
    clients.default.becomeReady('10.0.0.2');

    const failovers = warn.mock.calls.filter(([, message]) => String(message).includes('failover'));
    expect(failovers).toHaveLength(1);
    expect(failovers[0][1]).toBe(
      'redis sentinel failover of mymaster: primary moved from 10.0.0.1:6379 to 10.0.0.2:6379',
    );
    expect(connections.primaryOf('default')).toBe('10.0.0.2:6379');
  });

  it('names no primary outside Sentinel', () => {
    const client = new FakeClient();
    const connections = connectionsWith({ default: client }, { ...SENTINEL_CONFIG, topology: 'standalone', named: {} });
    client.becomeReady('10.0.0.1');

    expect(connections.primaryOf('default')).toBeUndefined();
    expect(connections.describe('default')).toEqual({ topology: 'standalone', host: 'localhost', port: 6379, db: 0 });
  });

  it('starts a client over when ioredis ended it on its own, but not once shutdown began', async () => {
    jest.useFakeTimers();
    const client = new FakeClient();
    const connections = connectionsWith({ default: client }, { ...SENTINEL_CONFIG, named: {} });
    client.becomeReady('10.0.0.1');

    client.status = 'end';
    client.emit('end');
    jest.advanceTimersByTime(500);
    expect(client.connect).toHaveBeenCalledTimes(1);

    await connections.onApplicationShutdown();
    client.status = 'end';
    client.emit('end');
    jest.advanceTimersByTime(500);
    expect(client.connect).toHaveBeenCalledTimes(1);
  });

  it('keeps the classified and the raw reason of a failure apart, and logs each once', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const client = new FakeClient();
    const connections = connectionsWith({ default: client }, { ...SENTINEL_CONFIG, topology: 'standalone', named: {} });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

    client.emit('error', refused);

    expect(connections.lastFailure('default')).toEqual({
      message: 'connection refused',
      reason: 'connect ECONNREFUSED 127.0.0.1:6379',
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][1])).toMatch(/\(connection refused: connect ECONNREFUSED 127\.0\.0\.1:6379\)/);
  });

  it('does not report the connection it closed at shutdown as lost', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const client = new FakeClient();
    const connections = connectionsWith({ default: client }, { ...SENTINEL_CONFIG, named: {} });
    client.becomeReady('10.0.0.1');
    client.status = 'connecting'; // not 'ready': close() disconnects instead of sending QUIT

    await connections.onApplicationShutdown();
    // The socket's 'close' arrives after QUIT's reply, so after the "clients closed" line.
    client.emit('close');

    expect(warn).not.toHaveBeenCalled();
  });

  it('describes a Sentinel client by master name, sentinels and database', () => {
    const connections = connectionsWith({ default: new FakeClient(), cache: new FakeClient() });

    expect(connections.topology).toBe('sentinel');
    expect(connections.describe('cache')).toEqual({
      topology: 'sentinel',
      master: 'mymaster',
      sentinels: ['s1:26379'],
      db: 1,
    });
  });
});

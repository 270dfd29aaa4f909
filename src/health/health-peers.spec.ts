import { Logger } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import type { HealthConfig } from './health.config';
import { HealthMonitor } from './health-monitor';
import { HealthPeers, PEER_SAMPLE_SIZE, PeerStates, sample } from './health-peers';
import { healthConfigWith } from '../../test/support/health-config';

jest.mock('node:dns/promises', () => ({ lookup: jest.fn() }));
const lookupMock = lookup as unknown as jest.Mock<Promise<Array<{ address: string; family: number }>>>;

const PEERS = ['http://10.0.0.1:3000', 'http://10.0.0.2:3000', 'http://10.0.0.3:3000'];

function configWith(peers: Partial<HealthConfig['peers']> = {}): HealthConfig {
  const config = healthConfigWith();
  return { ...config, peers: { ...config.peers, urls: PEERS, ...peers } };
}

type PeerReply = PeerStates | 'no answer';

describe('HealthPeers', () => {
  let redisUp: boolean;
  /** What each peer answers, by base URL. */
  let replies: Record<string, PeerReply>;
  let fetchMock: jest.SpiedFunction<typeof fetch>;
  let monitor: HealthMonitor;
  let peers: HealthPeers;

  const states = (redis: 'up' | 'down', instance = 'other'): PeerStates => ({
    instance,
    checks: { redis: { status: redis, since: null }, db: { status: 'up', since: null } },
  });

  async function boot(config = configWith(), scope: 'shared' | 'local' = 'shared'): Promise<void> {
    monitor = new HealthMonitor(config);
    monitor.register({
      name: 'redis',
      scope,
      check: (key) => ({ [key]: { status: redisUp ? 'up' : 'down', message: 'connection refused' } }),
    });
    monitor.register({ name: 'db', check: (key) => ({ [key]: { status: 'up' } }) });
    peers = new HealthPeers(config, monitor);
    monitor.onApplicationBootstrap();
    peers.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    // The middle of the jitter range: periods are exact.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    lookupMock.mockReset();
    redisUp = true;
    replies = Object.fromEntries(PEERS.map((url) => [url, states('up')]));
    fetchMock = jest.spyOn(globalThis, 'fetch').mockImplementation((input) => {
      const url = input as string;
      const reply = replies[url.slice(0, url.indexOf('/internal'))];
      if (!reply || reply === 'no answer') return Promise.reject(new Error('connect ECONNREFUSED'));
      return Promise.resolve(new Response(JSON.stringify(reply), { status: 200 }));
    });
  });
  afterEach(async () => {
    await monitor.beforeApplicationShutdown();
    await peers.beforeApplicationShutdown();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Redis fails here; the monitor notices at its next run and the peers are asked at once. */
  async function loseRedisHere(): Promise<void> {
    redisUp = false;
    await jest.advanceTimersByTimeAsync(1000);
  }

  it('asks no peer while every check is up', async () => {
    await boot();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('declares a shared outage when every peer that answered sees the check down too', async () => {
    await boot();
    replies = Object.fromEntries(PEERS.map((url) => [url, states('down')]));
    await loseRedisHere();
    expect(peers.outage('redis')).toEqual({ peersDown: 3, peersAnswered: 3 });
  });

  it('declares a shared outage when exactly half of the peers that answered agree', async () => {
    await boot();
    replies = { [PEERS[0]]: states('down'), [PEERS[1]]: states('up'), [PEERS[2]]: 'no answer' };
    await loseRedisHere();
    expect(peers.outage('redis')).toEqual({ peersDown: 1, peersAnswered: 2 });
  });

  it('declares no outage when fewer than half of the peers that answered agree: the fault is this pod’s', async () => {
    await boot();
    replies[PEERS[0]] = states('down');
    await loseRedisHere();
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('declares no outage when no peer answered: this pod may be the one cut off', async () => {
    await boot();
    replies = Object.fromEntries(PEERS.map((url) => [url, 'no answer' as const]));
    await loseRedisHere();
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('leaves its own answer out when its peer list names itself', async () => {
    await boot();
    replies = { [PEERS[0]]: states('down', peers.instance), [PEERS[1]]: states('up'), [PEERS[2]]: 'no answer' };
    await loseRedisHere();
    // Only the second peer counts, and it sees Redis up.
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('never asks about a check declared local', async () => {
    await boot(configWith(), 'local');
    replies = Object.fromEntries(PEERS.map((url) => [url, states('down')]));
    await loseRedisHere();
    expect(fetchMock).not.toHaveBeenCalled();
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('asks again every failure interval until confirmed, then every peer interval', async () => {
    await boot();
    replies = Object.fromEntries(PEERS.map((url) => [url, 'no answer' as const]));
    await loseRedisHere();
    expect(fetchMock).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(500);
    expect(fetchMock).toHaveBeenCalledTimes(6);

    replies = Object.fromEntries(PEERS.map((url) => [url, states('down')]));
    await jest.advanceTimersByTimeAsync(500);
    expect(peers.outage('redis')).toBeDefined();
    const afterConfirmation = fetchMock.mock.calls.length;
    await jest.advanceTimersByTimeAsync(4900);
    expect(fetchMock).toHaveBeenCalledTimes(afterConfirmation);
    await jest.advanceTimersByTimeAsync(100);
    expect(fetchMock).toHaveBeenCalledTimes(afterConfirmation + 3);
  });

  it('ends the outage as soon as the check is up here, and when the peers recover first', async () => {
    await boot();
    replies = Object.fromEntries(PEERS.map((url) => [url, states('down')]));
    await loseRedisHere();
    const revision = peers.revision;
    expect(peers.outage('redis')).toBeDefined();

    replies = Object.fromEntries(PEERS.map((url) => [url, states('up')]));
    await jest.advanceTimersByTimeAsync(5000);
    expect(peers.outage('redis')).toBeUndefined();
    expect(peers.revision).toBeGreaterThan(revision);

    replies = Object.fromEntries(PEERS.map((url) => [url, states('down')]));
    await jest.advanceTimersByTimeAsync(500);
    expect(peers.outage('redis')).toBeDefined();
    redisUp = true;
    await jest.advanceTimersByTimeAsync(500);
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('sends the peers token as a bearer token, with the peer timeout', async () => {
    await boot(configWith({ token: 'peers-token-0123456789' }));
    await loseRedisHere();
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe(`${PEERS[0]}/internal/health/states`);
    expect(init?.headers).toEqual({ authorization: 'Bearer peers-token-0123456789' });
    expect(init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('ignores an answer that is not a states body', async () => {
    await boot();
    fetchMock.mockImplementation(() => Promise.resolve(new Response('{"status":"ok"}', { status: 200 })));
    await loseRedisHere();
    expect(peers.outage('redis')).toBeUndefined();
  });

  it('asks at most PEER_SAMPLE_SIZE peers per round', async () => {
    const many = Array.from({ length: 25 }, (_, i) => `http://10.0.1.${i}:3000`);
    replies = Object.fromEntries(many.map((url) => [url, states('down')]));
    await boot(configWith({ urls: many }));
    redisUp = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(fetchMock).toHaveBeenCalledTimes(PEER_SAMPLE_SIZE);
    expect(peers.outage('redis')).toEqual({ peersDown: PEER_SAMPLE_SIZE, peersAnswered: PEER_SAMPLE_SIZE });
  });

  it('serves its own states and times, nothing else', async () => {
    await boot();
    const own = peers.states();
    expect(own.instance).toBe(peers.instance);
    expect(Object.keys(own.checks)).toEqual(['redis', 'db']);
    expect(Object.keys(own.checks.redis).sort()).toEqual(['since', 'status']);
    expect(own.checks.redis.status).toBe('up');
  });

  it('leaves out a check that has not run yet', () => {
    const config = configWith();
    const fresh = new HealthMonitor(config);
    fresh.register({ name: 'redis', check: (key) => ({ [key]: { status: 'up' } }) });
    expect(new HealthPeers(config, fresh).states().checks).toEqual({});
  });

  it('asks the addresses a DNS name resolves to, and looks them up again only when the list is old', async () => {
    lookupMock.mockResolvedValue([
      { address: '10.0.0.1', family: 4 },
      { address: 'fd00::2', family: 6 },
    ]);
    replies = { 'http://10.0.0.1:3000': states('down'), 'http://[fd00::2]:3000': states('down') };
    await boot(configWith({ urls: [], dns: 'api-peers.default.svc:3000' }));
    await loseRedisHere();
    expect(lookupMock).toHaveBeenCalledWith('api-peers.default.svc', { all: true });
    expect(peers.outage('redis')).toEqual({ peersDown: 2, peersAnswered: 2 });
    await jest.advanceTimersByTimeAsync(5000);
    expect(lookupMock).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(lookupMock).toHaveBeenCalledTimes(2);
  });

  it('keeps the last DNS answer when a lookup fails', async () => {
    lookupMock.mockResolvedValueOnce([{ address: '10.0.0.1', family: 4 }]).mockRejectedValue(new Error('EAI_AGAIN'));
    replies = { 'http://10.0.0.1:3000': states('down') };
    await boot(configWith({ urls: [], dns: 'api-peers:3000' }));
    await loseRedisHere();
    await jest.advanceTimersByTimeAsync(35_000);
    expect(lookupMock).toHaveBeenCalledTimes(2);
    expect(peers.outage('redis')).toEqual({ peersDown: 1, peersAnswered: 1 });
  });

  it('is off without peers: nothing scheduled, nothing asked', async () => {
    await boot(configWith({ urls: [] }));
    expect(peers.enabled).toBe(false);
    await loseRedisHere();
    await jest.advanceTimersByTimeAsync(5000);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe('sample', () => {
  it('returns every entry when the list is shorter than the size', () => {
    expect(sample([1, 2, 3], 10).sort()).toEqual([1, 2, 3]);
  });

  it('returns `size` distinct entries from a longer list', () => {
    const picked = sample(
      Array.from({ length: 50 }, (_, i) => i),
      10,
    );
    expect(new Set(picked).size).toBe(10);
  });
});

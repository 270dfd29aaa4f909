import { ConfigValidationError, validateEnvironment } from './environment';
import { resolveRedisTopology } from '../redis/redis-topology';
import { resolveJobsKeyPrefix } from '../jobs/jobs.config';

const failures = (env: Record<string, string>): string[] => {
  try {
    validateEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.lines;
    throw error;
  }
  return [];
};

describe('validateEnvironment', () => {
  it('applies defaults to an empty environment', () => {
    const env = validateEnvironment({});
    expect(env.PORT).toBe(3000);
    expect(env.REDIS__PORT).toBe(6379);
    expect(env.HEALTH_READINESS_BUDGET_MS).toBe(800);
    expect(env.SHUTDOWN_DRAIN_MS).toBe(5000);
    expect(env.HEALTH_OPTIONAL_CHECKS).toEqual([]);
  });

  it('converts numbers, booleans and lists', () => {
    const env = validateEnvironment({
      PORT: '8080',
      DB_MIGRATIONS_RUN: 'false',
      HEALTH_OPTIONAL_CHECKS: 'redis-cache, upstream',
    });
    expect(env.PORT).toBe(8080);
    expect(env.DB_MIGRATIONS_RUN).toBe(false);
    expect(env.HEALTH_OPTIONAL_CHECKS).toEqual(['redis-cache', 'upstream']);
  });

  it('treats empty strings as unset', () => {
    expect(validateEnvironment({ PORT: '', REDIS_URL: '' }).PORT).toBe(3000);
  });

  it('reports one line per bad variable, naming it', () => {
    const lines = failures({ PORT: 'abc', NODE_ENV: 'staging', REDIS__DB: '99' });
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('PORT:'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('NODE_ENV:'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('REDIS__DB:'))).toBeDefined();
  });

  it('never echoes the value of a malformed URL', () => {
    const lines = failures({ REDIS_URL: 'http://user:s3cr3t-pw@host:6379', DATABASE_URL: 'not a url s3cr3t-db' });
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toMatch(/s3cr3t/);
  });

  it('accepts peers as base URLs and trims their trailing slashes', () => {
    const env = validateEnvironment({ HEALTH_PEERS: 'http://10.0.0.5:3000/, https://api-1.internal:8443' });
    expect(env.HEALTH_PEERS).toEqual(['http://10.0.0.5:3000/', 'https://api-1.internal:8443']);
    expect(env.HEALTH_PEER_TIMEOUT_MS).toBe(300);
    expect(env.HEALTH_PEER_INTERVAL_MS).toBe(5000);
  });

  it('rejects peer URLs with credentials or another scheme, without echoing them', () => {
    const lines = failures({ HEALTH_PEERS: 'http://admin:s3cr3t@10.0.0.5:3000,redis://10.0.0.6:6379' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^HEALTH_PEERS: /);
    expect(lines[0]).not.toMatch(/s3cr3t/);
  });

  it('takes HEALTH_PEERS_DNS as host:port, and not together with HEALTH_PEERS', () => {
    expect(failures({ HEALTH_PEERS_DNS: 'api-peers.default.svc.cluster.local:3000' })).toEqual([]);
    expect(failures({ HEALTH_PEERS_DNS: 'api-peers' })[0]).toMatch(
      /^HEALTH_PEERS_DNS: HEALTH_PEERS_DNS must be host:port/,
    );
    expect(failures({ HEALTH_PEERS: 'http://10.0.0.5:3000', HEALTH_PEERS_DNS: 'api-peers:3000' })).toEqual([
      'HEALTH_PEERS_DNS: set HEALTH_PEERS or HEALTH_PEERS_DNS, not both',
    ]);
  });

  it('wants a peers token of at least 16 characters', () => {
    expect(failures({ HEALTH_PEERS_TOKEN: 'short' })).toEqual([
      'HEALTH_PEERS_TOKEN: HEALTH_PEERS_TOKEN must be at least 16 characters',
    ]);
  });

  it('rejects a check timeout that does not fit the readiness budget', () => {
    expect(failures({ HEALTH_CHECK_TIMEOUT_MS: '900' })).toEqual([
      'HEALTH_CHECK_TIMEOUT_MS: must be below HEALTH_READINESS_BUDGET_MS',
    ]);
  });

  it('rejects a malformed REDIS_PRIMARY_ENDPOINT', () => {
    expect(failures({ REDIS_PRIMARY_ENDPOINT: 'redis:abc' })).toEqual([
      'REDIS_PRIMARY_ENDPOINT: REDIS_PRIMARY_ENDPOINT must be host:port',
    ]);
  });
});

describe('Redis topology variables', () => {
  const SENTINEL = { REDIS__SENTINELS: 's1:26379, s2:26379,s3:26379', REDIS__SENTINEL_MASTER: 'mymaster' };
  const CLUSTER = { REDIS__CLUSTER_NODES: 'n1:7000,n2:7001' };

  it('is standalone by default', () => {
    expect(resolveRedisTopology(validateEnvironment({}))).toBe('standalone');
  });

  it('accepts Sentinel with named logical databases and its own password', () => {
    const env = validateEnvironment({
      ...SENTINEL,
      REDIS__SENTINEL_PASSWORD: 'sentinel-pw',
      REDIS__PASSWORD: 'data-pw',
      REDIS__DB: '2',
      REDIS__CACHE_DB: '4',
    });
    expect(resolveRedisTopology(env)).toBe('sentinel');
    expect(env.REDIS__SENTINELS).toEqual(['s1:26379', 's2:26379', 's3:26379']);
    expect(resolveJobsKeyPrefix(env)).toBe('app:jobs:');
  });

  it('accepts a cluster and gives the job store a hash-tagged prefix by default', () => {
    const env = validateEnvironment(CLUSTER);
    expect(resolveRedisTopology(env)).toBe('cluster');
    expect(resolveJobsKeyPrefix(env)).toBe('{app:jobs}:');
    expect(resolveJobsKeyPrefix(validateEnvironment({ ...CLUSTER, JOBS_KEY_PREFIX: 'x{t}:' }))).toBe('x{t}:');
    expect(resolveJobsKeyPrefix(validateEnvironment({}))).toBe('app:jobs:');
  });

  it('rejects Sentinel and Cluster together, naming both variables', () => {
    expect(failures({ ...SENTINEL, ...CLUSTER })).toEqual([
      'REDIS__CLUSTER_NODES: cannot be combined with REDIS__SENTINELS; choose one Redis topology',
    ]);
  });

  it.each([
    ['REDIS_URL', 'redis://:pw@h:6379/0'],
    ['REDIS_PRIMARY_ENDPOINT', 'h:6379'],
    ['REDIS__HOST', 'h'],
    ['REDIS__PORT', '6380'],
  ])('rejects the standalone address %s with Sentinel or Cluster', (name, value) => {
    expect(failures({ ...SENTINEL, [name]: value })).toEqual([
      `${name}: cannot be combined with REDIS__SENTINELS; a standalone address and another topology exclude each other`,
    ]);
    expect(failures({ ...CLUSTER, [name]: value })).toEqual([
      `${name}: cannot be combined with REDIS__CLUSTER_NODES; a standalone address and another topology exclude each other`,
    ]);
  });

  it('requires the master name with sentinels, and sentinel settings only with sentinels', () => {
    expect(failures({ REDIS__SENTINELS: 's1:26379' })).toEqual([
      'REDIS__SENTINEL_MASTER: required with REDIS__SENTINELS (the name the sentinels monitor the primary under)',
    ]);
    expect(failures({ REDIS__SENTINEL_MASTER: 'mymaster', REDIS__SENTINEL_PASSWORD: 'pw' })).toEqual([
      'REDIS__SENTINEL_MASTER: only applies with REDIS__SENTINELS',
      'REDIS__SENTINEL_PASSWORD: only applies with REDIS__SENTINELS',
    ]);
  });

  it('rejects named logical databases and a non-zero REDIS__DB with a cluster, one line each', () => {
    const lines = failures({ ...CLUSTER, REDIS__CACHE_DB: '1', REDIS__PUBSUB_DB: '2', REDIS__DB: '3' });
    expect(lines).toEqual([
      'REDIS__CACHE_DB: Redis Cluster has only database 0, so named logical databases cannot be used with REDIS__CLUSTER_NODES',
      'REDIS__PUBSUB_DB: Redis Cluster has only database 0, so named logical databases cannot be used with REDIS__CLUSTER_NODES',
      'REDIS__DB: Redis Cluster has only database 0',
    ]);
  });

  it('rejects a job key prefix without a hash tag on a cluster', () => {
    for (const prefix of ['app:jobs:', 'a{}:', 'a}b{c']) {
      expect(failures({ ...CLUSTER, JOBS_KEY_PREFIX: prefix })).toEqual([
        'JOBS_KEY_PREFIX: needs a hash tag such as {app:jobs}: with REDIS__CLUSTER_NODES, so that a job and its indexes share one cluster slot',
      ]);
    }
  });

  it('rejects malformed node lists without echoing them', () => {
    const lines = failures({
      REDIS__SENTINELS: 's1:26379,s3cr3t',
      REDIS__SENTINEL_MASTER: 'mymaster',
      REDIS__CLUSTER_NODES: ',',
    });
    expect(lines).toContain('REDIS__SENTINELS: REDIS__SENTINELS must be a comma-separated list of host:port');
    expect(lines.find((l) => l.startsWith('REDIS__CLUSTER_NODES:'))).toBeDefined();
    expect(lines.join('\n')).not.toMatch(/s3cr3t/);
  });

  it('never echoes the sentinel password', () => {
    const lines = failures({ REDIS__SENTINEL_PASSWORD: 's3cr3t-sentinel' });
    expect(lines).toEqual(['REDIS__SENTINEL_PASSWORD: only applies with REDIS__SENTINELS']);
  });
});

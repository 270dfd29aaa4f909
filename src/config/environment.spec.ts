import { ConfigValidationError, validateEnvironment } from './environment';
import { resolvePostgres, resolveRedis } from './configuration';

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

describe('resolveRedis precedence', () => {
  it('prefers REDIS_URL over everything else', () => {
    const env = validateEnvironment({
      REDIS_URL: 'redis://:pw@url-host:7000/3',
      REDIS_PRIMARY_ENDPOINT: 'endpoint:6380',
      REDIS__HOST: 'parts',
    });
    expect(resolveRedis(env)).toEqual({
      host: 'url-host',
      port: 7000,
      username: undefined,
      password: 'pw',
      db: 3,
      tls: false,
    });
  });

  it('uses REDIS_PRIMARY_ENDPOINT with REDIS__PASSWORD and REDIS__DB', () => {
    const env = validateEnvironment({ REDIS_PRIMARY_ENDPOINT: 'endpoint:6380', REDIS__PASSWORD: 'pw', REDIS__DB: '2' });
    expect(resolveRedis(env)).toMatchObject({ host: 'endpoint', port: 6380, password: 'pw', db: 2 });
  });

  it('falls back to REDIS__HOST and REDIS__PORT, then localhost:6379', () => {
    expect(resolveRedis(validateEnvironment({ REDIS__HOST: 'h', REDIS__PORT: '7001' }))).toMatchObject({
      host: 'h',
      port: 7001,
    });
    expect(resolveRedis(validateEnvironment({}))).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
  });

  it('detects TLS from rediss://', () => {
    expect(resolveRedis(validateEnvironment({ REDIS_URL: 'rediss://h:1/0' })).tls).toBe(true);
  });
});

describe('resolvePostgres', () => {
  it('prefers DATABASE_URL and decodes its parts', () => {
    const env = validateEnvironment({
      DATABASE_URL: 'postgres://u%40x:p%2Fw@db:5433/app?sslmode=require',
      DB_HOST: 'ignored',
    });
    expect(resolvePostgres(env)).toEqual({
      host: 'db',
      port: 5433,
      username: 'u@x',
      password: 'p/w',
      database: 'app',
      ssl: true,
    });
  });

  it('uses DB_* variables otherwise', () => {
    const env = validateEnvironment({ DB_HOST: 'h', DB_PORT: '6000', DB_USER: 'u', DB_PASSWORD: 'p', DB_NAME: 'n' });
    expect(resolvePostgres(env)).toEqual({
      host: 'h',
      port: 6000,
      username: 'u',
      password: 'p',
      database: 'n',
      ssl: false,
    });
  });
});

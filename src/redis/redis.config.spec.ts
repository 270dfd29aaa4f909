import { validateEnvironment } from '../config/environment';
import { resolveRedis } from './redis.config';

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

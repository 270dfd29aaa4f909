import { validateEnvironment } from '../config/environment';
import { resolvePostgres } from './database.config';

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

import { Logger } from '@nestjs/common';
import { logPoolError, TypeOrmLogger } from './typeorm-logger';

describe('TypeOrmLogger', () => {
  const logger = new TypeOrmLogger();
  let said: Record<'log' | 'warn' | 'debug', jest.SpyInstance>;

  beforeEach(() => {
    said = {
      log: jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined),
      warn: jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined),
      debug: jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined),
    };
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('logs no query: queries carry their parameters', () => {
    logger.logQuery();

    expect(said.log).not.toHaveBeenCalled();
    expect(said.debug).not.toHaveBeenCalled();
  });

  it('warns about a failed query with its redacted message only', () => {
    logger.logQueryError(new Error('connect postgres://app:hunter2@db/orders failed'));

    expect(said.warn).toHaveBeenCalledWith('query failed: connect postgres://app:***@db/orders failed');
  });

  it('warns about a slow query by its duration, without the query', () => {
    logger.logQuerySlow(1250);

    expect(said.warn).toHaveBeenCalledWith('slow query: 1250 ms');
  });

  it('logs migrations, redacted', () => {
    logger.logMigration('migration ran with password=hunter2');

    expect(said.log).toHaveBeenCalledWith('migration ran with password=***');
  });

  it('logs schema building at debug, redacted', () => {
    logger.logSchemaBuild('schema for postgres://app:hunter2@db/orders');

    expect(said.debug).toHaveBeenCalledWith('schema for postgres://app:***@db/orders');
  });

  it.each<['log' | 'info' | 'warn', 'log' | 'warn']>([
    ['log', 'log'],
    ['info', 'log'],
    ['warn', 'warn'],
  ])('passes a TypeORM %s message on at %s, redacted', (level, method) => {
    logger.log(level, 'token=abc123 in use');

    expect(said[method]).toHaveBeenCalledWith('token=*** in use');
  });
});

describe('logPoolError', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('warns about a lost idle connection with the redacted reason', () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    logPoolError(new Error('terminating connection due to administrator command'));

    expect(warned).toHaveBeenCalledWith(
      'idle pool connection lost: terminating connection due to administrator command',
    );
  });
});

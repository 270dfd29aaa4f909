import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { shutdownConfig, ShutdownConfig } from '../lifecycle/shutdown.config';
import { databaseConfig, DatabaseConfig } from './database.config';
import { DatabaseConnection } from './database-connection';

// The retry pauses sleep through node:timers/promises, which Jest's fake clock does not replace.
jest.mock('node:timers/promises', () =>
  jest.requireActual<typeof import('../../test/support/fake-timers-promises')>(
    '../../test/support/fake-timers-promises',
  ),
);

const DATABASE: DatabaseConfig = {
  connection: { host: 'db.internal', port: 5433, username: 'app', password: 'hunter2', database: 'orders', ssl: false },
  poolSize: 5,
  connectTimeoutMs: 2000,
  statementTimeoutMs: 1000,
  migrationsRun: true,
};
/** DB_CONNECT_TIMEOUT_MS + DB_STATEMENT_TIMEOUT_MS: one connect attempt, migrations included. */
const ATTEMPT_BUDGET_MS = 3000;
const FIRST_CONNECT_WAIT_MS = 500;
const SHUTDOWN: ShutdownConfig = { drainMs: 0, timeoutMs: 10_000, clientCloseMs: 1000 };

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED postgres://app:hunter2@db.internal:5433/orders'), {
    code: 'ECONNREFUSED',
  });
const never = () => new Promise<never>(() => undefined);

/** The part of TypeORM's DataSource (and of its pg pool) the class touches, with TypeORM's state rules. */
interface FakeDataSource {
  isInitialized: boolean;
  /** The socket of the pool's one client. */
  socket: { destroy: jest.Mock };
  /** A pg pool with that client, for tests to put in `driver.master`. */
  pool: { _clients: { connection: { stream: { destroy: jest.Mock } } }[] };
  driver: { version?: string; master?: unknown; disconnect: jest.Mock<Promise<void>, []> };
  initialize: jest.Mock<Promise<unknown>, []>;
  runMigrations: jest.Mock<Promise<unknown[]>, [unknown?]>;
  destroy: jest.Mock<Promise<void>, []>;
}

function fakeDataSource(): FakeDataSource {
  const socket = { destroy: jest.fn() };
  const dataSource: FakeDataSource = {
    isInitialized: false,
    socket,
    pool: { _clients: [{ connection: { stream: socket } }] },
    driver: {
      version: undefined,
      master: undefined,
      disconnect: jest.fn(() => Promise.resolve()),
    },
    initialize: jest.fn(() => {
      dataSource.isInitialized = true;
      return Promise.resolve(dataSource);
    }),
    runMigrations: jest.fn(() => Promise.resolve([])),
    destroy: jest.fn(() => {
      dataSource.isInitialized = false;
      return Promise.resolve();
    }),
  };
  return dataSource;
}

describe('DatabaseConnection', () => {
  let dataSource: FakeDataSource;

  async function build(database: Partial<DatabaseConfig> = {}): Promise<DatabaseConnection> {
    const moduleRef = await Test.createTestingModule({
      providers: [
        DatabaseConnection,
        { provide: DataSource, useValue: dataSource },
        { provide: databaseConfig.KEY, useValue: { ...DATABASE, ...database } },
        { provide: shutdownConfig.KEY, useValue: SHUTDOWN },
      ],
    }).compile();
    return moduleRef.get(DatabaseConnection);
  }

  /** Runs onModuleInit to its end: the first attempt, or the 500 ms boot waits for it. */
  async function init(connection: DatabaseConnection): Promise<void> {
    const done = connection.onModuleInit();
    await jest.advanceTimersByTimeAsync(FIRST_CONNECT_WAIT_MS);
    await done;
  }

  beforeEach(() => {
    jest.useFakeTimers();
    dataSource = fakeDataSource();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('state', () => {
    it('is connected exactly when the DataSource is initialized', async () => {
      const connection = await build();
      expect(connection.connected).toBe(false);

      dataSource.isInitialized = true;

      expect(connection.connected).toBe(true);
    });

    it('describes where it points, with the server version, and never the credentials', async () => {
      dataSource.driver.version = '16.4';
      const connection = await build();

      const described = connection.describe();

      expect(described).toEqual({ host: 'db.internal', port: 5433, database: 'orders', version: '16.4' });
      expect(JSON.stringify(described)).not.toMatch(/hunter2|"app"/);
    });

    it('leaves the version out until the server has told it', async () => {
      const connection = await build();

      expect(connection.describe()).not.toHaveProperty('version');
    });
  });

  describe('first connect', () => {
    it('connects during module init and runs pending migrations, one transaction each', async () => {
      const connection = await build();

      await init(connection);

      expect(connection.connected).toBe(true);
      expect(dataSource.runMigrations).toHaveBeenCalledWith({ transaction: 'each' });
    });

    it('runs no migrations when DB_MIGRATIONS_RUN is off', async () => {
      const connection = await build({ migrationsRun: false });

      await init(connection);

      expect(dataSource.runMigrations).not.toHaveBeenCalled();
    });

    it('lets boot go on after 500 ms when the first attempt hangs', async () => {
      dataSource.initialize.mockImplementation(never);
      const connection = await build();
      let booted = false;
      void connection.onModuleInit().then(() => (booted = true));

      await jest.advanceTimersByTimeAsync(FIRST_CONNECT_WAIT_MS - 1);
      expect(booted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);

      expect(booted).toBe(true);
    });

    it('records a failed attempt, classified and with its reason redacted', async () => {
      dataSource.initialize.mockRejectedValue(refused());
      const connection = await build();

      await init(connection);

      expect(connection.lastFailure).toEqual({
        message: 'connection refused',
        reason: 'connection refused: connect ECONNREFUSED postgres://app:***@db.internal:5433/orders',
      });
    });

    it('counts an attempt that overruns its connect and statement budget as a timeout', async () => {
      dataSource.initialize.mockImplementation(never);
      const connection = await build();
      void connection.onModuleInit();

      await jest.advanceTimersByTimeAsync(ATTEMPT_BUDGET_MS);

      expect(connection.lastFailure?.message).toBe('timeout');
    });

    it('reports no failure while connected', async () => {
      const connection = await build();

      await init(connection);

      expect(connection.lastFailure).toBeUndefined();
    });
  });

  describe('retries', () => {
    it('keeps trying in the background, pausing 250, 500, then 1000 ms between attempts', async () => {
      dataSource.initialize.mockRejectedValue(refused());
      const connection = await build();
      await init(connection); // t = 500; attempts at 0 and 250
      const attemptsAt = (ms: number) =>
        jest.advanceTimersByTimeAsync(ms).then(() => dataSource.initialize.mock.calls.length);

      expect(dataSource.initialize).toHaveBeenCalledTimes(2);
      expect(await attemptsAt(249)).toBe(2); // t = 749
      expect(await attemptsAt(1)).toBe(3); // t = 750: 250 + 500
      expect(await attemptsAt(999)).toBe(3);
      expect(await attemptsAt(1)).toBe(4); // t = 1750: + 1000
      expect(await attemptsAt(1000)).toBe(5); // t = 2750: + 1000, the cap
    });

    it('stops trying once connected', async () => {
      dataSource.initialize.mockRejectedValueOnce(refused()).mockRejectedValueOnce(refused());
      const connection = await build();
      await init(connection);
      await jest.advanceTimersByTimeAsync(250);
      expect(connection.connected).toBe(true);

      await jest.advanceTimersByTimeAsync(10_000);

      expect(dataSource.initialize).toHaveBeenCalledTimes(3);
      expect(connection.lastFailure).toBeUndefined();
    });

    it('warns once per kind of failure, not at every attempt', async () => {
      const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      dataSource.initialize
        .mockRejectedValueOnce(refused())
        .mockRejectedValueOnce(refused())
        .mockRejectedValueOnce(refused())
        .mockRejectedValue(new Error('password authentication failed for user "app"'));
      const connection = await build();
      await init(connection);

      await jest.advanceTimersByTimeAsync(2500); // attempts at 0, 250, 750, 1750, 2750

      expect(dataSource.initialize).toHaveBeenCalledTimes(5);
      expect(warned.mock.calls.map(([, message]: unknown[]) => message)).toEqual([
        expect.stringContaining('(connection refused)'),
        expect.stringContaining('(authentication failed)'),
      ]);
    });

    it('ends the pool a failed attempt left behind, so retries do not leak connections', async () => {
      dataSource.initialize.mockImplementation(() => {
        dataSource.driver.master = dataSource.pool;
        return Promise.reject(refused());
      });
      const connection = await build();

      await init(connection);

      expect(dataSource.driver.disconnect).toHaveBeenCalled();
    });

    it('cuts the sockets of a left-behind pool that does not end within SHUTDOWN_CLIENT_CLOSE_MS', async () => {
      dataSource.initialize.mockImplementationOnce(() => {
        dataSource.driver.master = dataSource.pool;
        return Promise.reject(refused());
      });
      dataSource.driver.disconnect.mockImplementation(never);
      const connection = await build();
      void connection.onModuleInit();

      await jest.advanceTimersByTimeAsync(SHUTDOWN.clientCloseMs - 1);
      expect(dataSource.socket.destroy).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);

      expect(dataSource.socket.destroy).toHaveBeenCalled();
    });

    it('closes the DataSource again when it connected but the migrations failed', async () => {
      dataSource.runMigrations.mockRejectedValueOnce(new Error('relation "jobs" already exists'));
      const connection = await build();

      await init(connection);

      expect(dataSource.destroy).toHaveBeenCalledTimes(1);
    });
  });

  describe('shutdown', () => {
    it('stops retrying', async () => {
      dataSource.initialize.mockRejectedValue(refused());
      const connection = await build();
      await init(connection);
      const attempts = dataSource.initialize.mock.calls.length;

      await connection.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(10_000);

      expect(dataSource.initialize).toHaveBeenCalledTimes(attempts);
    });

    it('closes a connected DataSource', async () => {
      const connection = await build();
      await init(connection);

      await connection.onApplicationShutdown();

      expect(dataSource.destroy).toHaveBeenCalledTimes(1);
      expect(connection.connected).toBe(false);
    });

    it('closes nothing that never connected', async () => {
      dataSource.initialize.mockRejectedValue(refused());
      const connection = await build();
      await init(connection);

      await connection.onApplicationShutdown();

      expect(dataSource.destroy).not.toHaveBeenCalled();
    });

    it('cuts the pool’s sockets when closing overruns SHUTDOWN_CLIENT_CLOSE_MS, then goes on', async () => {
      const connection = await build();
      await init(connection);
      dataSource.driver.master = dataSource.pool;
      dataSource.destroy.mockImplementation(never);
      let closed = false;
      void connection.onApplicationShutdown().then(() => (closed = true));

      await jest.advanceTimersByTimeAsync(SHUTDOWN.clientCloseMs);
      expect(dataSource.socket.destroy).toHaveBeenCalled();
      expect(closed).toBe(false);
      await jest.advanceTimersByTimeAsync(SHUTDOWN.clientCloseMs);

      expect(closed).toBe(true);
    });

    it('lets a connect attempt in flight finish first, so no pool opens after the close', async () => {
      let connect!: () => void;
      dataSource.initialize.mockImplementation(
        () =>
          new Promise((resolve) => {
            connect = () => {
              dataSource.isInitialized = true;
              resolve(dataSource);
            };
          }),
      );
      const connection = await build();
      await init(connection);
      const closing = connection.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(100);
      expect(dataSource.destroy).not.toHaveBeenCalled();

      connect();
      await closing;

      expect(dataSource.destroy).toHaveBeenCalledTimes(1);
    });

    it('stops waiting for a hung connect attempt after SHUTDOWN_CLIENT_CLOSE_MS', async () => {
      dataSource.initialize.mockImplementation(never);
      const connection = await build();
      await init(connection);
      let closed = false;
      void connection.onApplicationShutdown().then(() => (closed = true));

      await jest.advanceTimersByTimeAsync(SHUTDOWN.clientCloseMs - 1);
      expect(closed).toBe(false);
      await jest.advanceTimersByTimeAsync(1);

      expect(closed).toBe(true);
    });
  });
});

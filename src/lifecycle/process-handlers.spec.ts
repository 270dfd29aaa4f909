import { installProcessHandlers } from './process-handlers';

describe('installProcessHandlers', () => {
  const handlers = new Map<string, (arg: unknown) => void>();
  const logger = { error: jest.fn(), log: jest.fn(), warn: jest.fn() };
  let exit: jest.SpyInstance;

  beforeEach(() => {
    handlers.clear();
    logger.error.mockReset();
    // Record the handlers instead of installing them on the test process.
    jest.spyOn(process, 'on').mockImplementation(((event: string, handler: (arg: unknown) => void) => {
      handlers.set(event, handler);
      return process;
    }) as typeof process.on);
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    installProcessHandlers(logger);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('logs an unhandled rejection, redacted, and keeps the process running', () => {
    handlers.get('unhandledRejection')!(new Error('connect redis://:hunter2@cache:6379 failed'));

    expect(logger.error).toHaveBeenCalledWith('unhandled promise rejection: connect redis://:***@cache:6379 failed');
    expect(exit).not.toHaveBeenCalled();
  });

  it('logs an uncaught exception and exits 1 so the orchestrator restarts the process', () => {
    handlers.get('uncaughtException')!(new TypeError('x is not a function'));

    expect(logger.error).toHaveBeenCalledWith('uncaught exception: TypeError: x is not a function');
    expect(exit).toHaveBeenCalledWith(1);
  });
});

import { ArgumentsHost, HttpServer, IntrinsicException, Logger } from '@nestjs/common';
import { UnhandledErrorFilter } from './unhandled-error.filter';

describe('UnhandledErrorFilter', () => {
  const filter = new UnhandledErrorFilter();
  const host = {
    getArgByIndex: () => 'response',
    switchToHttp: () => ({ getRequest: () => ({ id: 'req-7' }) }),
  } as unknown as ArgumentsHost;
  let adapter: { isHeadersSent: jest.Mock; reply: jest.Mock; end: jest.Mock };
  let logged: jest.SpyInstance;

  beforeEach(() => {
    adapter = { isHeadersSent: jest.fn(() => false), reply: jest.fn(), end: jest.fn() };
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  it("answers Nest's 500 body and logs the error with the request id", () => {
    const error = new Error('boom');
    filter.handleUnknownError(error, host, adapter as unknown as HttpServer);
    expect(adapter.reply).toHaveBeenCalledWith('response', { statusCode: 500, message: 'Internal server error' }, 500);
    expect(logged).toHaveBeenCalledWith({ reqId: 'req-7', err: error }, 'unhandled error: answered 500');
  });

  it("keeps the status of an http-errors style error (Fastify's malformed body)", () => {
    const error = Object.assign(new Error('Body is not valid JSON'), { statusCode: 400, expose: true });
    filter.handleUnknownError(error, host, adapter as unknown as HttpServer);
    expect(adapter.reply).toHaveBeenCalledWith('response', { statusCode: 400, message: 'Body is not valid JSON' }, 400);
  });

  it.each([
    ['a request body the client aborted', Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 })],
    ['a 403 from the static assets', Object.assign(new Error('Forbidden'), { statusCode: 403, status: 403 })],
  ])('answers but does not log %s, a client error', (_case, error) => {
    filter.handleUnknownError(error, host, adapter as unknown as HttpServer);
    expect(adapter.reply).toHaveBeenCalledWith(
      'response',
      { statusCode: error.statusCode, message: error.message },
      error.statusCode,
    );
    expect(logged).not.toHaveBeenCalled();
  });

  it('logs an error that carries a 5xx status', () => {
    filter.handleUnknownError(
      Object.assign(new Error('upstream'), { statusCode: 502 }),
      host,
      adapter as unknown as HttpServer,
    );
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ reqId: 'req-7' }), 'unhandled error: answered 502');
  });

  it('ends an answer already under way instead of replying twice', () => {
    adapter.isHeadersSent.mockReturnValue(true);
    filter.handleUnknownError(new Error('late'), host, adapter as unknown as HttpServer);
    expect(adapter.reply).not.toHaveBeenCalled();
    expect(adapter.end).toHaveBeenCalledWith('response');
  });

  it('does not log an IntrinsicException, as Nest does not', () => {
    filter.handleUnknownError(new IntrinsicException('quiet'), host, adapter as unknown as HttpServer);
    expect(logged).not.toHaveBeenCalled();
  });
});

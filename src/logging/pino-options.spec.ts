import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StdSerializedResults } from 'pino-http';
import {
  accessErrorMessage,
  accessErrorObject,
  accessLogLevel,
  isUnloggedRoute,
  noteOnAccessLine,
  serializeError,
  serializeRequest,
} from './pino-options';

type SerializedRequest = StdSerializedResults['req'];
type SerializedError = StdSerializedResults['err'];

const req = {} as IncomingMessage;
const res = (statusCode: number): ServerResponse => ({ statusCode }) as ServerResponse;

describe('serializeRequest', () => {
  it('censors secret query keys and credentials in the URL', () => {
    const out = serializeRequest({
      id: '1',
      method: 'GET',
      url: '/x?token=abc&next=redis://u:pw@h/0',
      query: { token: 'abc', next: 'redis://u:pw@h/0', page: '2' },
      params: {},
      headers: {},
      remoteAddress: '',
      remotePort: 0,
    } as unknown as SerializedRequest);
    expect(out.url).toBe('/x?token=***&next=redis://u:***@h/0');
    expect(out.query).toEqual({ token: '***', next: 'redis://u:***@h/0', page: '2' });
  });
});

describe('serializeError', () => {
  it('keeps type, code and a redacted message, and drops the stack and attached command arguments', () => {
    const out = serializeError({
      type: 'ReplyError',
      message: 'connect to redis://:hunter2@h failed',
      stack: 'ReplyError: connect to redis://:hunter2@h failed\n    at x',
      code: 'WRONGPASS',
      command: { name: 'auth', args: ['hunter2'] },
    } as unknown as SerializedError);
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect(out).toMatchObject({ type: 'ReplyError', code: 'WRONGPASS' });
    expect(out).not.toHaveProperty('command');
    expect(out).not.toHaveProperty('stack');
  });
});

describe('access log level and error object', () => {
  it('logs 5xx at error, 4xx at warn, the rest at info', () => {
    expect(accessLogLevel(req, res(503))).toBe('error');
    expect(accessLogLevel(req, res(404))).toBe('warn');
    expect(accessLogLevel(req, res(200))).toBe('info');
    expect(accessLogLevel(req, res(200), new Error('aborted'))).toBe('error');
  });

  it("drops pino-http's invented error for a bare 5xx but keeps a real one", () => {
    const fields = { err: new Error('x'), responseTime: 3 };
    expect(accessErrorObject(req, res(503), new Error('failed with status code 503'), fields)).toEqual({
      responseTime: 3,
    });
    expect(accessErrorObject(req, res(500), new Error('boom'), fields)).toBe(fields);
  });
});

describe('a noted 5xx (a dependency down, answered on purpose)', () => {
  const noted = (): ServerResponse => {
    const response = res(503);
    noteOnAccessLine(response, {
      msg: 'job store unavailable: POST /jobs answered 503 (timeout)',
      fields: { failure: 'timeout', reason: 'Command timed out' },
    });
    return response;
  };

  it('is logged at warn with its own message and fields, without an invented error', () => {
    const response = noted();
    const invented = new Error('failed with status code 503');
    expect(accessLogLevel(req, response)).toBe('warn');
    expect(accessErrorMessage(req, response)).toBe('job store unavailable: POST /jobs answered 503 (timeout)');
    expect(accessErrorObject(req, response, invented, { err: invented, responseTime: 4 })).toEqual({
      responseTime: 4,
      failure: 'timeout',
      reason: 'Command timed out',
    });
  });

  it('still logs at error when the response itself failed', () => {
    expect(accessLogLevel(req, noted(), new Error('socket hang up'))).toBe('error');
  });

  it("leaves other 5xx lines as pino-http's 'request errored'", () => {
    expect(accessErrorMessage(req, res(500))).toBe('request errored');
  });
});

describe('isUnloggedRoute', () => {
  it.each(['/health', '/health/live', '/health/ready', '/health/ready/:check', '/health/:check', '/ready', '/metrics'])(
    'leaves %s out',
    (route) => {
      expect(isUnloggedRoute(route)).toBe(true);
    },
  );

  it.each(['/jobs', '/jobs/:id', '/healthz', '/readyz', '/metrics-old', '/docs-json'])('logs %s', (route) => {
    expect(isUnloggedRoute(route)).toBe(false);
  });

  it('logs requests no route matched', () => {
    expect(isUnloggedRoute(undefined)).toBe(false);
  });
});

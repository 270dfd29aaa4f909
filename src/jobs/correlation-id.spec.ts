import { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { CorrelationId } from './correlation-id';

type Factory = (data: unknown, context: ExecutionContext) => string;

/** The function behind a parameter decorator, as Nest calls it for each request. */
function factoryOf(decorator: () => ParameterDecorator): Factory {
  class Probe {
    handler(@decorator() value: string): string {
      return value;
    }
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Probe, 'handler') as Record<string, { factory: Factory }>;
  return Object.values(args)[0].factory;
}

/** A request with `requestHeader` whose reply already carries `echoed` (or not). */
function contextWith(requestHeader: string | undefined, echoed?: string) {
  const headers = new Map<string, string>(echoed === undefined ? [] : [['x-request-id', echoed]]);
  const reply = {
    getHeader: (name: string) => headers.get(name),
    header: jest.fn((name: string, value: string) => headers.set(name, value)),
  };
  const request = { headers: requestHeader === undefined ? {} : { 'x-request-id': requestHeader } };
  const context = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, reply, headers };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('CorrelationId', () => {
  const correlationId = factoryOf(CorrelationId);

  it('adopts the id the request-id hook already echoed, so logs, header and job agree', () => {
    const { context, reply } = contextWith('ignored-here', 'order-7781');

    expect(correlationId(undefined, context)).toBe('order-7781');
    expect(reply.header).not.toHaveBeenCalled();
  });

  it('takes a valid X-Request-Id of the request when nothing was echoed, and echoes it', () => {
    const { context, headers } = contextWith('order-7781');

    expect(correlationId(undefined, context)).toBe('order-7781');
    expect(headers.get('x-request-id')).toBe('order-7781');
  });

  it('generates a UUID in place of an invalid X-Request-Id, and echoes it', () => {
    const { context, headers } = contextWith('bad id\r\nX-Injected: 1');

    const id = correlationId(undefined, context);

    expect(id).toMatch(UUID);
    expect(headers.get('x-request-id')).toBe(id);
  });

  it('does not trust an echoed header that does not look like a request id', () => {
    const { context } = contextWith(undefined, 'bad id with spaces');

    expect(correlationId(undefined, context)).toMatch(UUID);
  });
});

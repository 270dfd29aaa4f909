import { BadRequestException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BodyParser, exceededJsonLimit, JSON_BODY_MESSAGES, limitedJsonParser } from './json-body';

const LIMITS = { maxDepth: 3, maxKeys: 4 };

describe('exceededJsonLimit', () => {
  it.each([
    ['a flat object', '{"a":1,"b":"x"}'],
    ['three levels of objects and arrays', '{"a":[{"b":1}]}'],
    ['exactly four keys', '{"a":{"b":1,"c":2},"d":3}'],
    ['brackets, colons and escaped quotes inside strings', '{"a":"{[:]}\\":{{{{","b":[":::"]}'],
    ['arrays of scalars (items are not keys)', '[[1,2,3,4,5,6,7,8,9]]'],
  ])('accepts %s', (_case, text) => {
    expect(exceededJsonLimit(text, LIMITS)).toBeNull();
  });

  it.each([
    ['objects', '{"a":{"b":{"c":{}}}}'],
    ['arrays', '[[[[]]]]'],
    ['a million brackets', '['.repeat(1_000_000)],
  ])('reports nesting one level too deep in %s', (_case, text) => {
    expect(exceededJsonLimit(text, LIMITS)).toBe('depth');
  });

  it('counts keys at every level', () => {
    expect(exceededJsonLimit('{"a":{"b":1,"c":2},"d":{"e":1}}', LIMITS)).toBe('keys');
  });

  it('counts only colons outside strings', () => {
    expect(exceededJsonLimit('{"a":"1:2:3:4:5"}', LIMITS)).toBeNull();
  });
});

describe('limitedJsonParser', () => {
  const request = {} as FastifyRequest;
  const parseJson: BodyParser<string> = (_request, body, done) => done(null, JSON.parse(body));

  function parse(text: string): { error: Error | null; body?: unknown } {
    let outcome: { error: Error | null; body?: unknown } = { error: null };
    limitedJsonParser(parseJson, LIMITS)(request, Buffer.from(text), (error, body) => {
      outcome = { error, body };
    });
    return outcome;
  }

  it('hands a body within the limits to the JSON parser', () => {
    expect(parse('{"a":[1,{"b":"ü"}]}')).toEqual({ error: null, body: { a: [1, { b: 'ü' }] } });
  });

  it('refuses a body nested too deeply with a 400 naming the limit', () => {
    const { error } = parse('{"a":{"b":{"c":{}}}}');
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as BadRequestException).message).toBe(JSON_BODY_MESSAGES.tooDeep);
    expect(JSON_BODY_MESSAGES.tooDeep).toContain('at most 32 levels');
  });

  it('refuses a body with too many keys with a 400 naming the limit', () => {
    const { error } = parse('{"a":1,"b":2,"c":3,"d":4,"e":5}');
    expect((error as BadRequestException).getStatus()).toBe(400);
    expect((error as BadRequestException).message).toBe(JSON_BODY_MESSAGES.tooManyKeys);
    expect(JSON_BODY_MESSAGES.tooManyKeys).toContain('at most 10000 object keys');
  });
});

import { BadRequestException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** A Fastify content-type parser in its callback form (the form of Fastify's default JSON parser). */
export type BodyParser<Body extends string | Buffer> = (
  request: FastifyRequest,
  body: Body,
  done: (error: Error | null, body?: unknown) => void,
) => void;

/**
 * Most levels of objects and arrays a JSON request body may nest (the body
 * itself is level 1), and most object keys it may hold, nested ones
 * included. Parsing, validating and serializing a body costs time in
 * proportion to these, not only to its size: within them a 1 MiB body
 * (the default BODY_LIMIT_BYTES) holds the event loop for 10-20 ms at
 * most (measured on 2 shared cores, docs/JOBS.md), and nothing recursive
 * comes near the stack limit.
 */
export const JSON_BODY_MAX_DEPTH = 32;
export const JSON_BODY_MAX_KEYS = 10_000;

/** The limits in words, for the OpenAPI document. */
export const JSON_BODY_LIMITS_TEXT =
  `Limits of the whole JSON body: at most ${JSON_BODY_MAX_DEPTH} levels of objects and arrays, the body itself ` +
  `being level 1, and at most ${JSON_BODY_MAX_KEYS} object keys, nested ones included; past either, 400.`;

/** Messages of the 400s (tests assert on them). */
export const JSON_BODY_MESSAGES = {
  tooDeep: `body is nested too deeply (at most ${JSON_BODY_MAX_DEPTH} levels of objects and arrays)`,
  tooManyKeys: `body has too many keys (at most ${JSON_BODY_MAX_KEYS} object keys, nested ones included)`,
} as const;

export interface JsonLimits {
  maxDepth: number;
  maxKeys: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The first limit a JSON text breaks, found in one pass over its characters
 * without parsing it: nesting is counted on brackets outside strings, keys on
 * the colons outside strings (in JSON, exactly one per key). Text that is not
 * JSON gives a meaningless answer, and the parser then rejects it anyway.
 */
export function exceededJsonLimit(text: string, limits: JsonLimits): 'depth' | 'keys' | null {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) return 'depth';
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === COLON && ++keys > limits.maxKeys) return 'keys';
  }
  return null;
}

/**
 * Wraps Fastify's own JSON parser (secure-json-parse, its messages for an
 * empty or malformed body) so that a body over the limits is refused with a
 * 400 naming the limit before JSON.parse runs: V8 takes tens of milliseconds
 * to parse a megabyte of nested brackets, and a body thousands of levels
 * deep overflows the stack of anything recursive after it.
 */
export function limitedJsonParser(parseJson: BodyParser<string>, limits: JsonLimits): BodyParser<Buffer> {
  return (request, body, done) => {
    const text = body.toString('utf8');
    const exceeded = exceededJsonLimit(text, limits);
    if (exceeded === null) {
      parseJson(request, text, done);
      return;
    }
    const message = exceeded === 'depth' ? JSON_BODY_MESSAGES.tooDeep : JSON_BODY_MESSAGES.tooManyKeys;
    done(new BadRequestException(message));
  };
}

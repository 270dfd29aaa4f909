import { findJsonBoundsViolation } from './json-bounds';

const BOUNDS = { maxDepth: 3, maxKeys: 5 };

/** `levels` nested objects (`{"a":{"a":{}}}` is 3 levels), or arrays. */
function nested(levels: number, array = false): unknown {
  let value: unknown = array ? [] : {};
  for (let i = 1; i < levels; i++) value = array ? [value] : { a: value };
  return value;
}

describe('findJsonBoundsViolation', () => {
  it('accepts values exactly at the depth and key limits', () => {
    expect(findJsonBoundsViolation({ payload: nested(3) }, BOUNDS)).toBeNull();
    expect(findJsonBoundsViolation({ result: nested(3, true) }, BOUNDS)).toBeNull();
    // 2 top-level keys + 3 nested ones = 5
    expect(findJsonBoundsViolation({ type: 'x', payload: { a: 1, b: [{ c: 2 }] } }, BOUNDS)).toBeNull();
  });

  it.each([
    ['objects', nested(4)],
    ['arrays', nested(4, true)],
    ['arrays inside objects', { a: [[{}]] }],
  ])('names the field nested one level too deep in %s', (_kind, value) => {
    expect(findJsonBoundsViolation({ type: 'x', payload: value }, BOUNDS)).toEqual({
      field: 'payload',
      limit: 'depth',
    });
  });

  it('walks a value far deeper than the stack allows without recursion', () => {
    let value: unknown = 1;
    for (let i = 0; i < 200_000; i++) value = [value];
    expect(findJsonBoundsViolation({ error: value }, { maxDepth: 32, maxKeys: 10 })).toEqual({
      field: 'error',
      limit: 'depth',
    });
  });

  it('counts keys over the whole body, nested ones included', () => {
    expect(findJsonBoundsViolation({ type: 'x', payload: { a: { b: 1, c: 2 }, d: 3 }, z: {} }, BOUNDS)).toEqual({
      field: 'payload',
      limit: 'keys',
    });
  });

  it('names the body when it has too many fields of its own', () => {
    expect(findJsonBoundsViolation({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, BOUNDS)).toEqual({
      field: 'body',
      limit: 'keys',
    });
  });

  it('does not count array items as keys', () => {
    expect(findJsonBoundsViolation({ result: Array.from({ length: 100 }, (_, i) => i) }, BOUNDS)).toBeNull();
  });
});

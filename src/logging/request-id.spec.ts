import { REQUEST_ID_PATTERN, requestIdFrom } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('keeps a valid caller id', () => {
    expect(requestIdFrom('req-42.a:b_c')).toBe('req-42.a:b_c');
  });

  it('takes the first of repeated headers', () => {
    expect(requestIdFrom(['first', 'second'])).toBe('first');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['with spaces', 'a b'],
    ['with a line break', 'a\nb'],
    ['with quotes', 'a"b'],
    ['too long', 'x'.repeat(129)],
  ])('generates a UUID when the caller id is %s', (_case, header) => {
    expect(requestIdFrom(header)).toMatch(UUID);
  });

  it('accepts exactly 128 characters', () => {
    expect(REQUEST_ID_PATTERN.test('x'.repeat(128))).toBe(true);
  });
});

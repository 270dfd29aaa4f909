import { decodeCursor, encodeCursor, idOfMember } from './job-cursor';

describe('job cursor', () => {
  const member = '1767225600123456:3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c';

  it('round-trips an index member', () => {
    const cursor = encodeCursor(member);

    expect(decodeCursor(cursor)).toBe(member);
  });

  it('is opaque: contains neither the id nor the timestamp in clear', () => {
    const cursor = encodeCursor(member);

    expect(cursor).not.toContain('3f1c2a9e');
    expect(cursor).not.toContain('1767225600');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc$def'],
    ['base64 padding', `${encodeCursor(member)}=`],
    ['valid base64 of junk', Buffer.from('hello world').toString('base64url')],
    ['timestamp too short', encodeCursor('17672256001234:3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c')],
    ['not a v4 id', encodeCursor('1767225600123456:3f1c2a9e-8b7d-1c6e-9a5b-0d1e2f3a4b5c')],
    ['upper-case id', encodeCursor(member.toUpperCase())],
    ['too long', 'A'.repeat(300)],
  ])('rejects a cursor that is %s', (_label, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });

  it('rejects a non-canonical encoding of a valid member', () => {
    const cursor = encodeCursor(member);
    // Flip the unused low bits of the last character: decodes to the same bytes.
    const last = cursor.at(-1) ?? 'A';
    const sibling = cursor.slice(0, -1) + String.fromCharCode(last.charCodeAt(0) + 1);

    expect(Buffer.from(sibling, 'base64url').toString()).toBe(member);
    expect(decodeCursor(sibling)).toBeNull();
  });

  it('extracts the job id of a member', () => {
    expect(idOfMember(member)).toBe('3f1c2a9e-8b7d-4c6e-9a5b-0d1e2f3a4b5c');
  });
});

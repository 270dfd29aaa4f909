import { JOB_CURSOR_MAX_LENGTH } from './jobs.constants';

/**
 * Index members are `<16-digit creation time in µs>:<job id>`: every member of
 * an index has score 0, so Redis orders them lexicographically, which is
 * creation order with the id as tie-breaker. A page is then one
 * `ZRANGE … BYLEX REV` below the previous page's last member, stable while
 * jobs are added or removed.
 */
export const INDEX_MEMBER_PATTERN = /^\d{16}:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The job id inside an index member. */
export function idOfMember(member: string): string {
  return member.slice(member.indexOf(':') + 1);
}

/**
 * The cursor handed to clients: the last member of the page, base64url
 * encoded so that clients treat it as opaque.
 */
export function encodeCursor(member: string): string {
  return Buffer.from(member, 'utf8').toString('base64url');
}

/**
 * The index member a cursor points after, or null when the cursor was not
 * made by `encodeCursor` (wrong alphabet, wrong length, not canonical, or a
 * decoded value that is not an index member).
 */
export function decodeCursor(cursor: string): string | null {
  if (cursor.length === 0 || cursor.length > JOB_CURSOR_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!INDEX_MEMBER_PATTERN.test(member)) return null;
  return encodeCursor(member) === cursor ? member : null;
}

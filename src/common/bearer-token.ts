import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * A configured bearer token, compared in constant time over fixed-length
 * digests so that neither its content nor its length leaks. Matches
 * nothing when no token is configured.
 */
export class BearerToken {
  private readonly expected?: Buffer;

  constructor(token: string | undefined) {
    this.expected = token ? digest(token) : undefined;
  }

  get configured(): boolean {
    return this.expected !== undefined;
  }

  /** Whether an `Authorization` header carries this token. */
  matches(authorization: string | undefined): boolean {
    if (!this.expected || !authorization) return false;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match !== null && timingSafeEqual(digest(match[1]), this.expected);
  }
}

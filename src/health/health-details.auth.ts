import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { healthConfig, HealthConfig } from './health.config';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Decides whether a caller may see details (hosts, versions, raw reasons).
 * Off when HEALTH_DETAILS_TOKEN is unset. Tokens are compared in constant
 * time over fixed-length digests, so neither content nor length leaks.
 */
@Injectable()
export class HealthDetailsAuth {
  private readonly expected?: Buffer;

  constructor(@Inject(healthConfig.KEY) config: HealthConfig) {
    this.expected = config.detailsToken ? digest(config.detailsToken) : undefined;
  }

  isAuthorized(authorization: string | undefined): boolean {
    if (!this.expected || !authorization) return false;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return false;
    return timingSafeEqual(digest(match[1]), this.expected);
  }
}

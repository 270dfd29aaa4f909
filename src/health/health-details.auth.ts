import { Inject, Injectable } from '@nestjs/common';
import { BearerToken } from '../common/bearer-token';
import { healthConfig, HealthConfig } from './health.config';

/**
 * Decides whether a caller may see details (hosts, versions, raw reasons):
 * the caller sends HEALTH_DETAILS_TOKEN as a bearer token. Off when it is unset.
 */
@Injectable()
export class HealthDetailsAuth {
  private readonly token: BearerToken;

  constructor(@Inject(healthConfig.KEY) config: HealthConfig) {
    this.token = new BearerToken(config.detailsToken);
  }

  isAuthorized(authorization: string | undefined): boolean {
    return this.token.matches(authorization);
  }
}

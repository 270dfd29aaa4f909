import { HealthDetailsAuth } from './health-details.auth';
import type { HealthConfig } from './health.config';

const withToken = (detailsToken?: string) => new HealthDetailsAuth({ detailsToken } as HealthConfig);

describe('HealthDetailsAuth', () => {
  const token = 'a-very-long-details-token';

  it('accepts the configured bearer token', () => {
    expect(withToken(token).isAuthorized(`Bearer ${token}`)).toBe(true);
  });

  it.each([undefined, '', token, `Bearer ${token}x`, `Basic ${token}`, 'Bearer '])('rejects %p', (header) => {
    expect(withToken(token).isAuthorized(header)).toBe(false);
  });

  it('shows details to nobody when no token is configured', () => {
    expect(withToken(undefined).isAuthorized('Bearer anything')).toBe(false);
  });
});

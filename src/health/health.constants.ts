/** Names a check may have: they become URL path segments. */
export const CHECK_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** Names taken by the probe routes themselves (health.controller.ts). */
export const RESERVED_CHECK_NAMES = ['live', 'ready', 'startup'];

export const HEALTH_MESSAGES = {
  unknownCheck: (name: string) => `unknown health check '${name}'`,
  unknownExclude: (names: string[]) => `unknown health check in exclude: ${names.join(', ')}`,
  stale: 'stale',
  pending: 'pending',
  timeout: 'timeout',
} as const;

/** Name of the bearer scheme for HEALTH_DETAILS_TOKEN in the OpenAPI document. */
export const HEALTH_DETAILS_SECURITY = 'health-details';

/** Name of the bearer scheme for HEALTH_PEERS_TOKEN in the OpenAPI document. */
export const PEERS_SECURITY = 'health-peers';

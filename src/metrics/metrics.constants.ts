/** Series names of this module's collectors (Redis and PostgreSQL name their own), shared with the tests and docs/OBSERVABILITY.md. */
export const METRIC_NAMES = {
  httpDuration: 'http_request_duration_seconds',
  checkStatus: 'health_check_status',
  checkDuration: 'health_check_duration_seconds',
  checkLastChange: 'health_check_last_change_timestamp_seconds',
  checkSharedOutage: 'health_check_shared_outage',
  logLinesDropped: 'log_lines_dropped_total',
} as const;

/** `route` label of requests no route matched (a 404 from the router): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Request-duration buckets, in seconds. Probes answer from memory in well
 * under a millisecond, job requests in a few: the low buckets are dense.
 */
export const HTTP_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const METRICS_MESSAGES = {
  disabled: 'metrics are disabled (METRICS_ENABLED=false)',
} as const;

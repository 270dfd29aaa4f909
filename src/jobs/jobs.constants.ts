/** Every status a job can have, in lifecycle order. */
export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a PATCH may ask for (`pending` is only ever the initial status). */
export const JOB_TARGET_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type JobTargetStatus = (typeof JOB_TARGET_STATUSES)[number];

export const JOBS_LIST_DEFAULT_LIMIT = 20;
export const JOBS_LIST_MAX_LIMIT = 100;
export const JOB_TYPE_MAX_LENGTH = 128;
export const JOB_ERROR_MAX_LENGTH = 4096;
export const JOB_CURSOR_MAX_LENGTH = 256;

/** OpenAPI schema of "any JSON value" (a job's `result`). */
export const ANY_JSON_SCHEMA = {
  oneOf: [
    { type: 'object', additionalProperties: true },
    { type: 'array', items: {} },
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
  ],
};

/** Messages that clients (and tests) see. Each 4xx names the field at fault. */
export const JOBS_MESSAGES = {
  notFound: (id: string) => `job ${id} not found`,
  invalidTransition: (current: string, target: string) =>
    `invalid status transition: current status is ${current}, cannot change to ${target}`,
  storeUnavailable: 'job store unavailable',
  invalidId: 'id must be a UUID v4',
  invalidCursor: 'cursor is invalid',
  bodyNotObject: 'body must be a JSON object',
  payloadNotObject: 'payload must be a JSON object',
  typeBlank: 'type must not be blank',
  errorShape: 'error must be a string or a JSON object',
  resultNeedsSucceeded: 'result is only allowed when status is succeeded',
  errorNeedsFailed: 'error is only allowed when status is failed',
  unknownField: (field: string) => `property ${field} should not exist`,
  moreUnknownFields: (count: number) => `and ${count} more unknown properties`,
} as const;

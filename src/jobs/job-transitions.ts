import { JOB_STATUSES, JobStatus } from './jobs.constants';

/**
 * The job lifecycle: for each status, the statuses it may move to.
 * pending → running → succeeded | failed, and pending → failed (a job that
 * could not even start). Finished jobs never change again.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ['running', 'failed'],
  running: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** The statuses from which `to` may be reached (what the update script checks atomically). */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}

/** Finished jobs (no way out) are the ones that expire after the retention period. */
export function isTerminal(status: JobStatus): boolean {
  return JOB_TRANSITIONS[status].length === 0;
}

/** True when `path` starts at `pending` and every step is an allowed transition. */
export function isValidPath(path: readonly JobStatus[]): boolean {
  if (path[0] !== 'pending') return false;
  return path.every((status, i) => i === 0 || canTransition(path[i - 1], status));
}

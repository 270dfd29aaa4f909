import { JOB_STATUSES, JobStatus } from './jobs.constants';
import { canTransition, isTerminal, isValidPath, sourcesOf } from './job-transitions';

describe('job transitions', () => {
  const allowed: [JobStatus, JobStatus][] = [
    ['pending', 'running'],
    ['pending', 'failed'],
    ['running', 'succeeded'],
    ['running', 'failed'],
  ];

  it('allows exactly the four lifecycle transitions', () => {
    const all = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to): [JobStatus, JobStatus] => [from, to]));

    const permitted = all.filter(([from, to]) => canTransition(from, to));

    expect(permitted).toEqual(allowed);
  });

  it('never allows a status to transition to itself', () => {
    for (const status of JOB_STATUSES) expect(canTransition(status, status)).toBe(false);
  });

  it('lists the sources of each target status', () => {
    expect(sourcesOf('running')).toEqual(['pending']);
    expect(sourcesOf('succeeded')).toEqual(['running']);
    expect(sourcesOf('failed')).toEqual(['pending', 'running']);
    expect(sourcesOf('pending')).toEqual([]);
  });

  it('treats only succeeded and failed as terminal', () => {
    expect(JOB_STATUSES.filter(isTerminal)).toEqual(['succeeded', 'failed']);
  });

  it.each<[JobStatus[], boolean]>([
    [['pending'], true],
    [['pending', 'running'], true],
    [['pending', 'running', 'succeeded'], true],
    [['pending', 'failed'], true],
    [['pending', 'running', 'failed'], true],
    [[], false],
    [['running'], false],
    [['pending', 'succeeded'], false],
    [['pending', 'running', 'running'], false],
    [['pending', 'failed', 'running'], false],
    [['pending', 'running', 'succeeded', 'failed'], false],
  ])('judges %j as a valid path: %s', (path, expected) => {
    expect(isValidPath(path)).toBe(expected);
  });
});

import { isStoreUnavailable } from './job-store';

/** A reply error as ioredis raises it (redis-errors' ReplyError is named 'ReplyError'). */
function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

describe('isStoreUnavailable', () => {
  it.each([
    ['a command timeout', new Error('Command timed out')],
    ['the offline queue being disabled', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a closed connection', new Error('Connection is closed.')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['Redis loading its dataset', replyError('LOADING Redis is loading the dataset in memory')],
    ['a busy script', replyError('BUSY Redis is busy running a script.')],
    ['a read-only replica', replyError("READONLY You can't write against a read only replica.")],
    ['out of memory', replyError('OOM command not allowed when used memory > maxmemory.')],
    ['a lost password', replyError('NOAUTH Authentication required.')],
  ])('treats %s as unavailable (503)', (_label, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it.each([
    ['a script error', replyError('ERR user_script:3: attempt to compare nil with number')],
    ['a wrong key type', replyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
  ])('treats %s as a defect (500), not as unavailability', (_label, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
  });
});

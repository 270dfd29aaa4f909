import { BootSignals } from './boot-signals';

describe('BootSignals', () => {
  it('holds the first signal until released, then leaves signals to others', () => {
    const before = process.listenerCount('SIGTERM');
    const beforeInt = process.listenerCount('SIGINT');
    const boot = new BootSignals();
    try {
      expect(process.listenerCount('SIGTERM')).toBe(before + 1);
      expect(boot.received).toBeUndefined();
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGINT', 'SIGINT');
      expect(boot.received).toBe('SIGTERM');
    } finally {
      boot.release();
    }
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(process.listenerCount('SIGINT')).toBe(beforeInt);
  });
});

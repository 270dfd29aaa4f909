import { ShutdownGate } from './shutdown-gate';

describe('ShutdownGate', () => {
  const CLOSED_AT = Date.UTC(2030, 0, 1, 12, 0, 0);

  beforeEach(() => {
    jest.useFakeTimers({ now: CLOSED_AT });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('starts open, with no closing time', () => {
    const gate = new ShutdownGate();

    expect(gate.shuttingDown).toBe(false);
    expect(gate.closedAt).toBeNull();
  });

  it('says the process is shutting down once closed, and when it closed', () => {
    const gate = new ShutdownGate();

    const closed = gate.close();

    expect(closed).toBe(true);
    expect(gate.shuttingDown).toBe(true);
    expect(gate.closedAt).toBe(CLOSED_AT);
  });

  it('reports a second close as a no-op and keeps the first closing time', () => {
    const gate = new ShutdownGate();
    gate.close();
    jest.advanceTimersByTime(5000);

    const closedAgain = gate.close();

    expect(closedAgain).toBe(false);
    expect(gate.shuttingDown).toBe(true);
    expect(gate.closedAt).toBe(CLOSED_AT);
  });
});

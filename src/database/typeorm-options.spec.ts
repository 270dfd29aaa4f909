import { PoolClient } from './typeorm-options';

describe('PoolClient', () => {
  it("handles an 'error' its server sends at any moment, so it cannot become an uncaught exception", () => {
    const client = new PoolClient({});
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    expect(() => client.emit('error', terminated)).not.toThrow();
  });
});

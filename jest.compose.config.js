/**
 * `npm run test:compose`: the compose stack in a real Docker engine
 * (test/compose/). Its own config, so `npm test` keeps running without Docker.
 */
module.exports = {
  displayName: 'compose',
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/compose/**/*.compose-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
  globalSetup: '<rootDir>/test/compose/global-setup.ts',
  testTimeout: 120_000,
  slowTestThreshold: 60,
  verbose: true,
};

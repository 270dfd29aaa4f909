/**
 * Two projects: unit specs next to the code (mocks allowed) and e2e/fault
 * specs in test/ that talk to real redis-server and PostgreSQL processes the
 * harness starts on free loopback ports (see test/support/).
 */
// Transpile only (fast); `npm run typecheck` runs the type checker over src, test and bench.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.spec.json' }];

module.exports = {
  testTimeout: 60_000,
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/main.ts'],
  coverageDirectory: 'coverage',
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { global: { lines: 85 } },
  projects: [
    {
      displayName: 'unit',
      rootDir: '.',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      setupFiles: ['<rootDir>/test/support/unit-setup.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      rootDir: '.',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/e2e-setup.ts'],
      transform: { '^.+\\.ts$': tsJest },
      slowTestThreshold: 30,
    },
  ],
};

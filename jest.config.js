/** Unit tests need nothing running; integration and e2e tests use the local stack (scripts/stack.sh). */
const base = {
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  moduleNameMapper: { '^ferry$': '<rootDir>/src/index.ts', '^ferry/testing$': '<rootDir>/src/mapping/testing.ts' },
  testEnvironment: 'node',
  // The stack's cache holds downloaded sources (Go modules among them) with files jest would index.
  modulePathIgnorePatterns: ['<rootDir>/.stack/', '<rootDir>/dist/'],
};

module.exports = {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/mappings/**/*.test.ts'],
    },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};

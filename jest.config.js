/**
 * Unit tests run without any server; integration tests share one local cloud started by globalSetup, except
 * the self-contained ones, which start the servers they need on ports of their own and so have a project
 * without that globalSetup (`npx jest tests/integration/edgeS3.test.ts` starts no shared cloud).
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }];
const SELF_CONTAINED = [
  'tests/integration/edgeS3.test.ts',
  'tests/integration/restart.test.ts',
  'tests/integration/faults.test.ts',
  'tests/integration/smtpMailer.test.ts',
  'tests/integration/doctor.test.ts',
  'tests/integration/archive.test.ts',
  'tests/integration/postgresArchive.test.ts',
];

module.exports = {
  // Integration tests wait for executions; jest reads this only at the top level, not per project.
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/tests/noSkippedTestsInCi.js'],
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...SELF_CONTAINED.map((file) => `<rootDir>/${file.replace(/\./g, '\\.')}$`)],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      globalSetup: '<rootDir>/tests/integration/globalSetup.ts',
      globalTeardown: '<rootDir>/tests/integration/globalTeardown.ts',
    },
    {
      displayName: 'integration-self-contained',
      testMatch: SELF_CONTAINED.map((file) => `<rootDir>/${file}`),
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
  ],
};

/**
 * Unit tests run everywhere with no broker; integration tests (`*.int.test.ts`) share one local Kafka broker, a
 * local MSK twin (its plaintext listener is KAFKA_BROKERS; tests of IAM sign-in and ACLs use its IAM listener).
 * Fault tests (`*.faults.test.ts`) start their own three-broker clusters: `npm run test:faults`.
 */
const transform = { '^.+\\.tsx?$': 'ts-jest' };

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test', '<rootDir>/packages'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/fixtures/', '\\.int\\.test\\.ts$', '\\.faults\\.test\\.ts$'],
      setupFiles: ['<rootDir>/test/setup-unit-env.ts'],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test', '<rootDir>/packages'],
      testMatch: ['**/*.int.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/fixtures/'],
      transform,
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};

/**
 * Fault tests (`npm run test:faults`): each file starts its own three-broker local Kafka on its own ports and
 * kills, stops or pauses brokers and clients. One file at a time: three brokers per file fill a 2-core runner.
 */
module.exports = {
  projects: [
    {
      displayName: 'faults',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/faults'],
      testMatch: ['**/*.faults.test.ts'],
      transform: { '^.+\\.tsx?$': 'ts-jest' },
      globalSetup: '<rootDir>/test/faults/global-setup.ts',
    },
  ],
  maxWorkers: 1,
};

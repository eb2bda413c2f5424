/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/bench/'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  // Some dependencies ship only ES modules; let swc turn them into CommonJS too.
  transformIgnorePatterns: [
    '/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|jsonpath-plus|cookie)/)',
  ],
  // Tests run against the TypeScript sources, not the built output.
  moduleNameMapper: { '^@tether/([a-z-]+)$': '<rootDir>/packages/$1/src' },
};

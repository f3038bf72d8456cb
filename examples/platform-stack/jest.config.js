// The example's tests: TypeScript through @swc/jest (type checking is `npm run typecheck`), cdktf's Testing matchers.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  setupFilesAfterEnv: ['<rootDir>/test/setup.js'],
  testTimeout: 60000,
};

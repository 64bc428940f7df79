// Jest projects keep tests apart by what they need (STYLE.md): pure units, DynamoDB Local,
// the real ASL with the real handlers, the HTTP app, and CDK templates.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
const shared = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose, ulid and json-schema-ref-parser (openapi-backend's, for the fake Fly API) ship ESM only; swc turns them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(jose|ulid|@apidevtools/json-schema-ref-parser)/)'],
  setupFiles: ['<rootDir>/test/support/polyfills.ts'],
  testEnvironment: 'node',
};
const project = (name, extra = {}) => ({
  ...shared,
  displayName: name,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});
const needsDynamo = { globalSetup: '<rootDir>/test/support/dynamo-global-setup.ts', globalTeardown: '<rootDir>/test/support/dynamo-global-teardown.ts' };

/** @type {import('jest').Config} */
module.exports = {
  // A harness starts DynamoDB Local tables, the Step Functions endpoint (validating six state
  // machines) and a provider; on a loaded shared machine that alone can pass Jest's 5 s default.
  testTimeout: 30_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    project('unit'),
    project('workflow', needsDynamo),
    // The same workflow suites once more, on the Fly adapter against the spec-faithful fake Fly API.
    project('workflow', { ...needsDynamo, displayName: 'workflow-fly', setupFiles: [...shared.setupFiles, '<rootDir>/test/support/provider-fly.ts'] }),
    project('contract'),
    project('api', needsDynamo),
    project('cdk'),
  ],
};

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
  // Jest's default is one worker fewer than the cores: one worker on a 2-core machine, so every file ran
  // after the other while the CPU idled on DynamoDB Local, Step Functions waits and machine processes.
  // Two workers keep both cores busy; the suite is parallel-safe (a table, provider root and ports per file).
  maxWorkers: Math.max(2, require('node:os').availableParallelism()),
  // A whole local stack (table, Step Functions endpoint, API) starts in a couple of seconds alone and
  // takes longer on a busy 2-core machine; 5 s made hooks time out there, and a timed-out hook leaves
  // its stack running, so Jest never exits. Waits inside tests are for events, never for this long.
  testTimeout: 30_000,
  // CI must end even if a test leaks a server or a timer: Jest still prints the open-handle warning
  // (fix the leak), but exits instead of waiting for CI's limit.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    project('unit'),
    project('workflow', needsDynamo),
    // The same workflow suites once more, on the Fly adapter against the spec-faithful fake Fly API.
    project('workflow', { ...needsDynamo, displayName: 'workflow-fly', setupFiles: [...shared.setupFiles, '<rootDir>/test/support/provider-fly.ts'] }),
    project('contract'),
    // The store's primitives against DynamoDB Local: what a lost condition or a conflict decodes to.
    project('store', needsDynamo),
    // kill -9 at random points, restart, converge: the self-healing guarantee, checked from outside.
    project('convergence', needsDynamo),
    // The same, on the Fly adapter against the fake Fly with its real behaviours on (fewer seeds and runs).
    project('convergence', { ...needsDynamo, displayName: 'convergence-fly', setupFiles: [...shared.setupFiles, '<rootDir>/test/support/provider-fly.ts'] }),
    project('api', needsDynamo),
    // The CLI in-process against a whole local stack.
    project('cli', needsDynamo),
    // The operator console in the Chromium npm installs (@sparticuz/chromium, via playwright-core), against a whole local stack.
    project('browser', needsDynamo),
    project('cdk'),
  ],
};

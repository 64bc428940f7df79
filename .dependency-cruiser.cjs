/**
 * Import rules checked by `npm run lint:deps` (part of `npm test`, so CI enforces them):
 * dependencies point one way (infra may import lambdas, never the reverse) and a Lambda bundle
 * holds only what its handler needs — never the local provider, which only the local runtime uses.
 */
/** Lambda handler entry points (every catalog entry lives under these). */
const HANDLERS = '^lambdas/(api/handler|operations/[^/]+/handlers/[^/]+|sweeps/[^/]+/handler|events/[^/]+)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lambdas-never-import-infra',
      comment: 'Runtime code must not depend on deploy code: infra/ imports lambdas/, never the reverse.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^infra/' },
    },
    {
      name: 'handlers-never-reach-the-local-provider',
      comment: 'The local provider runs only in the local runtime; a Lambda bundle must not carry it.',
      severity: 'error',
      from: { path: HANDLERS },
      to: { path: '^lambdas/providers/local/', reachable: true },
    },
    {
      name: 'tests-and-tools-stay-out-of-lambdas',
      comment: 'Test support and benchmarks are not runtime code.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'runtime-never-imports-its-clients',
      comment: 'The console and the CLI call the API; the API (and infra) never import them (the console ships as built assets).',
      severity: 'error',
      from: { path: '^(lambdas|infra)/' },
      to: { path: '^(cli|console)/' },
    },
    {
      name: 'aws-sdk-only-below-the-use-cases',
      comment:
        'Use cases, views, sweeps and the API never talk to AWS directly: DynamoDB goes through lambdas/store/ (which owns keys, conditional writes and the decoding of lost conditions), ' +
        'Step Functions, EventBridge and Secrets Manager through lambdas/adapters/; the composition root builds the clients and a provider may read its secret.',
      severity: 'error',
      from: { path: '^lambdas/', pathNot: '^lambdas/(store|adapters|composition|providers)/' },
      to: { path: '^node_modules/@aws-sdk/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The root node_modules stays in the graph as leaves (doNotFollow), so rules can name packages
    // (aws-sdk-only-below-the-use-cases); a node_modules nested in a cruised folder is left out.
    exclude: { path: '^(lambdas|infra|test|bench|cli|console|client)/.*node_modules/|^cdk[.]out/|^test/cli/independent-client/generated/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

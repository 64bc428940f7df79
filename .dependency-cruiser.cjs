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
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^cdk[.]out/|^test/cli/independent-client/generated/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

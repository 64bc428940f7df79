/**
 * Loads every synthesized Lambda bundle (what `cdk deploy` uploads) and invokes it: a bundle that
 * crashes on load, or whose handler cannot even refuse a bad input, fails here rather than on AWS.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { FUNCTION_CATALOG } from '../../infra/function-catalog';
import { workflowsInvoking } from '../../infra/workflows';
import { synthesize, type Synthesized } from './support/synth';

const execFileAsync = promisify(execFile);
let synth: Synthesized;
let outdir: string;

/** The bundle directory of a catalog function in the cloud assembly. */
function bundleDir(functionId: string): string {
  const fn = synth.orchestration.functions[functionId]!;
  const logicalId = synth.orchestration.getLogicalId(fn.node.defaultChild as never);
  const resource = synth.orchestrationTemplate.toJSON().Resources[logicalId] as { Properties: { Code: { S3Key: string } } };
  // The asset's S3 key is `<hash>.zip`; the synthesized bundle sits in `asset.<hash>/`.
  return path.join(outdir, `asset.${resource.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
}

/** Configuration a deployed function gets, with a throwaway inline key set for the API's verifier. */
const ENV = {
  TABLE_NAME: 'slipway-bundle-test',
  AWS_REGION: 'eu-west-1',
  JWT_ISSUER: 'https://issuer.example.com/',
  JWT_AUDIENCE: 'slipway',
  JWT_PUBLIC_JWKS: JSON.stringify({ keys: [] }),
  POWERTOOLS_SERVICE_NAME: 'slipway',
  LOG_LEVEL: 'ERROR',
  TRACING: 'xray',
};

/** An API Gateway HTTP API (payload v2) event. */
function httpEvent(method: string, rawPath: string, headers: Record<string, string> = {}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers,
    requestContext: { http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'jest' }, requestId: 'req-1', stage: '$default', timeEpoch: Date.now() },
    isBase64Encoded: false,
  };
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RUNNER = path.join(__dirname, 'support', 'invoke-bundle.cjs');

/** What one invocation of a bundle in its own Node process gave. */
interface Invocation {
  loadError?: { name: string; message: string };
  error?: { name: string; message: string };
  result?: { statusCode: number; body: string };
}

/** Invoke a bundle in a fresh Node process with the deployed environment, as the Lambda runtime would. */
async function invoke(functionId: string, event: unknown): Promise<Invocation> {
  const { stdout } = await execFileAsync(process.execPath, [RUNNER, path.join(bundleDir(functionId), 'index.js'), JSON.stringify(event)], {
    env: { PATH: process.env.PATH, NODE_PATH: path.join(REPO_ROOT, 'node_modules'), NODE_OPTIONS: '--enable-source-maps', ...ENV },
  });
  return JSON.parse(stdout) as Invocation;
}

/** Each step bundle's answer to an invalid input, started together in beforeAll (each is a cold Node process). */
const refusals = new Map<string, Promise<Invocation>>();

/** Run `tasks` with at most `limit` at a time; each result is its own promise. */
function limited<T>(tasks: Array<() => Promise<T>>, limit: number): Array<Promise<T>> {
  let running = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    running -= 1;
    queue.shift()?.();
  };
  return tasks.map(
    (task) =>
      new Promise<T>((resolve, reject) => {
        const run = () => {
          running += 1;
          task().then(resolve, reject).finally(next);
        };
        if (running < limit) run();
        else queue.push(run);
      }),
  );
}

beforeAll(() => {
  synth = synthesize();
  outdir = synth.outdir;
  const steps = FUNCTION_CATALOG.filter((fn) => fn.id !== 'Api').map((fn) => fn.id);
  const answers = limited(
    steps.map((id) => () => invoke(id, { not: 'a step input' })),
    Math.max(2, availableParallelism()),
  );
  // Each test awaits its own answer; a failure is reported there, not as an unhandled rejection first.
  answers.forEach((answer) => answer.catch(() => undefined));
  steps.forEach((id, i) => refusals.set(id, answers[i]!));
});

describe('the synthesized API bundle', () => {
  it('answers GET /healthz with 200', async () => {
    const invocation = await invoke('Api', httpEvent('GET', '/healthz'));

    expect(invocation.result?.statusCode).toBe(200);
    expect(JSON.parse(invocation.result?.body ?? '{}')).toEqual({ status: 'ok' });
  });

  it('answers a request without a token with 401 problem details', async () => {
    const invocation = await invoke('Api', httpEvent('GET', '/v1/instances'));

    expect(invocation.result?.statusCode).toBe(401);
    expect(JSON.parse(invocation.result?.body ?? '{}')).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it.each([
    ['/openapi.json', 'application/json'],
    ['/console', 'text/html'],
  ])('serves %s from the file shipped beside the bundle', async (rawPath, type) => {
    const invocation = await invoke('Api', httpEvent('GET', rawPath, { 'accept-encoding': 'identity' }));
    const result = invocation.result as { statusCode: number; body: string; headers?: Record<string, string> } | undefined;

    expect(result?.statusCode).toBe(200);
    expect(result?.headers?.['content-type']).toContain(type);
    expect(result?.body.length).toBeGreaterThan(500);
  });
});

describe.each(FUNCTION_CATALOG.filter((fn) => fn.id !== 'Api').map((fn) => fn.id))('the synthesized %s bundle', (functionId) => {
  it('loads and refuses an invalid input with a named validation error', async () => {
    const invocation = await refusals.get(functionId)!;

    expect(invocation).toMatchObject({ error: { name: 'InvalidStepInput' } });
  });
});

describe('table access', () => {
  /** Which DocumentClient command needs which IAM action. */
  const COMMAND_ACTIONS: Record<string, string> = {
    GetCommand: 'GetItem',
    QueryCommand: 'Query',
    UpdateCommand: 'UpdateItem',
    PutCommand: 'PutItem',
    DeleteCommand: 'DeleteItem',
    ScanCommand: 'Scan',
    BatchGetCommand: 'BatchGetItem',
    BatchWriteCommand: 'BatchWriteItem',
  };

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('declares every table command the %s bundle can send', (id, fn) => {
    const code = readFileSync(path.join(bundleDir(id), 'index.js'), 'utf8');
    const needed = Object.entries(COMMAND_ACTIONS).filter(([command]) => new RegExp(`\\b${command}\\b`).test(code)).map(([, action]) => action);

    expect(needed.filter((action) => !(fn.permissions.table as readonly string[]).includes(action))).toEqual([]);
  });
});

describe('bundle sizes', () => {
  it('keeps every step bundle within 320 KB, and the API and the sweep functions within 500 KB', () => {
    const sizes = FUNCTION_CATALOG.map((fn) => [fn.id, statSync(path.join(bundleDir(fn.id), 'index.js')).size] as const);
    const tooBig = sizes.filter(([id, size]) => size > (workflowsInvoking(id).length > 0 ? 320 : 500) * 1024);

    expect(tooBig).toEqual([]);
  });

  it('ships a lean source map with every bundle (mappings, no sources), so stack traces point at the TypeScript', () => {
    const problems = FUNCTION_CATALOG.flatMap((fn) => {
      const dir = bundleDir(fn.id);
      const map = JSON.parse(readFileSync(path.join(dir, 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown[]; mappings: string };
      return [
        ...(readFileSync(path.join(dir, 'index.js'), 'utf8').includes('sourceMappingURL=index.js.map') ? [] : [`${fn.id}: no sourceMappingURL`]),
        ...(map.sources.some((source) => source.includes('lambdas/')) && map.mappings.length > 0 ? [] : [`${fn.id}: the map names no slipway source`]),
        ...(map.sourcesContent === undefined || map.sourcesContent.every((content) => content === null) ? [] : [`${fn.id}: the map carries the sources`]),
      ];
    });

    expect(problems).toEqual([]);
  });

  it('ships nothing but the bundle, its map and the files its catalog entry names (no esbuild metafile)', () => {
    const extra = FUNCTION_CATALOG.flatMap((fn) => {
      const expected = new Set(['index.js', 'index.js.map', ...(fn.files ?? []).map((file) => path.basename(file))]);
      return readdirSync(bundleDir(fn.id)).filter((name) => !expected.has(name)).map((name) => `${fn.id}: ${name}`);
    });

    expect(extra).toEqual([]);
  });
});

describe('test-only dependencies', () => {
  // The browser tests' Chromium (tens of MB) and its driver are dev dependencies: no bundle may reach them.
  const TEST_ONLY = ['@sparticuz/chromium', 'playwright-core'];

  it('keeps the browser and its driver dev dependencies', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

    expect(TEST_ONLY.filter((name) => name in manifest.dependencies || !(name in manifest.devDependencies))).toEqual([]);
  });

  /** The source files esbuild put into a bundle (the bundle is minified, so its own text names none). */
  function bundledSources(id: string): string[] {
    const map = path.join(bundleDir(id), 'index.js.map');
    if (existsSync(map)) return (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources;
    const meta = path.join(bundleDir(id), 'index.meta.json');
    if (existsSync(meta)) return Object.keys((JSON.parse(readFileSync(meta, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
    throw new Error(`the ${id} bundle ships neither a source map nor a metafile: say here how to read what it contains`);
  }

  it.each(FUNCTION_CATALOG.map((fn) => fn.id))('keeps them out of the %s bundle', (id) => {
    const sources = bundledSources(id);

    expect(sources.some((source) => source.includes('node_modules/zod/'))).toBe(true);
    expect(sources.filter((source) => TEST_ONLY.some((name) => source.includes(`node_modules/${name}/`)))).toEqual([]);
  });
});

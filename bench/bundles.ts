/**
 * Bundle sizes and load times: every catalog function bundled as `cdk synth` bundles it (esbuild,
 * minified, source map, @aws-sdk/* left to the runtime), then loaded in a fresh Node process the way
 * the runtime does (`require('./index.js')`, the SDK on NODE_PATH), ten times; the median counts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { FUNCTION_CATALOG } from '../infra/function-catalog';
import { summarize } from './stats';

const REPO_ROOT = path.resolve(__dirname, '..');
const LOADS = 10;
/** Configuration the handlers read at load (the API verifies tokens against an inline key set). */
const ENV = {
  TABLE_NAME: 'bench',
  AWS_REGION: 'eu-west-1',
  JWT_ISSUER: 'https://issuer.example.com/',
  JWT_AUDIENCE: 'slipway',
  JWT_PUBLIC_JWKS: '{"keys":[]}',
  NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
  PATH: process.env.PATH ?? '',
};

/** One function's figures. */
export interface BundleFigures {
  id: string;
  bytes: number;
  loadMsP50: number;
}

/** Median wall time of `node -e <script>` over `LOADS` runs. */
function medianRun(script: string): number {
  const times: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const start = performance.now();
    execFileSync(process.execPath, ['-e', script], { env: ENV, stdio: 'ignore' });
    times.push(performance.now() - start);
  }
  return summarize(times).p50;
}

/** Bundle and time every catalog function; also how long an empty Node process takes to start. */
export function bundles(): { functions: BundleFigures[]; nodeStartMsP50: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bundles-'));
  try {
    const nodeStartMsP50 = medianRun('');
    const functions = FUNCTION_CATALOG.map((fn) => {
      const outfile = path.join(dir, fn.id, 'index.js');
      buildSync({
        entryPoints: [path.join(REPO_ROOT, fn.entry)],
        bundle: true,
        minify: true,
        sourcemap: true,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        external: ['@aws-sdk/*'],
        outfile,
        logLevel: 'error',
      });
      return { id: fn.id, bytes: statSync(outfile).size, loadMsP50: medianRun(`require(${JSON.stringify(outfile)})`) };
    });
    return { functions, nodeStartMsP50 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

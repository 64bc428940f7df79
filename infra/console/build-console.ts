/**
 * The operator console's build: `console/src` (TypeScript, CSS, the page) bundled by esbuild into
 * one script and one stylesheet, dagre included from node_modules (no CDN), each named by its
 * content hash, gzip-compressed into `lambdas/api/console/assets.json`, which the API serves. Run
 * by `npm run build:console`; a unit test keeps the committed file equal to what this builds.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOURCE = path.join(REPO_ROOT, 'console', 'src');

/** Where the built assets are committed (the API imports them). */
export const CONSOLE_ASSETS_FILE = path.join(REPO_ROOT, 'lambdas', 'api', 'console', 'assets.json');

/** One built file, uncompressed. */
export interface ConsoleFile {
  /** The URL path the API serves it at. */
  path: string;
  type: string;
  immutable: boolean;
  content: string;
}

function bundle(entry: string, loader: 'ts' | 'css'): string {
  const result = buildSync({
    entryPoints: [path.join(SOURCE, entry)],
    bundle: true,
    minify: true,
    write: false,
    format: loader === 'ts' ? 'iife' : undefined,
    platform: 'browser',
    target: ['chrome111', 'firefox114', 'safari16.4'],
    legalComments: 'eof',
    logLevel: 'error',
    charset: 'utf8',
  });
  return result.outputFiles[0]!.text;
}

const hashOf = (content: string) => createHash('sha256').update(content).digest('hex').slice(0, 12);

/** Build the console's files. */
export function buildConsoleFiles(): ConsoleFile[] {
  const js = bundle('main.ts', 'ts');
  const css = bundle('console.css', 'css');
  const jsPath = `/console/assets/app-${hashOf(js)}.js`;
  const cssPath = `/console/assets/app-${hashOf(css)}.css`;
  const page = readFileSync(path.join(SOURCE, 'index.html'), 'utf8').replace('{{js}}', jsPath).replace('{{css}}', cssPath);
  return [
    { path: '/console', type: 'text/html; charset=utf-8', immutable: false, content: page },
    { path: jsPath, type: 'text/javascript; charset=utf-8', immutable: true, content: js },
    { path: cssPath, type: 'text/css; charset=utf-8', immutable: true, content: css },
  ];
}

/** The assets file's text: every file gzip-compressed (base64), with its uncompressed size. */
export function renderConsoleAssets(files: ConsoleFile[] = buildConsoleFiles()): string {
  const entries = Object.fromEntries(
    files.map((file) => [file.path, { type: file.type, immutable: file.immutable, bytes: Buffer.byteLength(file.content), gzip: gzipSync(file.content, { level: 9 }).toString('base64') }]),
  );
  return `${JSON.stringify({ generatedBy: 'npm run build:console (from console/src); do not edit', files: entries }, null, 1)}\n`;
}

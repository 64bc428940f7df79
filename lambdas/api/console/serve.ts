/**
 * `GET /console` and its assets, served by the API itself in both worlds (no CDN). The page and
 * its script are built ahead (`npm run build:console`, from `console/`) into `assets.json`, gzip-
 * compressed so they add little to the Lambda bundle; browsers get them compressed as they are.
 * The page needs no token to load: every data call it makes goes to `/v1/admin` with the operator's
 * token, which it keeps in sessionStorage and never puts in a URL or the page.
 */
import { gunzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import type { ApiEnv } from '../auth';
import assets from './assets.json';

/** One built file. */
interface Asset {
  type: string;
  /** Immutable: its name carries its content hash. */
  immutable: boolean;
  /** The file, gzip-compressed, in base64. */
  gzip: string;
}

const FILES = (assets as { files: Record<string, Asset> }).files;

/**
 * What the page may do: only its own script, style and API; no inline code, no framing, no
 * referrer (the sign-in link's `#token=` fragment never leaves the browser anyway).
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** Decoded once per container, on first use. */
const decoded = new Map<string, { gzip: Uint8Array; plain?: Uint8Array }>();
function bytesOf(path: string): { gzip: Uint8Array; plain: () => Uint8Array } | undefined {
  const asset = FILES[path];
  if (!asset) return undefined;
  let entry = decoded.get(path);
  if (!entry) {
    entry = { gzip: new Uint8Array(Buffer.from(asset.gzip, 'base64')) };
    decoded.set(path, entry);
  }
  const cached = entry;
  return { gzip: cached.gzip, plain: () => (cached.plain ??= new Uint8Array(gunzipSync(cached.gzip))) };
}

/** Serve the console page and its assets. */
export function registerConsole(app: Hono<ApiEnv>): void {
  const serve = (path: string) => (c: { req: { header(name: string): string | undefined } }) => {
    const asset = FILES[path];
    const bytes = bytesOf(path);
    if (!asset || !bytes) return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    const gzip = /\bgzip\b/i.test(c.req.header('accept-encoding') ?? '');
    const headers: Record<string, string> = {
      'content-type': asset.type,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
      ...PAGE_HEADERS,
    };
    if (gzip) headers['content-encoding'] = 'gzip';
    const body = gzip ? bytes.gzip : bytes.plain();
    return new Response(body, { status: 200, headers });
  };
  app.get('/console', serve('/console'));
  app.get('/console/', serve('/console'));
  for (const path of Object.keys(FILES).filter((p) => p !== '/console')) app.get(path, serve(path));
}

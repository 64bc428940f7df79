/**
 * `GET /console` and its assets, served by the API itself in both worlds (no CDN). The page and
 * its script are built ahead (`npm run build:console`, from `console/`) into `assets.json`, gzip-
 * compressed and shipped beside the code (read on the first console request; `shipped-file.ts`);
 * browsers get them compressed as they are.
 * The page needs no token to load: every data call it makes goes to `/v1/admin` with the operator's
 * token, which it keeps in sessionStorage and never puts in a URL or the page.
 */
import type { Hono } from 'hono';
import type { ApiEnv } from '../auth';
import { compressedHandler, type CompressedAsset } from '../compressed';
import { shippedJson } from '../shipped-file';

const assets = shippedJson<{ files: Record<string, CompressedAsset> }>(__dirname, 'assets.json');

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

/** Serve the console page and its assets. */
export function registerConsole(app: Hono<ApiEnv>): void {
  const handlers = new Map<string, ReturnType<typeof compressedHandler>>();
  const serve = (path: string) => (c: Parameters<ReturnType<typeof compressedHandler>>[0] & { notFound(): Response | Promise<Response> }) => {
    const asset = assets().files[path];
    if (!asset) return c.notFound();
    if (!handlers.has(path)) handlers.set(path, compressedHandler(() => asset, PAGE_HEADERS));
    return handlers.get(path)!(c);
  };
  app.get('/console', serve('/console'));
  app.get('/console/', serve('/console'));
  app.get('/console/*', (c) => serve(c.req.path)(c));
}

/**
 * `GET /docs`: the OpenAPI document rendered by swagger-ui, served from the npm package
 * `swagger-ui-dist` (pinned in package.json), never from a CDN: it works offline, behind a strict
 * CSP, and cannot change under us. The assets ride on the same path (`/docs?asset=<file>`), so the
 * deployed API needs no route beyond `GET /docs`. The Lambda bundle gets the two files copied
 * beside it (the function catalog's `files`); the source tree reads them from node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';
import { RouteNotFoundError } from '../shared/errors/http';
import { negotiatedResponse, type EncodedBody } from './compressed';

/** The files of swagger-ui-dist the page loads. */
export const DOCS_ASSET_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;

/** What the page may do: its own scripts and styles (swagger-ui sets inline styles), its own API. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

// Relative URLs, so the page works under any base path: `?asset=` keeps the path `/docs`.
const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>slipway API</title>
    <link rel="stylesheet" type="text/css" href="?asset=swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="?asset=swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="?asset=init.js" charset="UTF-8"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: './openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** Where a swagger-ui-dist file is: beside the bundle (Lambda), or in node_modules (source tree). */
function assetPath(dir: string, file: string): string {
  const beside = path.join(dir, file);
  return existsSync(beside) ? beside : path.join(dir, '..', '..', 'node_modules', 'swagger-ui-dist', file);
}

/** The `/docs` handler; each file is read and compressed once per container, on first use. */
export function docsHandler(dir: string = __dirname) {
  const cache = new Map<string, EncodedBody>();
  const served = (type: string, read: () => Uint8Array): EncodedBody => {
    let plain: Uint8Array | undefined;
    let gzip: Uint8Array | undefined;
    const body: EncodedBody = { type, immutable: false, plain: () => (plain ??= read()), gzip: () => (gzip ??= new Uint8Array(gzipSync(body.plain()))) };
    return body;
  };
  const load = (name: string): EncodedBody | undefined => {
    const hit = cache.get(name);
    if (hit) return hit;
    let body: EncodedBody;
    if (name === 'page') body = served('text/html; charset=utf-8', () => new TextEncoder().encode(PAGE));
    else if (name === 'init.js') body = served('text/javascript; charset=utf-8', () => new TextEncoder().encode(INIT));
    else if ((DOCS_ASSET_FILES as readonly string[]).includes(name))
      body = served(name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', () => new Uint8Array(readFileSync(assetPath(dir, name))));
    else return undefined;
    cache.set(name, body);
    return body;
  };
  return async (c: Context): Promise<Response> => {
    const asset = c.req.query('asset');
    const body = load(asset ?? 'page');
    if (!body) throw new RouteNotFoundError('GET', `${c.req.path}?asset=${asset}`);
    return negotiatedResponse(c, body, PAGE_HEADERS);
  };
}

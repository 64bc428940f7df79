import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { OPENAPI_COMPRESSED_FILE, OPENAPI_FILE, renderOpenApiDocument } from '../../infra/openapi/document';
import { ROUTES } from '../../lambdas/api/routes';

describe('the OpenAPI document', () => {
  it('is committed exactly as the route definitions make it (run `npm run build:openapi` after changing routes)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApiDocument());
  });

  it('is bundled compressed exactly as committed readable (both written by `npm run build:openapi`)', () => {
    const compressed = JSON.parse(readFileSync(OPENAPI_COMPRESSED_FILE, 'utf8')) as { type: string; gzip: string };

    expect(compressed.type).toBe('application/json');
    expect(gunzipSync(Buffer.from(compressed.gzip, 'base64')).toString('utf8')).toBe(readFileSync(OPENAPI_FILE, 'utf8'));
  });

  it('documents every mounted route once', () => {
    const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));

    expect(documented.sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
  });
});

/**
 * The OpenAPI 3.1 document, generated from the route definitions the app mounts
 * (`lambdas/api/routes.ts`) with zod-to-openapi. Build-time only: `npm run build:openapi` writes it
 * to `lambdas/api/openapi.json`, which the API serves; a unit test keeps the file up to date.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RouteSpec } from '../../lambdas/api/route';
import { ROUTES } from '../../lambdas/api/routes';
import { problemSchema } from '../../lambdas/api/schemas';

/** Where the generated document is committed, readable. */
export const OPENAPI_FILE = path.resolve(__dirname, '..', '..', 'lambdas', 'api', 'openapi.json');
/** The same document gzip-compressed, which the API bundles and serves (a fifth of the size). */
export const OPENAPI_COMPRESSED_FILE = path.resolve(__dirname, '..', '..', 'lambdas', 'api', 'openapi.compressed.json');

/** The compressed copy's file text. */
export function renderCompressedOpenApi(document: string): string {
  return `${JSON.stringify({ generatedBy: 'npm run build:openapi; do not edit', type: 'application/json', immutable: false, gzip: gzipSync(document, { level: 9 }).toString('base64') }, null, 1)}\n`;
}

function register(registry: OpenAPIRegistry, route: RouteSpec): void {
  const request = route.request ?? {};
  registry.registerPath({
    method: route.method,
    path: route.path,
    summary: route.summary,
    ...(route.public ? {} : { security: [{ bearer: [] }] }),
    request: {
      ...(request.params ? { params: request.params as never } : {}),
      ...(request.query ? { query: request.query as never } : {}),
      ...(request.headers ? { headers: request.headers as never } : {}),
      ...(request.body ? { body: { required: !request.bodyOptional, content: { 'application/json': { schema: request.body } } } } : {}),
    },
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.problem
            ? { content: { 'application/problem+json': { schema: problemSchema } } }
            : response.schema
              ? { content: { 'application/json': { schema: response.schema } } }
              : {}),
        },
      ]),
    ),
  });
}

/** The document, as JSON text with a final newline. */
export function renderOpenApiDocument(): string {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const route of ROUTES) register(registry, route);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'slipway', version: '1', description: 'Control plane for compute instances.' },
  });
  return `${JSON.stringify(document, null, 2)}\n`;
}

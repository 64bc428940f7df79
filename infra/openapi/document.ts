/**
 * The OpenAPI 3.1 document, generated from the route definitions the app mounts
 * (`lambdas/api/routes.ts`) with zod-to-openapi. Build-time only: `npm run build:openapi` writes it
 * to `lambdas/api/openapi.json`, which the API serves; a unit test keeps the file up to date.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as z from 'zod';
import { problemsOf, type RouteSpec } from '../../lambdas/api/route';
import { PROBLEM_CODES, PROBLEM_EXTRAS, type ProblemCode } from '../../lambdas/api/problem';
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

/** Headers every response carries. */
const CORRELATION_HEADER = { 'x-correlation-id': { description: 'The request’s correlation id (the caller’s, or a new one): quote it when asking about the request', schema: { type: 'string' as const } } };

/** A problem response's schema: the Problem component, narrowed to the codes it may carry, with their extension members. */
function problemSchemaFor(codes: ProblemCode[]) {
  const extras = Object.assign({}, ...codes.map((code) => PROBLEM_EXTRAS[code] ?? {})) as z.ZodRawShape;
  const { $schema: _schema, ...narrowed } = z.toJSONSchema(z.object({ code: z.enum(codes as [ProblemCode, ...ProblemCode[]]), ...Object.fromEntries(Object.entries(extras).map(([name, schema]) => [name, (schema as z.ZodType).optional()])) }), { io: 'output' }) as Record<string, unknown>;
  const { additionalProperties: _open, ...rest } = narrowed;
  return { allOf: [{ $ref: '#/components/schemas/Problem' }, rest] };
}

/** The problem responses of a route, grouped by status (from the one mapping in problem.ts). */
function problemResponses(route: RouteSpec) {
  const byStatus = new Map<number, Array<[ProblemCode, string]>>();
  for (const [code, when] of Object.entries(problemsOf(route)) as Array<[ProblemCode, string]>) {
    const { status } = PROBLEM_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), [code, when]]);
  }
  return Object.fromEntries(
    [...byStatus.entries()].map(([status, entries]) => {
      const codes = entries.map(([code]) => code);
      const retries = codes.filter((code) => PROBLEM_CODES[code].retryAfterSeconds !== undefined);
      return [
        status,
        {
          description: entries.map(([code, when]) => `\`${code}\`: ${when}`).join('; '),
          headers: {
            ...CORRELATION_HEADER,
            ...(retries.length ? { 'retry-after': { description: `Seconds to wait before retrying (with ${retries.join(', ')})`, schema: { type: 'integer' as const, minimum: 1 } } } : {}),
            ...(status === 401 ? { 'www-authenticate': { description: 'Bearer', required: true, schema: { type: 'string' as const } } } : {}),
          },
          content: { 'application/problem+json': { schema: problemSchemaFor(codes) } },
        },
      ];
    }),
  );
}

function register(registry: OpenAPIRegistry, route: RouteSpec): void {
  const request = route.request ?? {};
  registry.registerPath({
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    summary: route.summary,
    security: route.public ? [] : [{ bearer: [] }],
    request: {
      ...(request.params ? { params: request.params as never } : {}),
      ...(request.query ? { query: request.query as never } : {}),
      ...(request.headers ? { headers: request.headers as never } : {}),
      ...(request.body ? { body: { required: !request.bodyOptional, content: { 'application/json': { schema: request.body } } } } : {}),
      // An action route takes no body, or `{}` (what many SDKs send on every POST): said so, so generated clients may send either.
      ...(!request.body && route.method === 'post' ? { body: { required: false, description: 'None, or an empty object', content: { 'application/json': { schema: { type: 'object' as const, maxProperties: 0, additionalProperties: false } } } } } : {}),
    },
    responses: {
      ...Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            headers: {
              ...CORRELATION_HEADER,
              ...Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, header]) => [name, { description: header.description, required: header.required ?? false, schema: { type: 'string' as const } }])),
            },
            ...(response.schema ? { content: { 'application/json': { schema: response.schema } } } : {}),
          },
        ]),
      ),
      ...problemResponses(route),
    },
  });
}

/** Names of fields that hold a timestamp (RFC 3339, as `Date.toISOString()` writes it): `at`, `…At`, `…Until`. */
const TIMESTAMP_FIELD = /^(at|[a-z][A-Za-z]*(At|Until))$/;

/**
 * What zod-to-openapi leaves to be said: timestamps' `format: date-time` (by the API's naming rule,
 * which a test checks against real answers), and a nullable `$ref`, which it writes as
 * `allOf: [$ref, {type: [object, null]}]` (null can never pass the `$ref`) instead of `anyOf`.
 */
function finish(node: unknown, key?: string): unknown {
  if (Array.isArray(node)) return node.map((item) => finish(item));
  if (node === null || typeof node !== 'object') return node;
  const object = node as Record<string, unknown>;
  const allOf = object.allOf as Array<Record<string, unknown>> | undefined;
  if (allOf?.length === 2 && typeof allOf[0]!.$ref === 'string' && Array.isArray(allOf[1]!.type) && (allOf[1]!.type as string[]).includes('null') && Object.keys(allOf[1]!).length === 1) {
    const { allOf: _allOf, ...rest } = object;
    return { ...rest, anyOf: [allOf[0], { type: 'null' }] };
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(object)) out[name] = name === 'properties' && value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([field, schema]) => [field, finish(schema, field)])) : finish(value);
  const type = out.type;
  if (key && TIMESTAMP_FIELD.test(key) && (type === 'string' || (Array.isArray(type) && type.includes('string'))) && out.format === undefined) out.format = 'date-time';
  return out;
}

/** The document, as JSON text with a final newline. */
export function renderOpenApiDocument(): string {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  // zod names the schema by its `id` metadata and puts it under $defs; the component is that definition.
  const problem = (z.toJSONSchema(problemSchema, { io: 'output' }) as { $defs: Record<string, unknown> }).$defs.Problem;
  registry.registerComponent('schemas', 'Problem', problem as never);
  for (const route of ROUTES) register(registry, route);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'slipway',
      version: '1',
      description: 'Control plane for compute instances.',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [{ url: '/', description: 'The deployment serving this document (API Gateway on AWS; `npm start` serves it on http://127.0.0.1:3000)' }],
    security: [{ bearer: [] }],
  });
  return `${JSON.stringify(finish(document), null, 2)}\n`;
}

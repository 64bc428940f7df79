import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { OPENAPI_COMPRESSED_FILE, OPENAPI_FILE, renderOpenApiDocument } from '../../infra/openapi/document';
import { ROUTES } from '../../lambdas/api/routes';
import { problemsOf } from '../../lambdas/api/route';
import { extensionsOf, PROBLEM_CODES, PROBLEM_EXTRAS, problemCodeOf as PROBLEM_CODE_OF } from '../../lambdas/api/problem';
import { MethodNotAllowedError, ValidationFailedError } from '../../lambdas/shared/errors/http';
import { InstanceBusyError, NameTakenError, ProviderMismatchError, QuotaExceededError } from '../../lambdas/shared/errors/refusals';

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

describe('what the document tells a generated client', () => {
  const document = () =>
    JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
      servers: unknown[];
      paths: Record<string, Record<string, { operationId: string; security: unknown[]; responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: { allOf?: Array<{ properties?: { code?: { enum: string[] } } }> } }> }> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
  const operations = () => Object.values(document().paths).flatMap((methods) => Object.values(methods));

  it('names every operation once, verb first', () => {
    const ids = ROUTES.map((route) => route.operationId);

    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(get|list|create|start|stop|restart|destroy|switch|run|settle|release|set|recover|delete|cancel)[A-Z][A-Za-z]+$/);
    expect(operations().map((op) => op.operationId).sort()).toEqual([...ids].sort());
  });

  it('lists each problem code under the status the API answers it with, with Retry-After where it has one', () => {
    for (const route of ROUTES) {
      const responses = document().paths[route.path]![route.method]!.responses;
      for (const [code, mapping] of Object.entries(problemsOf(route)).map(([code]) => [code, PROBLEM_CODES[code as keyof typeof PROBLEM_CODES]] as const)) {
        const response = responses[String(mapping.status)];
        const codes = response?.content?.['application/problem+json']?.schema.allOf?.[1]?.properties?.code?.enum;
        expect({ route: route.operationId, code, listed: codes?.includes(code) }).toEqual({ route: route.operationId, code, listed: true });
        if (mapping.retryAfterSeconds) expect(Object.keys(response!.headers ?? {})).toContain('retry-after');
      }
    }
  });

  it('documents the extension members every problem carries', () => {
    const samples = [
      new InstanceBusyError('i-1', 'i-1-stop-v1'),
      new NameTakenError('web', 'i-2'),
      new QuotaExceededError(5),
      new ValidationFailedError('x', [{ path: 'body.x', message: 'm' }]),
      new ProviderMismatchError('i-1', 'a', 'b'),
      new MethodNotAllowedError('PUT', '/healthz', ['GET']),
    ];
    for (const error of samples) {
      const extras = Object.keys(extensionsOf(error));
      const code = PROBLEM_CODE_OF(error);
      expect({ code, extras }).toEqual({ code, extras: expect.arrayContaining(extras) });
      expect(Object.keys(PROBLEM_EXTRAS[code] ?? {}).sort()).toEqual(extras.sort());
    }
  });

  it('keeps the public routes free of security, names a server, and types timestamps', () => {
    const doc = document();

    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.servers.length).toBeGreaterThan(0);
    expect(doc.components.schemas.Instance!.properties!.createdAt).toEqual({ type: 'string', format: 'date-time' });
    expect(doc.components.schemas.Admission!.properties!.instance).toEqual({ $ref: '#/components/schemas/Instance' });
    expect(doc.components.schemas.VolumeDeleted!.properties!.audit).toEqual({ anyOf: [{ $ref: '#/components/schemas/AuditRecord' }, { type: 'null' }] });
  });
});

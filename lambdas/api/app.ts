import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import { admissionResultSchema, admitProvision, provisionRequestSchema } from '../domain/admission';
import { getVisibleInstance, instancePageSchema, listInstances } from '../domain/instance-queries';
import { instanceViewSchema, toInstanceView } from '../domain/instance';
import { operationAcceptedSchema, requestOperation } from '../domain/lifecycle';
import { listOperations, operationsPageSchema } from '../domain/operations-history';
import type { LifecycleOperation } from '../domain/claims';
import type { Deps } from '../shared/deps';
import { ForbiddenError, OwnerNotFoundError, ValidationFailedError } from '../shared/errors';
import { mayActFor, ownersOf, requireScope, type ApiEnv, type Caller, type TokenVerifier } from './auth';
import { problemResponse } from './problem';
import { registerAdminRoutes } from './admin-routes';
import { idempotencyHeaderSchema, instanceIdParamSchema, listQuerySchema, ownerQuerySchema, problemResponse as problemDoc, problemResponses } from './schemas';

/** What the HTTP app needs. */
export interface ApiOptions {
  deps: Deps;
  verifyToken: TokenVerifier;
  /** Readiness of every part the API depends on; `/healthz` answers 200 only when true. */
  isReady?: () => Promise<boolean>;
}

function validationError(issues: z.core.$ZodIssue[]): ValidationFailedError {
  const details = issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
  return new ValidationFailedError(details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

/** Resolve which owner a request acts for: the caller, or an org its token lists. */
function actingOwner(caller: Caller, requested: string | undefined, onDenied: 'forbidden' | 'not_found'): string {
  const owner = requested ?? caller.owner;
  if (mayActFor(caller, owner)) return owner;
  if (onDenied === 'forbidden') throw new ForbiddenError(`This token may not act for ${owner}.`);
  throw new OwnerNotFoundError(owner);
}

const createInstanceRoute = createRoute({
  method: 'post',
  path: '/v1/instances',
  summary: 'Admit and start a provision',
  security: [{ bearer: [] }],
  request: {
    headers: idempotencyHeaderSchema,
    query: ownerQuerySchema,
    body: { required: true, content: { 'application/json': { schema: provisionRequestSchema } } },
  },
  responses: {
    202: { description: 'Admitted; the provision runs', content: { 'application/json': { schema: admissionResultSchema } } },
    ...problemResponses,
    409: problemDoc('provision_in_progress (names the instance holding the reservation) or reconciliation_pending'),
    422: problemDoc('idempotency_key_reused'),
    429: problemDoc('quota_exceeded'),
    503: problemDoc('contention or workflow_unavailable; retry with the same Idempotency-Key'),
  },
});

const listInstancesRoute = createRoute({
  method: 'get',
  path: '/v1/instances',
  summary: "List the caller's (or an org's) live instances, newest first",
  security: [{ bearer: [] }],
  request: { query: listQuerySchema },
  responses: {
    200: { description: 'A page of instances', content: { 'application/json': { schema: instancePageSchema } } },
    ...problemResponses,
    404: problemDoc('owner_not_found: the token may not act for that owner'),
  },
});

const getInstanceRoute = createRoute({
  method: 'get',
  path: '/v1/instances/{id}',
  summary: 'One instance, with its last errors and current operation',
  security: [{ bearer: [] }],
  request: { params: instanceIdParamSchema },
  responses: {
    200: { description: 'The instance', content: { 'application/json': { schema: instanceViewSchema } } },
    ...problemResponses,
    404: problemDoc('instance_not_found'),
  },
});

const operationsRoute = createRoute({
  method: 'get',
  path: '/v1/instances/{id}/operations',
  summary: "The instance's executions, newest first: kind, status, times, error and console link",
  security: [{ bearer: [] }],
  request: { params: instanceIdParamSchema },
  responses: {
    200: { description: 'Its executions', content: { 'application/json': { schema: operationsPageSchema } } },
    ...problemResponses,
    404: problemDoc('instance_not_found'),
  },
});

/** A lifecycle route: claim first, then the workflow; the loser of a race gets 409 and causes nothing. */
function lifecycleRoute(operation: LifecycleOperation) {
  return createRoute({
    method: operation === 'destroy' ? 'delete' : 'post',
    path: operation === 'destroy' ? '/v1/instances/{id}' : `/v1/instances/{id}/${operation}`,
    summary: operation === 'destroy' ? 'Destroy the instance (machine and volume)' : `${operation[0]!.toUpperCase()}${operation.slice(1)} the instance`,
    security: [{ bearer: [] }],
    request: { params: instanceIdParamSchema },
    responses: {
      202: { description: 'Claimed; the operation runs', content: { 'application/json': { schema: operationAcceptedSchema } } },
      ...problemResponses,
      404: problemDoc('instance_not_found'),
      409: problemDoc('instance_busy (another operation holds the claim) or invalid_state'),
      503: problemDoc('workflow_unavailable; the claim was handed back, retry'),
    },
  });
}

/** Build the HTTP app: the same app behind API Gateway (Lambda) and the local Node server. */
export function createApp(options: ApiOptions): OpenAPIHono<ApiEnv> {
  const { deps, verifyToken } = options;
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });

  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status === 400) {
      return problemResponse(c, new ValidationFailedError(error.message || 'The request body is not valid JSON.'), deps.logger);
    }
    return problemResponse(c, error, deps.logger);
  });
  app.notFound((c) =>
    c.json({ type: 'https://slipway.dev/problems/not_found', title: 'Not found', status: 404, detail: `No route ${c.req.method} ${c.req.path}`, code: 'not_found' }, 404, {
      'content-type': 'application/problem+json',
    }),
  );

  app.get('/healthz', async (c) => {
    const ready = options.isReady ? await options.isReady().catch(() => false) : true;
    return c.json({ status: ready ? 'ok' : 'starting' }, ready ? 200 : 503);
  });

  app.use('/v1/*', async (c, next) => {
    const caller = await verifyToken(c.req.header('authorization'));
    requireScope(caller, c.req.path.startsWith('/v1/admin') ? 'admin' : 'instances');
    c.set('caller', caller);
    await next();
  });

  app.openapi(createInstanceRoute, async (c) => {
    const caller = c.get('caller');
    const owner = actingOwner(caller, c.req.valid('query').owner, 'forbidden');
    const result = await admitProvision(deps, owner, c.req.valid('header')['idempotency-key'], c.req.valid('json'));
    c.header('location', `/v1/instances/${result.instance.id}`);
    return c.json(result, 202);
  });

  app.openapi(listInstancesRoute, async (c) => {
    const caller = c.get('caller');
    const query = c.req.valid('query');
    const owner = actingOwner(caller, query.owner, 'not_found');
    return c.json(await listInstances(deps, owner, { limit: query.limit, cursor: query.cursor }), 200);
  });

  app.openapi(getInstanceRoute, async (c) => {
    const item = await getVisibleInstance(deps, c.req.valid('param').id, ownersOf(c.get('caller')));
    return c.json(toInstanceView(item), 200);
  });

  for (const operation of ['start', 'stop', 'restart', 'destroy'] as const) {
    app.openapi(lifecycleRoute(operation), async (c) => {
      const accepted = await requestOperation(deps, c.req.valid('param').id, ownersOf(c.get('caller')), operation);
      return c.json(accepted, 202);
    });
  }

  app.openapi(operationsRoute, async (c) => c.json(await listOperations(deps, c.req.valid('param').id, ownersOf(c.get('caller'))), 200));

  registerAdminRoutes(app, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'slipway', version: '1', description: 'Control plane for compute instances.' } });
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));
  return app;
}

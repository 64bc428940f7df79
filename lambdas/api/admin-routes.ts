import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { adminInstanceView, adminInstanceViewSchema, ownerRegistry, ownerRegistrySchema } from '../domain/operator-views';
import { quotaChangeSchema, setOwnerQuota, setQuotaRequestSchema } from '../domain/owner';
import { releaseRequestSchema, releaseReservation, releaseResultSchema } from '../domain/reservation';
import type { Deps } from '../shared/deps';
import type { ApiEnv } from './auth';
import { instanceIdParamSchema, ownerParamSchema, problemResponse as problemDoc, problemResponses, registryQuerySchema } from './schemas';

const adminInstanceRoute = createRoute({
  method: 'get',
  path: '/v1/admin/instances/{id}',
  summary: 'Debug state of any instance (tombstones too): stored item, current execution, reservation, live provider view',
  security: [{ bearer: [] }],
  request: { params: instanceIdParamSchema },
  responses: {
    200: { description: 'The debug view; a provider part that fails reads `{ error }`', content: { 'application/json': { schema: adminInstanceViewSchema } } },
    ...problemResponses,
    404: problemDoc('instance_not_found'),
  },
});

const ownerRegistryRoute = createRoute({
  method: 'get',
  path: '/v1/admin/owners/{owner}',
  summary: "An owner's registry: instances incl. tombstones, reservation, quota, recent operator actions",
  security: [{ bearer: [] }],
  request: { params: ownerParamSchema, query: registryQuerySchema },
  responses: {
    200: { description: 'The registry', content: { 'application/json': { schema: ownerRegistrySchema } } },
    ...problemResponses,
  },
});

const releaseRoute = createRoute({
  method: 'post',
  path: '/v1/admin/owners/{owner}/reservation/release',
  summary: "Operator escape hatch: release the owner's unresolved reservation (audited)",
  security: [{ bearer: [] }],
  request: {
    params: ownerParamSchema,
    body: { required: true, content: { 'application/json': { schema: releaseRequestSchema } } },
  },
  responses: {
    200: { description: 'Released; the audit record is stored with it', content: { 'application/json': { schema: releaseResultSchema } } },
    ...problemResponses,
    404: problemDoc('reservation_not_found'),
    409: problemDoc('execution_still_running (the provision still runs; wait) or reservation_not_releasable (completed or released already)'),
    503: problemDoc('contention: the reservation kept changing; retry'),
  },
});

const quotaRoute = createRoute({
  method: 'put',
  path: '/v1/admin/owners/{owner}/quota',
  summary: "Set an owner's instance limit (audited); the configured default applies until set",
  security: [{ bearer: [] }],
  request: {
    params: ownerParamSchema,
    body: { required: true, content: { 'application/json': { schema: setQuotaRequestSchema } } },
  },
  responses: {
    200: { description: 'The new limit, with its audit record', content: { 'application/json': { schema: quotaChangeSchema } } },
    ...problemResponses,
  },
});

/** The `/v1/admin` read views and the audited reservation release; the app's middleware requires scope `admin`. */
export function registerAdminRoutes(app: OpenAPIHono<ApiEnv>, deps: Deps): void {
  app.openapi(adminInstanceRoute, async (c) => c.json(await adminInstanceView(deps, c.req.valid('param').id), 200));

  app.openapi(ownerRegistryRoute, async (c) => {
    const query = c.req.valid('query');
    return c.json(await ownerRegistry(deps, c.req.valid('param').owner, { limit: query.limit, cursor: query.cursor }), 200);
  });

  app.openapi(quotaRoute, async (c) => c.json(await setOwnerQuota(deps, c.req.valid('param').owner, c.get('caller').owner, c.req.valid('json')), 200));

  app.openapi(releaseRoute, async (c) => {
    const result = await releaseReservation(deps, c.req.valid('param').owner, c.get('caller').owner, c.req.valid('json'));
    return c.json(result, 200);
  });
}

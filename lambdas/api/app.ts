import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { swaggerUI } from '@hono/swagger-ui';
import { admitProvision } from '../domain/admission';
import { toInstanceView } from '../domain/instance';
import { getVisibleInstance, listInstances } from '../domain/instance-queries';
import { requestOperation } from '../domain/lifecycle';
import { listOperations } from '../domain/operations-history';
import { requestSwitch } from '../domain/switch-provider';
import type { Deps } from '../shared/deps';
import { ForbiddenError, OwnerNotFoundError, PayloadTooLargeError, RouteNotFoundError } from '../shared/errors';
import { registerAdminRoutes } from './admin-routes';
import { registerConsole } from './console/serve';
import { mayActFor, ownersOf, requireScope, type ApiEnv, type Caller, type TokenVerifier } from './auth';
import { compressedHandler, type CompressedAsset } from './compressed';
import { errorFromHttpException, problemResponse } from './problem';
import { mount } from './route';
import { shippedJson } from './shipped-file';
import { operationProgress } from '../domain/executions';
import { createInstanceRoute, getInstanceRoute, healthRoute, lifecycleRoutes, listInstancesRoute, operationProgressRoute, operationsRoute, providersRoute, switchProviderRoute } from './routes';

/** The OpenAPI document, generated at build time (npm run build:openapi), read on first request. */
const openApiDocument = shippedJson<CompressedAsset>(__dirname, 'openapi.compressed.json');

/** What a caller's correlation id may look like (anything else is replaced, never echoed). */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The largest request body the API reads; larger ones are refused before they are parsed. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** What the HTTP app needs. */
export interface ApiOptions {
  deps: Deps;
  verifyToken: TokenVerifier;
  /** Readiness of every part the API depends on; `/healthz` answers 200 only when true. */
  isReady?: () => Promise<boolean>;
}

/** Resolve which owner a request acts for: the caller, or an org its token lists. */
function actingOwner(caller: Caller, requested: string | undefined, onDenied: 'forbidden' | 'not_found'): string {
  const owner = requested ?? caller.owner;
  if (mayActFor(caller, owner)) return owner;
  if (onDenied === 'forbidden') throw new ForbiddenError(`This token may not act for ${owner}.`);
  throw new OwnerNotFoundError(owner);
}

/** Build the HTTP app: the same app behind API Gateway (Lambda) and the local Node server. */
export function createApp(options: ApiOptions): Hono<ApiEnv> {
  const { deps, verifyToken } = options;
  const app = new Hono<ApiEnv>();

  // Every failure becomes problem details with a stable code; HTTP status is chosen in problem.ts only.
  app.onError((error, c) => problemResponse(c, error instanceof HTTPException ? errorFromHttpException(error) : error, deps.logger));
  app.notFound((c) => problemResponse(c, new RouteNotFoundError(c.req.method, c.req.path), deps.logger));

  // Every request gets a correlation id (the caller's, or a new one): it is answered in a header,
  // logged on every line, and carried into the executions the request starts.
  app.use('*', async (c, next) => {
    const offered = c.req.header('x-correlation-id');
    const correlationId = offered && CORRELATION_ID.test(offered) ? offered : randomUUID();
    c.set('deps', { ...deps, correlationId, logger: deps.logger.createChild({ persistentKeys: { correlationId } }) });
    c.header('x-correlation-id', correlationId);
    await next();
  });

  mount(app, healthRoute, async (c) => {
    const ready = options.isReady ? await options.isReady().catch(() => false) : true;
    return ready ? c.json({ status: 'ok' as const }, 200) : c.json({ status: 'starting' as const }, 503);
  });

  // Refuse oversized bodies while they stream in, before anything parses them.
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: () => {
        throw new PayloadTooLargeError(BODY_LIMIT_BYTES);
      },
    }),
  );
  app.use('/v1/*', async (c, next) => {
    const caller = await verifyToken(c.req.header('authorization'));
    requireScope(caller, c.req.path.startsWith('/v1/admin') ? 'admin' : 'instances');
    c.set('caller', caller);
    await next();
  });

  mount(app, createInstanceRoute, async (c, { headers, query, body }) => {
    const owner = actingOwner(c.get('caller'), query.owner, 'forbidden');
    const result = await admitProvision(c.var.deps, owner, headers['idempotency-key'], body);
    c.header('location', `/v1/instances/${result.instance.id}`);
    return c.json(result, 202);
  });

  mount(app, listInstancesRoute, async (c, { query }) => {
    const owner = actingOwner(c.get('caller'), query.owner, 'not_found');
    return c.json(await listInstances(c.var.deps, owner, { limit: query.limit, cursor: query.cursor }), 200);
  });

  mount(app, getInstanceRoute, async (c, { params }) => c.json(toInstanceView(await getVisibleInstance(c.var.deps, params.id, ownersOf(c.get('caller')))), 200));

  mount(app, operationsRoute, async (c, { params }) => c.json(await listOperations(c.var.deps, params.id, ownersOf(c.get('caller'))), 200));

  mount(app, operationProgressRoute, async (c, { params }) => c.json(await operationProgress(c.var.deps, params.id, params.name, ownersOf(c.get('caller'))), 200));

  for (const operation of ['start', 'stop', 'restart', 'destroy'] as const) {
    mount(app, lifecycleRoutes[operation], async (c, { params }) => c.json(await requestOperation(c.var.deps, params.id, ownersOf(c.get('caller')), operation), 202));
  }

  mount(app, switchProviderRoute, async (c, { params, body }) => c.json(await requestSwitch(c.var.deps, params.id, ownersOf(c.get('caller')), body), 202));

  mount(app, providersRoute, async (c) => c.json({ default: c.var.deps.settings.defaultProvider, items: c.var.deps.settings.providers }, 200));

  registerAdminRoutes(app);

  // The document is generated from the same route definitions at build time (npm run build:openapi)
  // and shipped compressed beside the code.
  app.get('/openapi.json', compressedHandler(openApiDocument));
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));
  registerConsole(app);
  return app;
}

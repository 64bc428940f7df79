import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { admitProvision } from '../operations/provision/request';
import { toInstanceView } from '../domain/instance';
import { getVisibleInstance, listInstances } from '../views/instance-queries';
import { requestOperation } from '../operations/lifecycle/request';
import { listOperations } from '../views/operations-history';
import { requestSwitch } from '../operations/switch/request';
import type { Deps } from '../composition/deps';
import { ForbiddenError, MethodNotAllowedError, PayloadTooLargeError, RouteNotFoundError } from '../shared/errors/http';
import { OwnerNotFoundError } from '../shared/errors/refusals';
import { accepted, operationLocation } from './accepted';
import { cancelOperation } from '../operations/cancel';
import { registerAdminRoutes } from './admin-routes';
import { LIFECYCLE_OPERATIONS } from '../operations/registry';
import { registerConsole } from './console/serve';
import { mayActFor, ownersOf, requireScope, type ApiEnv, type Caller, type TokenVerifier } from './auth';
import { compressedHandler, type CompressedAsset } from './compressed';
import { errorFromHttpException, problemResponse } from './problem';
import { mount } from './route';
import { shippedJson } from './shipped-file';
import { operationProgress, waitForOperation } from '../views/executions';
import { cancelOperationRoute, createInstanceRoute, getInstanceRoute, healthRoute, lifecycleRoutes, listInstancesRoute, operationProgressRoute, operationsRoute, providersRoute, ROUTES, switchProviderRoute } from './routes';
import { corsMiddleware } from './cors';
import { docsHandler } from './docs';

/** The OpenAPI document, generated at build time (npm run build:openapi), read on first request. */
const openApiDocument = shippedJson<CompressedAsset>(__dirname, 'openapi.compressed.json');

/** What a caller's correlation id may look like (anything else is replaced, never echoed). */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The largest request body the API reads; larger ones are refused before they are parsed. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** How long `/healthz` waits for each dependency before it reports it down. */
export const HEALTH_TIMEOUT_MS = 2000;

/** What the HTTP app needs. */
export interface ApiOptions {
  deps: Deps;
  verifyToken: TokenVerifier;
  /**
   * Probes of the parts the API depends on (`table`, `workflows`), each given HEALTH_TIMEOUT_MS and
   * an abort signal; `/healthz` answers 200 only when every one resolves in time.
   */
  readiness?: Record<string, (signal: AbortSignal) => Promise<unknown>>;
}

/** Paths served outside ROUTES (all GET). */
const OTHER_GET_PATHS = [/^\/openapi\.json$/, /^\/docs$/, /^\/console(\/.*)?$/];
const ROUTE_PATTERNS = ROUTES.map((route) => ({ method: route.method.toUpperCase(), pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));

/** The methods a path takes (HEAD with GET, OPTIONS for preflights); empty when no route has the path. */
export function allowedMethods(path: string): string[] {
  const methods = new Set(ROUTE_PATTERNS.filter(({ pattern }) => pattern.test(path)).map(({ method }) => method));
  if (OTHER_GET_PATHS.some((pattern) => pattern.test(path))) methods.add('GET');
  if (methods.size === 0) return [];
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'];
  return [...methods].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** Run every probe, each within HEALTH_TIMEOUT_MS: `up` or `down` per dependency. */
async function probe(readiness: NonNullable<ApiOptions['readiness']>): Promise<Record<string, 'up' | 'down'>> {
  const entries = await Promise.all(
    Object.entries(readiness).map(async ([name, check]) => {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`${name} did not answer within ${HEALTH_TIMEOUT_MS} ms`));
        }, HEALTH_TIMEOUT_MS);
      });
      try {
        await Promise.race([check(controller.signal), timedOut]);
        return [name, 'up'] as const;
      } catch {
        return [name, 'down'] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
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
  // A path that exists under another method is 405 with the methods it takes (RFC 9110 §15.5.6).
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    return problemResponse(c, allow.length > 0 && !allow.includes(c.req.method) ? new MethodNotAllowedError(c.req.method, c.req.path, allow) : new RouteNotFoundError(c.req.method, c.req.path), deps.logger);
  });

  // Every request gets a correlation id (the caller's, or a new one): it is answered in a header on
  // every response (problems included: they are where a caller needs it most), logged on every
  // line, and carried into the executions the request starts.
  app.use('*', async (c, next) => {
    const offered = c.req.header('x-correlation-id');
    const correlationId = offered && CORRELATION_ID.test(offered) ? offered : randomUUID();
    c.set('deps', { ...deps, correlationId, logger: deps.logger.createChild({ persistentKeys: { correlationId } }) });
    await next();
    // Set on the final response: a problem built by onError or notFound is a new Response.
    c.res.headers.set('x-correlation-id', correlationId);
  });

  // Preflights answered as API Gateway's CORS configuration answers them on AWS.
  app.use('*', corsMiddleware());

  mount(app, healthRoute, async (c) => {
    if (!options.readiness) return c.json({ status: 'ok' as const }, 200);
    const checks = await probe(options.readiness);
    const up = Object.values(checks).every((state) => state === 'up');
    return up ? c.json({ status: 'ok' as const, checks }, 200) : c.json({ status: 'unavailable' as const, checks }, 503);
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
    return c.json(await listInstances(c.var.deps, owner, { limit: query.limit, cursor: query.cursor, filters: { status: query.status, provider: query.provider, name: query.name } }), 200);
  });

  mount(app, getInstanceRoute, async (c, { params }) => c.json(toInstanceView(await getVisibleInstance(c.var.deps, params.id, ownersOf(c.get('caller')))), 200));

  mount(app, operationsRoute, async (c, { params, query }) => c.json(await listOperations(c.var.deps, params.id, ownersOf(c.get('caller')), query), 200));

  mount(app, operationProgressRoute, async (c, { params, query }) => {
    const owners = ownersOf(c.get('caller'));
    const progress = query.wait ? await waitForOperation(c.var.deps, params.id, params.name, owners, query.wait, c.req.raw.signal) : await operationProgress(c.var.deps, params.id, params.name, owners);
    return c.json(progress, 200);
  });

  mount(app, cancelOperationRoute, async (c, { params }) => {
    const caller = c.get('caller');
    const cancelled = await cancelOperation(c.var.deps, params.id, params.name, { owners: ownersOf(caller), requestedBy: caller.owner });
    c.header('location', operationLocation(params.id, params.name));
    return c.json(cancelled, cancelled.settled ? 200 : 202);
  });

  for (const operation of LIFECYCLE_OPERATIONS) {
    mount(app, lifecycleRoutes[operation], async (c, { params }) => accepted(c, await requestOperation(c.var.deps, params.id, ownersOf(c.get('caller')), operation)));
  }

  mount(app, switchProviderRoute, async (c, { params, body }) => accepted(c, await requestSwitch(c.var.deps, params.id, ownersOf(c.get('caller')), body)));

  mount(app, providersRoute, async (c) => c.json({ default: c.var.deps.settings.defaultProvider, items: c.var.deps.settings.providers }, 200));

  registerAdminRoutes(app);

  // The document is generated from the same route definitions at build time (npm run build:openapi)
  // and shipped compressed beside the code.
  app.get('/openapi.json', compressedHandler(openApiDocument));
  app.get('/docs', docsHandler());
  registerConsole(app);
  return app;
}

/**
 * The edge as integrators meet it, through the real HTTP server: what generated SDKs send on every
 * POST, the headers a client acts on (Location, Retry-After, Allow, x-correlation-id, CORS), the
 * connection after a 413, the docs page without a CDN, and the exact rules for depth, repeated
 * parameters, page sizes, outages and oversized headers.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createApp } from '../../lambdas/api/app';
import { createTokenVerifier } from '../../lambdas/api/auth';
import { CORS_POLICY } from '../../lambdas/api/cors';
import { MAX_JSON_DEPTH } from '../../lambdas/api/route';
import { createDocumentClient } from '../../lambdas/adapters/dynamo';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../infra/local/dev-auth';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';
import { BODY_LIMIT_BYTES } from '../../lambdas/api/app';

let h: Harness;
let token: string;
let id: string;

beforeAll(async () => {
  h = await startHarness();
  ({ id, token } = await provisionRunning(h, 'integrator'));
}, 60_000);
afterAll(async () => {
  await h.close();
});

const auth = () => ({ authorization: `Bearer ${token}` });

describe('action routes take what SDKs send', () => {
  it.each([
    ['no body', {}],
    ['an empty body with Content-Type: application/json', { headers: { 'content-type': 'application/json' }, body: '' }],
    ['{}', { headers: { 'content-type': 'application/json' }, body: '{}' }],
    ['{} with spaces and a charset', { headers: { 'content-type': 'application/json; charset=utf-8' }, body: ' { } ' }],
  ])('accepts a stop and a start with %s', async (_what, request: { headers?: Record<string, string>; body?: string }) => {
    // Act
    const stopped = await fetch(`${h.api.url}/v1/instances/${id}/stop`, { method: 'POST', headers: { ...auth(), ...request.headers }, body: request.body });
    const stop = (await stopped.json()) as { operation: { executionArn: string } };
    await h.waitForExecution(stop.operation.executionArn);
    const started = await fetch(`${h.api.url}/v1/instances/${id}/start`, { method: 'POST', headers: { ...auth(), ...request.headers }, body: request.body });
    const start = (await started.json()) as { operation: { executionArn: string } };
    await h.waitForExecution(start.operation.executionArn);

    // Assert
    expect([stopped.status, started.status]).toEqual([202, 202]);
  });

  it.each([
    ['a JSON object with a field', 'application/json', '{"force":true}', 'body.force'],
    ['a JSON array', 'application/json', '[]', 'body'],
    ['text', 'text/plain', 'stop it', 'body'],
  ])('refuses %s with 400 and the reason, and changes nothing', async (_what, type, body, where) => {
    // Arrange
    const before = await h.instanceItem(id);

    // Act
    const res = await fetch(`${h.api.url}/v1/instances/${id}/stop`, { method: 'POST', headers: { ...auth(), 'content-type': type }, body });
    const problem = (await res.json()) as { code: string; detail: string; errors: Array<{ path: string }> };

    // Assert
    expect({ status: res.status, code: problem.code, paths: problem.errors.map((e) => e.path) }).toEqual({ status: 400, code: 'validation_failed', paths: [where] });
    expect(problem.detail).toContain('This route takes no request body: send none, an empty one, or {}.');
    expect(await h.instanceItem(id)).toEqual(before);
  });
});

describe('headers a client acts on', () => {
  it('answers the caller’s x-correlation-id on problems, and a new one when it sent none', async () => {
    // Act
    const mine = await fetch(`${h.api.url}/v1/instances/i-00000000000000000000000000`, { headers: { ...auth(), 'x-correlation-id': 'corr-problem-1' } });
    const unauthenticated = await fetch(`${h.api.url}/v1/instances`, { headers: { 'x-correlation-id': 'corr-problem-2' } });
    const unrouted = await fetch(`${h.api.url}/nowhere`);

    // Assert
    expect([mine.status, unauthenticated.status, unrouted.status]).toEqual([404, 401, 404]);
    expect(mine.headers.get('x-correlation-id')).toBe('corr-problem-1');
    expect(unauthenticated.headers.get('x-correlation-id')).toBe('corr-problem-2');
    expect(unrouted.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every lifecycle 202 a Location that answers the operation', async () => {
    // Act
    const res = await h.request('POST', `/v1/instances/${id}/restart`, { token });
    await h.waitForExecution(res.body.operation.executionArn);
    const followed = await h.request('GET', res.headers.get('location')!, { token });

    // Assert
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/instances/${id}/operations/${res.body.operation.executionName}`);
    expect(followed.status).toBe(200);
    expect(followed.body.execution.name).toBe(res.body.operation.executionName);
  });

  it('answers 409 instance_busy with Retry-After', async () => {
    // Arrange: a stop in flight holds the claim.
    const first = await h.request('POST', `/v1/instances/${id}/restart`, { token });

    // Act
    const second = await h.request('POST', `/v1/instances/${id}/stop`, { token });
    await h.waitForExecution(first.body.operation.executionArn);

    // Assert
    expect({ status: second.status, code: second.body.code, retryAfter: second.headers.get('retry-after') }).toEqual({ status: 409, code: 'instance_busy', retryAfter: '5' });
  });

  it('answers a wrong method with 405 and Allow', async () => {
    // Act
    const put = await fetch(`${h.api.url}/v1/instances/${id}`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    const get = await fetch(`${h.api.url}/v1/instances/${id}/stop`, { headers: auth() });
    const postHealth = await fetch(`${h.api.url}/healthz`, { method: 'POST' });

    // Assert
    expect({ status: put.status, allow: put.headers.get('allow'), code: ((await put.json()) as { code: string }).code }).toEqual({ status: 405, allow: 'GET, HEAD, DELETE, OPTIONS', code: 'method_not_allowed' });
    expect({ status: get.status, allow: get.headers.get('allow') }).toEqual({ status: 405, allow: 'POST, OPTIONS' });
    expect({ status: postHealth.status, allow: postHealth.headers.get('allow') }).toEqual({ status: 405, allow: 'GET, HEAD, OPTIONS' });
  });

  it('answers a CORS preflight as the deployed API Gateway configuration does, before any token', async () => {
    // Act
    const res = await fetch(`${h.api.url}/v1/instances/${id}/stop`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    const actual = await fetch(`${h.api.url}/v1/instances/${id}`, { headers: { ...auth(), origin: 'https://app.example' } });

    // Assert
    expect(res.status).toBe(204);
    expect({
      origin: res.headers.get('access-control-allow-origin'),
      methods: res.headers.get('access-control-allow-methods'),
      headers: res.headers.get('access-control-allow-headers'),
      maxAge: res.headers.get('access-control-max-age'),
    }).toEqual({ origin: '*', methods: CORS_POLICY.allowMethods.join(','), headers: CORS_POLICY.allowHeaders.join(','), maxAge: String(CORS_POLICY.maxAgeSeconds) });
    expect(actual.status).toBe(200);
    expect({ origin: actual.headers.get('access-control-allow-origin'), expose: actual.headers.get('access-control-expose-headers') }).toEqual({ origin: '*', expose: CORS_POLICY.exposeHeaders.join(',') });
  });
});

describe('the connection after a 413', () => {
  it('is closed by the server saying so, so a keep-alive client’s next request succeeds', async () => {
    // Act: Node's fetch reuses its keep-alive connection unless told otherwise.
    const refused = await fetch(`${h.api.url}/v1/instances`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json', 'idempotency-key': 'integrator-413-key' },
      body: `{"name":"${'x'.repeat(BODY_LIMIT_BYTES)}"}`,
    });
    const refusedBody = (await refused.json()) as { code: string };
    const next = await Promise.all([fetch(`${h.api.url}/v1/providers`, { headers: auth() }), fetch(`${h.api.url}/v1/providers`, { headers: auth() })]);

    // Assert
    expect({ status: refused.status, code: refusedBody.code, connection: refused.headers.get('connection') }).toEqual({ status: 413, code: 'payload_too_large', connection: 'close' });
    expect(next.map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('the docs page', () => {
  const dist = path.join(__dirname, '..', '..', 'node_modules', 'swagger-ui-dist');

  it('loads swagger-ui from this server (the pinned npm package), nothing from elsewhere', async () => {
    // Act
    const page = await fetch(`${h.api.url}/docs`);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    const assets = await Promise.all(sources.map(async (src) => fetch(new URL(src, `${h.api.url}/docs`), { headers: { 'accept-encoding': 'identity' } })));
    const bundle = await fetch(`${h.api.url}/docs?asset=swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } });

    // Assert
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(sources.sort()).toEqual(['?asset=init.js', '?asset=swagger-ui-bundle.js', '?asset=swagger-ui.css']);
    expect(assets.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(Buffer.from(await bundle.arrayBuffer()).equals(readFileSync(path.join(dist, 'swagger-ui-bundle.js')))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).dependencies['swagger-ui-dist']).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await fetch(`${h.api.url}/docs?asset=../package.json`)).status).toBe(404);
  });
});

describe('exact input rules', () => {
  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} with 400, however deep`, async () => {
    // Act
    const answers = await Promise.all(
      [MAX_JSON_DEPTH + 1, 5000].map((depth) =>
        h.request('POST', '/v1/instances', { token, headers: { 'idempotency-key': `integrator-deep-${depth}` }, body: `${'['.repeat(depth)}${']'.repeat(depth)}` }),
      ),
    );
    const nestedInString = await h.request('POST', '/v1/instances', { token, headers: { 'idempotency-key': 'integrator-deep-string' }, body: { name: '['.repeat(100), unknownField: 1 } });

    // Assert
    expect(answers.map((a) => [a.status, a.body.code, a.body.detail])).toEqual([
      [400, 'malformed_body', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`],
      [400, 'malformed_body', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`],
    ]);
    expect([nestedInString.status, nestedInString.body.code]).toEqual([400, 'validation_failed']);
  });

  it.each(['1e2', '0x10', ' 5', '', '05', '1.0', '+3', '101'])('refuses limit=%j', async (limit) => {
    // Act
    const res = await h.request('GET', `/v1/instances?limit=${encodeURIComponent(limit)}`, { token });

    // Assert
    expect([res.status, res.body.code, res.body.errors[0].path]).toEqual([400, 'validation_failed', 'query.limit']);
  });

  it('says a missing Idempotency-Key is required, in words', async () => {
    // Act
    const res = await h.request('POST', '/v1/instances', { token, body: {} });

    // Assert
    expect([res.status, res.body.code, res.body.errors]).toEqual([400, 'validation_failed', [{ path: 'headers.idempotency-key', message: 'required: send an Idempotency-Key header (the same key makes a retry safe)' }]]);
  });

  it('takes limit in decimal digits', async () => {
    expect((await h.request('GET', '/v1/instances?limit=100', { token })).status).toBe(200);
  });

  it('refuses a repeated query parameter instead of guessing which value counts', async () => {
    // Act
    const res = await h.request('GET', '/v1/instances?limit=1&limit=2', { token });

    // Assert
    expect([res.status, res.body.code, res.body.errors]).toEqual([400, 'validation_failed', [{ path: 'query.limit', message: 'given more than once; give it once' }]]);
  });

  it('answers headers over the server’s limit with a 431 problem document', async () => {
    // Act: a raw request (fetch would refuse to send it).
    const { url } = h.api;
    const answer = await new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/v1/instances`, { headers: { 'x-padding': 'x'.repeat(20 * 1024) } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
      });
      req.on('error', reject);
      req.end();
    });

    // Assert
    expect({ status: answer.status, type: answer.type, code: JSON.parse(answer.body).code }).toEqual({ status: 431, type: 'application/problem+json', code: 'request_header_fields_too_large' });
  });
});

describe('when the table is down', () => {
  const appOver = (db: ReturnType<typeof createDocumentClient>, readiness?: Parameters<typeof createApp>[0]['readiness']) =>
    createApp({ deps: { ...h.runtime.deps, db }, verifyToken: createTokenVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: h.key.jwks }), readiness });
  const LOCAL = { accessKeyId: 'local', secretAccessKey: 'local' };
  let frozen: Server;
  let frozenUrl: string;

  beforeAll(async () => {
    // A table that accepts connections and never answers (a frozen JVM).
    frozen = createServer(() => undefined);
    await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
    frozenUrl = `http://127.0.0.1:${(frozen.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    frozen.closeAllConnections();
    await new Promise((resolve) => frozen.close(resolve));
  });

  it('answers 503 service_unavailable with Retry-After when the table refuses connections', async () => {
    // Arrange: nothing listens on port 9.
    const app = appOver(createDocumentClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: LOCAL }));

    // Act
    const res = await app.request(`/v1/instances/${id}`, { headers: auth() });
    const problem = (await res.json()) as { code: string };

    // Assert
    expect({ status: res.status, code: problem.code, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type') }).toEqual({
      status: 503,
      code: 'service_unavailable',
      retryAfter: '5',
      type: 'application/problem+json',
    });
  });

  it('answers /healthz on its own timeout, naming the table as down, and aborts the probe', async () => {
    // Arrange: the probe's call goes to the frozen table, and its answer never comes: only the
    // health check's own timeout can end the request.
    const db = createDocumentClient({ region: 'us-east-1', endpoint: frozenUrl, credentials: LOCAL });
    let aborted = false;
    const app = appOver(db, {
      table: (abortSignal) => {
        abortSignal.addEventListener('abort', () => (aborted = true));
        void db.send(new GetCommand({ TableName: 't', Key: { pk: 'x', sk: 'x' } }), { abortSignal }).catch(() => undefined);
        return new Promise(() => undefined);
      },
      workflows: async () => undefined,
    });

    // Act
    const res = await app.request('/healthz');

    // Assert
    expect({ status: res.status, body: await res.json(), aborted }).toEqual({ status: 503, body: { status: 'unavailable', checks: { table: 'down', workflows: 'up' } }, aborted: true });
  });
});

describe('the document’s timestamp rule', () => {
  it('holds for real answers: every at/…At/…Until string is an RFC 3339 date-time', async () => {
    // Arrange
    const answers = [(await h.request('GET', `/v1/instances/${id}`, { token })).body, (await h.request('GET', `/v1/instances/${id}/operations`, { token })).body];
    const stamps: Array<[string, string]> = [];
    const pending: unknown[] = [...answers];
    while (pending.length) {
      const node = pending.pop();
      if (Array.isArray(node)) pending.push(...node);
      else if (node && typeof node === 'object')
        for (const [key, value] of Object.entries(node)) {
          if (/^(at|[a-z][A-Za-z]*(At|Until))$/.test(key) && typeof value === 'string') stamps.push([key, value]);
          else pending.push(value);
        }
    }

    // Assert
    expect(stamps.length).toBeGreaterThan(3);
    for (const [key, value] of stamps) expect([key, new Date(value).toISOString()]).toEqual([key, value]);
  });
});

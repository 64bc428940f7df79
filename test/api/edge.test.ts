/**
 * The API edge against an attacker, route by route: every route in `ROUTES` (the data the app
 * mounts) gets malformed input of each kind — no or a wrong Content-Type, a body where none is
 * taken, bodies over the limit (with and without a length), invalid UTF-8, lone surrogates,
 * forged or foreign cursors, destroyed and unknown ids, scheme spellings — and answers its own 4xx
 * problem, never a 500, and writes nothing: no item, no execution, no provider change.
 */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ROUTES } from '../../lambdas/api/routes';
import type { RouteSpec } from '../../lambdas/api/route';
import { BODY_LIMIT_BYTES } from '../../lambdas/api/app';
import { startHarness, type Harness } from '../support/harness';
import { operateAndWait, provisionRunning } from '../support/instances';

let h: Harness;
let live: string;
let destroyed: string;
let ownerToken: string;
let adminToken: string;
let realCursor: string;

const OWNER = 'edge-owner';
const UNKNOWN_ID = 'i-00000000000000000000000000';

beforeAll(async () => {
  h = await startHarness();
  ({ id: live, token: ownerToken } = await provisionRunning(h, OWNER));
  const gone = await provisionRunning(h, OWNER);
  destroyed = gone.id;
  await operateAndWait(h, ownerToken, destroyed, 'destroy');
  await provisionRunning(h, OWNER);
  adminToken = await h.token({ sub: 'edge-admin', admin: true });
  realCursor = (await h.request('GET', '/v1/instances?limit=1', { token: ownerToken })).body.nextCursor;
  expect(realCursor).toEqual(expect.any(String));
}, 60_000);
afterAll(async () => {
  await h.close();
});

/** Everything an attacker could change: every item, every execution, every provider call that changes something. */
async function snapshot() {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await h.runtime.deps.db.send(new ScanCommand({ TableName: h.runtime.deps.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const executions = await Promise.all(
    Object.values(h.runtime.deps.stateMachines).map(async (arn) => (await h.runtime.deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1000 }))).executions?.length ?? 0),
  );
  const changes = h.provider.calls.filter((call) => !/^(get|list|inventory|wait|health)/i.test(call.method)).length;
  return { items: items.map((item) => JSON.stringify(item)).sort(), executions, changes };
}

const isAdmin = (route: RouteSpec) => route.path.startsWith('/v1/admin');
const takesBody = (route: RouteSpec) => route.request?.body !== undefined;
const takesCursor = (route: RouteSpec) => route.request?.query !== undefined && 'cursor' in ((route.request.query as unknown as { shape?: object }).shape ?? {});
const isInstanceRoute = (route: RouteSpec) => route.path.startsWith('/v1/instances/{id}');
const ALL: readonly RouteSpec[] = ROUTES;
const authenticated = ALL.filter((route) => !route.public);
const withBody = authenticated.filter(takesBody);
const unsafe = authenticated.filter((route) => route.method !== 'get');

/** A request a route would accept in shape (or refuse without writing), with `{id}` as given. */
function pathOf(route: RouteSpec, id: string): string {
  return route.path
    .replace('{id}', id)
    .replace('{owner}', `user:${OWNER}-nobody`)
    .replace('{workflow}', 'provision')
    .replace('{volumeId}', 'vol-edge-unknown')
    .replace('{name}', route.path.startsWith('/v1/admin/sweeps') ? 'reconcile' : 'edge-no-such-execution');
}

/** A body each route takes (it is never reached: the cases refuse the request first). */
const VALID_BODIES: Record<string, unknown> = {
  '/v1/instances': {},
  '/v1/admin/owners/{owner}/reservation/release': { reason: 'edge check' },
  '/v1/admin/owners/{owner}/quota': { limit: 3, reason: 'edge check' },
  '/v1/admin/instances/{id}/settle': { reason: 'edge check' },
  '/v1/admin/instances/{id}/recover': { reason: 'edge check' },
  '/v1/admin/sweeps/{name}': { reason: 'edge check' },
  '/v1/instances/{id}/switch-provider': { provider: 'local' },
};
/** The headers and body of a request that would be accepted in shape. */
const validRequest = (route: RouteSpec) => (takesBody(route) ? { headers: json, body: JSON.stringify(VALID_BODIES[route.path]) } : {});

/** Send raw bytes with exact headers (fetch adds a Content-Type to string bodies; this does not). */
async function send(route: RouteSpec, options: { path?: string; headers?: Record<string, string>; body?: RequestInit['body']; scheme?: string } = {}) {
  const token = isAdmin(route) ? adminToken : ownerToken;
  const res = await fetch(`${h.api.url}${options.path ?? pathOf(route, UNKNOWN_ID)}`, {
    method: route.method.toUpperCase(),
    headers: { authorization: `${options.scheme ?? 'Bearer'} ${token}`, 'idempotency-key': 'edge-key-00000001', ...options.headers },
    body: options.body,
    ...(options.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A body of `bytes` bytes streamed without a Content-Length (chunked). */
function chunked(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, bytes - sent)).fill(0x20);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

const json = { 'content-type': 'application/json' };
const label = (route: RouteSpec) => `${route.method.toUpperCase()} ${route.path}`;
type Case = [string, RouteSpec, () => Promise<Awaited<ReturnType<typeof send>>>, number, string];

const CASES: Case[] = [
  ...withBody.map((route): Case => [`no Content-Type`, route, () => send(route, { body: new TextEncoder().encode(JSON.stringify(VALID_BODIES[route.path])) }), 415, 'unsupported_media_type']),
  ...withBody.map((route): Case => [`a text/plain body`, route, () => send(route, { headers: { 'content-type': 'text/plain' }, body: JSON.stringify(VALID_BODIES[route.path]) }), 415, 'unsupported_media_type']),
  ...withBody.map((route): Case => [`a form body`, route, () => send(route, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'reason=edge+check' }), 415, 'unsupported_media_type']),
  ...unsafe.filter((route) => !takesBody(route)).map((route): Case => [`a body on a route that takes none`, route, () => send(route, { path: pathOf(route, live), headers: json, body: '{"force":true}' }), 400, 'validation_failed']),
  ...unsafe.map((route): Case => [`a body one byte over 64 KB`, route, () => send(route, { path: pathOf(route, live), headers: json, body: `"${'x'.repeat(BODY_LIMIT_BYTES - 1)}"` }), 413, 'payload_too_large']),
  // Small enough that the client finishes sending before the server closes a connection it stopped reading.
  ...unsafe.map((route): Case => [`a 192 KB body without a length`, route, () => send(route, { path: pathOf(route, live), headers: json, body: chunked(3 * BODY_LIMIT_BYTES) }), 413, 'payload_too_large']),
  ...withBody.map((route): Case => [`invalid UTF-8`, route, () => send(route, { headers: json, body: Uint8Array.from([...Buffer.from('{"reason":"'), 0xff, 0xfe, ...Buffer.from('"}')]) }), 400, 'malformed_body']),
  ...withBody.map((route): Case => [`a lone surrogate escape`, route, () => send(route, { headers: json, body: '{"reason":"edge \\ud800 check","name":"a"}' }), 400, 'malformed_body']),
  ...withBody.map((route): Case => [`malformed JSON`, route, () => send(route, { headers: json, body: '{"reason": ' }), 400, 'malformed_body']),
  ...authenticated.filter(takesCursor).flatMap((route): Case[] => {
    const path = (cursor: string) => `${pathOf(route, UNKNOWN_ID).replace(`user:${OWNER}-nobody`, `user:${OWNER}`)}?cursor=${encodeURIComponent(cursor)}`;
    const forged = Buffer.from(JSON.stringify({ ownerPk: `OWNER#user:${OWNER}`, ownerSk: { S: 'x' }, pk: 1 })).toString('base64url');
    const tampered = () => `${realCursor.slice(0, 10)}${realCursor[10] === 'A' ? 'B' : 'A'}${realCursor.slice(11)}`;
    return [
      [`a forged cursor with the caller's own owner`, route, () => send(route, { path: path(forged) }), 400, 'invalid_cursor'],
      [`a tampered cursor`, route, () => send(route, { path: path(tampered()) }), 400, 'invalid_cursor'],
      [`a cursor that is not base64url`, route, () => send(route, { path: path('%%%%') }), 400, 'invalid_cursor'],
      ...(isAdmin(route) ? ([[`a cursor of another listing`, route, () => send(route, { path: path(realCursor) }), 400, 'invalid_cursor']] as Case[]) : []),
    ];
  }),
  // An operation's progress answers for a tombstone too (the CLI follows a destroy to its end), so an unknown execution of it is what is not found;
  // its operations list answers too (the owner keeps the history: test/api/reads.test.ts).
  ...authenticated
    .filter((route) => isInstanceRoute(route) && !route.path.endsWith('/operations'))
    .map((route): Case => [`a destroyed instance`, route, () => send(route, { path: pathOf(route, destroyed), ...validRequest(route) }), 404, route.path.endsWith('/operations/{name}') ? 'execution_not_found' : 'instance_not_found']),
  ...authenticated.filter((route) => route.path.includes('{id}')).map((route): Case => [`an unknown instance`, route, () => send(route, validRequest(route)), 404, 'instance_not_found']),
  ...authenticated.filter((route) => route.path.includes('{id}')).map((route): Case => [`an id with invalid percent-encoding`, route, () => send(route, { path: pathOf(route, '%E0%A4%A') }), 400, 'validation_failed']),
  ...authenticated.map((route): Case => [`a token under a scheme that is not Bearer`, route, () => send(route, { scheme: 'Basic' }), 401, 'unauthorized']),
];

describe('the API edge', () => {
  it('covers every authenticated route', () => {
    const covered = new Set(CASES.map(([, route]) => label(route)));
    expect([...covered].sort()).toEqual(authenticated.map(label).sort());
  });

  it.each(CASES.map(([what, route, run, status, code]) => [label(route), what, run, status, code] as const))('%s with %s answers its 4xx problem and writes nothing', async (_route, _what, run, status, code) => {
    // Arrange
    const before = await snapshot();

    // Act
    const res = await run();

    // Assert
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.contentType).toBe('application/problem+json');
    expect(await snapshot()).toEqual(before);
  });

  it.each(authenticated.map((route) => [label(route), route] as const))('%s accepts the Bearer scheme in any case', async (_label, route) => {
    // Arrange: a request each route refuses for another reason, so nothing is written either way.
    const before = await snapshot();
    const refused = { path: route.path.includes('{id}') ? pathOf(route, UNKNOWN_ID) : route.path.replace('{name}', 'no-such-sweep').replace('{owner}', `user:${OWNER}-nobody`), headers: json, body: takesBody(route) ? '{"unknown":1}' : undefined };

    // Act
    const canonical = await send(route, { ...refused, scheme: 'Bearer' });
    const answers = await Promise.all(['bearer', 'BEARER', 'bEaReR'].map((scheme) => send(route, { ...refused, scheme })));

    // Assert
    expect(canonical.status).not.toBe(401);
    expect(canonical.status).toBeLessThan(500);
    for (const answer of answers) expect({ status: answer.status, code: answer.body.code }).toEqual({ status: canonical.status, code: canonical.body.code });
    expect(await snapshot()).toEqual(before);
  });
});

describe('what callers are shown of failures', () => {
  /** Markers of a stack trace or a server-side path. */
  const leaks = () => [
    /\bat\s+(?:async\s+)?\S+\s+\(/,
    /"(?:trace|stack|stackTrace)"/,
    /node_modules/,
    /\.(?:ts|js|cjs|mjs):\d+/,
    /\/var\/lib\/slipway/,
    /\/srv\/machines/,
    new RegExp(process.cwd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    /\/tmp\/slipway-/,
  ];

  it('never puts a stack trace or a file path in a response body under /v1/instances', async () => {
    // Arrange: a provision that fails with a provider message naming a path, a start that fails
    // with a plain Error (the runtime's trace in Step Functions' cause), and a lost execution.
    const token = await h.token({ sub: 'edge-leaks' });
    h.provider.failNext('createVolume', () => new Error("no capacity: ENOENT: no such file or directory, open '/var/lib/slipway/volumes/v-1/meta.json'"), { times: 1 });
    const failed = await h.request('POST', '/v1/instances', { token, body: { name: 'fails' }, headers: { 'idempotency-key': 'edge-leaks-key-1' } });
    await h.waitForExecution(failed.body.operation.executionArn);
    const { id } = await provisionRunning(h, 'edge-leaks');
    await operateAndWait(h, token, id, 'stop');
    h.provider.failNext('startMachine', () => new Error('EACCES: permission denied, open /srv/machines/m-1/pid'), { times: 1 });
    expect((await operateAndWait(h, token, id, 'start')).status).toBe('FAILED');

    // Act: every read under /v1/instances, a replay, and the problems callers can provoke.
    const answers = await Promise.all([
      h.request('GET', '/v1/instances', { token }),
      h.request('GET', `/v1/instances/${failed.body.instance.id}`, { token }),
      h.request('GET', `/v1/instances/${failed.body.instance.id}/operations`, { token }),
      h.request('GET', `/v1/instances/${id}`, { token }),
      h.request('GET', `/v1/instances/${id}/operations`, { token }),
      h.request('POST', '/v1/instances', { token, body: { name: 'fails' }, headers: { 'idempotency-key': 'edge-leaks-key-1' } }),
      h.request('POST', `/v1/instances/${id}/stop`, { token }),
      h.request('GET', `/v1/instances/${UNKNOWN_ID}`, { token }),
      h.request('GET', '/v1/instances?cursor=nonsense', { token }),
      h.request('POST', '/v1/instances', { token, body: '{"name":', headers: { 'idempotency-key': 'edge-leaks-key-2' } }),
      h.request('POST', '/v1/instances', { token: 'not-a-token', body: {}, headers: { 'idempotency-key': 'edge-leaks-key-3' } }),
    ]);

    // Assert
    const texts = answers.map((a) => JSON.stringify(a.body));
    for (const text of texts) for (const leak of leaks()) expect({ text, leak: leak.test(text) }).toEqual({ text, leak: false });
    expect(answers.every((a) => a.status < 500)).toBe(true);
    const failedView = answers[1]!.body;
    expect(failedView.lastStartError.message).toBe("no capacity: ENOENT: no such file or directory, open '<path>'");
    expect(answers[2]!.body.items[0]).toMatchObject({ status: 'FAILED', error: 'Error', message: "no capacity: ENOENT: no such file or directory, open '<path>'" });
    expect(answers[3]!.body.lastStartError.message).toBe('EACCES: permission denied, open <path>');
    expect(answers[4]!.body.items[0]).toMatchObject({ kind: 'start', status: 'FAILED', error: 'Error', message: 'EACCES: permission denied, open <path>' });
    // Operators keep the detail.
    const admin = await h.request('GET', `/v1/admin/instances/${failed.body.instance.id}`, { token: adminToken });
    expect(admin.body.instance.lastStartError.message).toContain('/var/lib/slipway/volumes/v-1/meta.json');
  }, 60_000);

  it('refuses a body over the limit on the Lambda entry too, before it is parsed', async () => {
    // Arrange: the Lambda handler's own adapter over the same app.
    const { handle } = await import('hono/aws-lambda');
    const { createApp } = await import('../../lambdas/api/app');
    const { createTokenVerifier } = await import('../../lambdas/api/auth');
    const { DEV_AUDIENCE, DEV_ISSUER } = await import('../../infra/local/dev-auth');
    const serve = handle(createApp({ deps: h.runtime.deps, verifyToken: createTokenVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: h.key.jwks }) }));
    const event = (body: string, base64: boolean) => ({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v1/instances',
      rawQueryString: '',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json', 'idempotency-key': 'edge-lambda-key-1', host: 'api.example' },
      requestContext: { http: { method: 'POST', path: '/v1/instances', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r', routeKey: '$default', stage: '$default', domainName: 'api.example' },
      body: base64 ? Buffer.from(body).toString('base64') : body,
      isBase64Encoded: base64,
    });
    const before = await snapshot();
    const oversized = `{"name":"${'a'.repeat(BODY_LIMIT_BYTES)}"}`;

    // Act
    const answers = await Promise.all([serve(event(oversized, false) as never, {} as never), serve(event(oversized, true) as never, {} as never)]);

    // Assert
    for (const answer of answers as Array<{ statusCode: number; body: string; headers: Record<string, string> }>) {
      expect(answer.statusCode).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload_too_large', limitBytes: BODY_LIMIT_BYTES });
      expect(answer.headers['content-type']).toBe('application/problem+json');
    }
    expect(await snapshot()).toEqual(before);
  });
});

import { SignJWT, generateKeyPair } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../infra/local/dev-auth';
import { keys } from '../../lambdas/store/keys';
import { instanceIdFor } from '../../lambdas/operations/provision/request';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
let instanceId: string;
let aliceToken: string;

beforeAll(async () => {
  h = await startHarness();
  aliceToken = await h.token({ sub: 'alice' });
  const res = await h.request('POST', '/v1/instances', { token: aliceToken, body: {}, headers: { 'idempotency-key': 'alice-key-1' } });
  instanceId = res.body.instance.id;
  await h.waitForExecution(res.body.operation.executionArn);
});
afterAll(async () => {
  await h.close();
});

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('authentication', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['missing', async () => undefined],
    ['expired', async () => h.token({ sub: 'alice', ttlSeconds: -60 })],
    [
      'for another audience',
      async () =>
        new SignJWT({ scope: 'instances' })
          .setProtectedHeader({ alg: 'ES256', kid: h.key.privateJwk.kid })
          .setSubject('alice')
          .setIssuer(DEV_ISSUER)
          .setAudience('someone-else')
          .setExpirationTime('1h')
          .sign(await import('jose').then((j) => j.importJWK(h.key.privateJwk, 'ES256'))),
    ],
    ['alg none', async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'alice', iss: DEV_ISSUER, aud: DEV_AUDIENCE, exp: now() + 3600, scope: 'instances' })}.`],
    [
      'signed by another key',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT({ scope: 'instances' })
          .setProtectedHeader({ alg: 'ES256', kid: h.key.privateJwk.kid })
          .setSubject('alice')
          .setIssuer(DEV_ISSUER)
          .setAudience(DEV_AUDIENCE)
          .setExpirationTime('1h')
          .sign(privateKey);
      },
    ],
  ])('refuses a token that is %s with 401', async (_label, makeToken) => {
    const token = await makeToken();
    const res = await h.request('GET', `/v1/instances/${instanceId}`, { token });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('answers 404 for another owner’s instance, never 403', async () => {
    const mallory = await h.token({ sub: 'mallory' });
    const res = await h.request('GET', `/v1/instances/${instanceId}`, { token: mallory });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'instance_not_found' });
  });

  it('refuses a token without the instances scope with 403', async () => {
    const { importJWK } = await import('jose');
    const token = await new SignJWT({ scope: 'profile' })
      .setProtectedHeader({ alg: 'ES256', kid: h.key.privateJwk.kid })
      .setSubject('alice')
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setExpirationTime('1h')
      .sign(await importJWK(h.key.privateJwk, 'ES256'));
    expect((await h.request('GET', '/v1/instances', { token })).status).toBe(403);
  });
});

describe('validation', () => {
  it.each([
    ['a status field', { status: 'running' }],
    ['an owner field naming someone else', { owner: 'user:bob' }],
    ['an unknown size', { size: 'huge' }],
    ['a bad name', { name: 'Not_OK' }],
    ['a string volume size', { volumeSizeGb: '10' }],
  ])('refuses a body with %s (400) and writes nothing', async (_label, body) => {
    const token = await h.token({ sub: 'validator' });
    const res = await h.request('POST', '/v1/instances', { token, body, headers: { 'idempotency-key': 'validator-key-1' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed' });
    expect(await h.item(keys.reservation('user:validator'))).toBeUndefined();
    expect(await h.instanceItem(instanceIdFor('user:validator', 'validator-key-1'))).toBeUndefined();
  });

  it('refuses malformed JSON and a missing Idempotency-Key with 400', async () => {
    const token = await h.token({ sub: 'validator' });
    expect((await h.request('POST', '/v1/instances', { token, body: '{nope', headers: { 'idempotency-key': 'validator-key-2' } })).status).toBe(400);
    expect((await h.request('POST', '/v1/instances', { token, body: {} })).body).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('refuses to create for an org the token does not list (403) and allows one it lists', async () => {
    const outsider = await h.token({ sub: 'outsider' });
    const denied = await h.request('POST', '/v1/instances?owner=org:acme', { token: outsider, body: {}, headers: { 'idempotency-key': 'org-key-1' } });
    expect(denied.status).toBe(403);
    expect(await h.item(keys.reservation('org:acme'))).toBeUndefined();

    const member = await h.token({ sub: 'member', orgs: ['acme'] });
    const allowed = await h.request('POST', '/v1/instances?owner=org:acme', { token: member, body: {}, headers: { 'idempotency-key': 'org-key-2' } });
    expect(allowed.status).toBe(202);
    expect(allowed.body.instance.owner).toBe('org:acme');
    await h.waitForExecution(allowed.body.operation.executionArn);
    expect((await h.request('GET', `/v1/instances/${allowed.body.instance.id}`, { token: outsider })).status).toBe(404);
  });

  it('serves an OpenAPI 3.1 document generated from the schemas, and the docs page', async () => {
    const doc = await h.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/instances', '/v1/instances/{id}']));
    expect(doc.body.paths['/v1/instances'].post.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect((await h.request('GET', '/docs')).status).toBe(200);
    expect((await h.request('GET', '/healthz')).body).toEqual({ status: 'ok', checks: { table: 'up', workflows: 'up' } });
  });
});

import { keys } from '../../lambdas/store/keys';
import { startHarness, type Harness } from '../support/harness';
import { operateAndWait, provisionRunning } from '../support/instances';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('per-owner quota', () => {
  it('enforces a limit an operator sets, audits it, and frees a slot on destroy', async () => {
    // Arrange
    const admin = await h.token({ sub: 'ops', admin: true });
    const set = await h.request('PUT', '/v1/admin/owners/org:tiny/quota', { token: admin, body: { limit: 1, reason: 'trial plan' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ owner: 'org:tiny', limit: 1, activeInstances: 0, audit: { action: 'quota.set', actor: 'user:ops', reason: 'trial plan' } });
    const member = await h.token({ sub: 'tiny-member', orgs: ['tiny'] });
    const post = (key: string) => h.request('POST', '/v1/instances?owner=org:tiny', { token: member, body: {}, headers: { 'idempotency-key': key } });

    // Act
    const first = await post('tiny-key-1');
    await h.waitForExecution(first.body.operation.executionArn);
    const second = await post('tiny-key-2');

    // Assert
    expect(first.status).toBe(202);
    expect(second.status).toBe(429);
    expect(second.body).toMatchObject({ code: 'quota_exceeded', limit: 1 });
    expect(second.headers.get('retry-after')).toEqual(expect.any(String));
    const registry = await h.request('GET', '/v1/admin/owners/org:tiny', { token: admin });
    expect(registry.body.quota).toEqual({ activeInstances: 1, limit: 1 });
    expect(registry.body.audit.map((a: { action: string }) => a.action)).toEqual(['quota.set']);

    expect((await operateAndWait(h, member, first.body.instance.id, 'destroy')).status).toBe('SUCCEEDED');
    expect(await h.item(keys.reservation('org:tiny'))).toMatchObject({ activeInstances: 0, instanceLimit: 1 });
    const third = await post('tiny-key-3');
    expect(third.status).toBe(202);
    await h.waitForExecution(third.body.operation.executionArn);
  });

  it('refuses a quota change without the admin scope or with a bad body', async () => {
    const user = await h.token({ sub: 'not-ops' });
    expect((await h.request('PUT', '/v1/admin/owners/user:not-ops/quota', { token: user, body: { limit: 50, reason: 'please' } })).status).toBe(403);
    const admin = await h.token({ sub: 'ops', admin: true });
    expect((await h.request('PUT', '/v1/admin/owners/user:x/quota', { token: admin, body: { limit: -1, reason: 'nope' } })).status).toBe(400);
    expect((await h.request('PUT', '/v1/admin/owners/user:x/quota', { token: admin, body: { limit: 3, reason: 'ok!', extra: true } })).status).toBe(400);
    expect(await h.item(keys.reservation('user:x'))).toBeUndefined();
  });

  it('still counts a provisioned instance once per owner across users of an org', async () => {
    const { id, token } = await provisionRunning(h, 'quota-solo');
    expect(await h.item(keys.reservation('user:quota-solo'))).toMatchObject({ activeInstances: 1 });
    await operateAndWait(h, token, id, 'destroy');
    expect(await h.item(keys.reservation('user:quota-solo'))).toMatchObject({ activeInstances: 0 });
  });
});

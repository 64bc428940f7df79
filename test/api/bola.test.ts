import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { keys } from '../../lambdas/store/keys';
import { instanceIdFor } from '../../lambdas/operations/provision/request';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';

let h: Harness;
let userInstance: string;
let orgInstance: string;

beforeAll(async () => {
  h = await startHarness();
  userInstance = (await provisionRunning(h, 'bola-owner')).id;
  const member = await h.token({ sub: 'bola-member', orgs: ['bola-org'] });
  const res = await h.request('POST', '/v1/instances?owner=org:bola-org', { token: member, body: {}, headers: { 'idempotency-key': 'bola-org-key-1' } });
  orgInstance = res.body.instance.id;
  await h.waitForExecution(res.body.operation.executionArn);
});
afterAll(async () => {
  await h.close();
});

/** Everything an attacker could change: items, executions, provider calls. */
async function snapshot() {
  const executions = await Promise.all(
    Object.values(h.runtime.deps.stateMachines).map(async (arn) => (await h.runtime.deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1000 }))).executions?.length ?? 0),
  );
  return {
    items: await Promise.all([
      h.instanceItem(userInstance),
      h.instanceItem(orgInstance),
      h.item(keys.reservation('user:bola-owner')),
      h.item(keys.reservation('org:bola-org')),
    ]),
    executions,
    providerCalls: h.provider.calls.length,
  };
}

const routes = (id: string) =>
  [
    ['GET', `/v1/instances/${id}`],
    ['GET', `/v1/instances/${id}/operations`],
    ['POST', `/v1/instances/${id}/start`],
    ['POST', `/v1/instances/${id}/stop`],
    ['POST', `/v1/instances/${id}/restart`],
    ['DELETE', `/v1/instances/${id}`],
    ['DELETE', `/v1/instances/${id}/operations/${id}-provision-v1`],
  ] as const;

describe('broken object level authorisation', () => {
  it.each([
    ['another user', () => h.token({ sub: 'bola-intruder' }), () => userInstance],
    ['a member of another org', () => h.token({ sub: 'bola-intruder', orgs: ['other-org'] }), () => orgInstance],
    ['the owner of a different instance', async () => (await provisionRunning(h, 'bola-neighbour')).token, () => orgInstance],
  ])('answers %s with 404 on every instance route and changes nothing', async (_label, makeToken, instanceOf) => {
    // Arrange
    const token = await makeToken();
    const before = await snapshot();

    // Act
    const answers = [];
    for (const [method, path] of routes(instanceOf())) answers.push({ path, method, res: await h.request(method, path, { token }) });

    // Assert
    for (const { res } of answers) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'instance_not_found' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers a non-member with 404 when listing an org and 403 when creating under it, changing nothing', async () => {
    const token = await h.token({ sub: 'bola-intruder', orgs: ['other-org'] });
    const before = await snapshot();

    const list = await h.request('GET', '/v1/instances?owner=org:bola-org', { token });
    const create = await h.request('POST', '/v1/instances?owner=org:bola-org', { token, body: {}, headers: { 'idempotency-key': 'bola-intruder-key-1' } });
    const listOther = await h.request('GET', '/v1/instances?owner=user:bola-owner', { token });

    expect(list.status).toBe(404);
    expect(listOther.status).toBe(404);
    expect(create.status).toBe(403);
    expect(create.body).toMatchObject({ code: 'forbidden' });
    expect(await snapshot()).toEqual(before);
    expect(await h.instanceItem(instanceIdFor('org:bola-org', 'bola-intruder-key-1'))).toBeUndefined();
  });

  it('keeps /v1/admin closed to tokens without the admin scope', async () => {
    const token = await h.token({ sub: 'bola-owner' });
    const res = await h.request('GET', `/v1/admin/instances/${userInstance}`, { token });
    expect(res.status).toBe(403);
  });
});

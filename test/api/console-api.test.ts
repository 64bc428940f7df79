import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { applySubstitutions, readWorkflowDefinition, substitutionsFor } from '../../infra/asl';
import { localFunctionArn } from '../../infra/local/runtime';
import { executionArnOf } from '../../lambdas/adapters/workflows';
import { ROUTES } from '../../lambdas/api/routes';
import { listAttention } from '../../lambdas/views/attention-view';
import { recordCleanupTry } from '../../lambdas/sweeps/reconcile/unclaimed';
import { leaseHolder } from '../../lambdas/sweeps/lease';
import { SWEEP_NAMES } from '../../lambdas/sweeps/registry';
import { ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import { startHarness, type Harness } from '../support/harness';
import { operateAndWait, provisionRunning } from '../support/instances';

let h: Harness;
let admin: string;

// A whole stack starts in a few seconds alone, more on a busy machine.
beforeAll(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'console-operator', admin: true });
}, 30_000);
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.provider.reset();
});

/** Start `count` stop executions that fail at once (their input names no instance), under slipway-style names. */
async function seedStops(prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `i-${prefix.padEnd(20, '0')}${String(i).padStart(6, '0')}-stop-v${i + 1}`);
  const arn = h.runtime.deps.stateMachines.stop;
  const arns: string[] = [];
  for (const name of names) {
    const out = await h.runtime.deps.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name, input: '{}' }));
    arns.push(out.executionArn!);
  }
  for (const executionArn of arns) await h.waitForExecution(executionArn);
  return names;
}

describe('GET /v1/admin/executions', () => {
  it("lists every workflow's executions newest first, and pages through them exactly", async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'exec-list');
    await operateAndWait(h, token, id, 'stop');
    await seedStops('aaaa', 3);
    await operateAndWait(h, token, id, 'start');

    // Act: small pages across the merged streams.
    const pages: Array<Array<{ name: string; workflow: string; startedAt: string }>> = [];
    let cursor: string | null = null;
    do {
      const res = await h.request('GET', `/v1/admin/executions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
      expect(res.status).toBe(200);
      pages.push(res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    const all = pages.flat();
    const whole = await h.request('GET', '/v1/admin/executions?limit=100', { token: admin });

    // Assert
    expect(all.map((e) => e.name)).toEqual(whole.body.items.map((e: { name: string }) => e.name));
    expect(new Set(all.map((e) => e.name)).size).toBe(all.length);
    expect(all.slice(0, 2).map((e) => [e.workflow, e.name])).toEqual([
      ['start', `${id}-start-v3`],
      ['stop', expect.stringMatching(/^i-aaaa0+000002-stop-v3$/)],
    ]);
    expect(all.map((e) => e.name)).toEqual(expect.arrayContaining([`${id}-provision-v1`, `${id}-stop-v2`]));
    const starts = all.map((e) => Date.parse(e.startedAt));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(whole.body.items.find((e: { name: string }) => e.name === `${id}-provision-v1`)).toEqual({
      workflow: 'provision',
      name: `${id}-provision-v1`,
      instanceId: id,
      status: 'SUCCEEDED',
      startedAt: expect.any(String),
      stoppedAt: expect.any(String),
      executionArn: executionArnOf(h.runtime.deps.stateMachines.provision, `${id}-provision-v1`),
      consoleUrl: null,
    });
  });

  it('filters by workflow and status, and by instance from its operations log', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'exec-filter');
    await operateAndWait(h, token, id, 'stop');
    await seedStops('bbbb', 2);

    // Act
    const failedStops = await h.request('GET', '/v1/admin/executions?workflow=stop&status=FAILED&limit=100', { token: admin });
    const ofInstance = await h.request('GET', `/v1/admin/executions?instanceId=${id}`, { token: admin });
    const ofInstanceStops = await h.request('GET', `/v1/admin/executions?instanceId=${id}&workflow=stop`, { token: admin });

    // Assert
    expect(failedStops.status).toBe(200);
    expect(failedStops.body.items.every((e: { workflow: string; status: string }) => e.workflow === 'stop' && e.status === 'FAILED')).toBe(true);
    expect(failedStops.body.items.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^i-bbbb/)]));
    expect(ofInstance.body.items.map((e: { name: string; status: string }) => [e.name, e.status])).toEqual([
      [`${id}-stop-v2`, 'SUCCEEDED'],
      [`${id}-provision-v1`, 'SUCCEEDED'],
    ]);
    expect(ofInstanceStops.body.items.map((e: { name: string }) => e.name)).toEqual([`${id}-stop-v2`]);
  });

  it('refuses a cursor of another listing with invalid_cursor', async () => {
    // Arrange
    await seedStops('cccc', 3);
    const first = await h.request('GET', '/v1/admin/executions?workflow=stop&limit=1', { token: admin });

    // Act
    const res = await h.request('GET', `/v1/admin/executions?workflow=start&limit=1&cursor=${first.body.nextCursor}`, { token: admin });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_cursor' });
  });
});

describe('GET /v1/admin/executions/{workflow}/{name}', () => {
  it('answers the execution with the definition it ran, and its history paged both ways', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'exec-detail');
    const name = `${id}-provision-v1`;

    // Act
    const detail = await h.request('GET', `/v1/admin/executions/provision/${name}`, { token: admin });
    const forward = await h.request('GET', `/v1/admin/executions/provision/${name}/history?limit=3`, { token: admin });
    const next = await h.request('GET', `/v1/admin/executions/provision/${name}/history?limit=3&cursor=${forward.body.nextCursor}`, { token: admin });
    const reverse = await h.request('GET', `/v1/admin/executions/provision/${name}/history?limit=2&reverse=true`, { token: admin });
    const mixed = await h.request('GET', `/v1/admin/executions/provision/${name}/history?limit=3&reverse=true&cursor=${forward.body.nextCursor}`, { token: admin });

    // Assert
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ workflow: 'provision', name, instanceId: id, status: 'SUCCEEDED', error: null, consoleUrl: null });
    expect(JSON.parse(detail.body.input)).toMatchObject({ instanceId: id });
    expect(detail.body.definition).toBe(applySubstitutions(readWorkflowDefinition('provision'), substitutionsFor('provision', localFunctionArn)));
    expect(forward.body.events.map((e: { id: number; type: string }) => [e.id, e.type])).toEqual([
      [1, 'ExecutionStarted'],
      [2, 'TaskStateEntered'],
      [3, 'LambdaFunctionScheduled'],
    ]);
    expect(forward.body.events[1]).toEqual({ id: 2, previousEventId: 1, timestamp: expect.any(String), type: 'TaskStateEntered', details: { name: 'MarkProviderWorkStarted', input: expect.any(String), inputDetails: { truncated: false } } });
    expect(next.body.events.map((e: { id: number }) => e.id)).toEqual([4, 5, 6]);
    expect(reverse.body.events.map((e: { type: string }) => e.type)).toEqual(['ExecutionSucceeded', 'TaskStateExited']);
    expect(mixed.status).toBe(400);
    expect(mixed.body).toMatchObject({ code: 'invalid_cursor' });
  });

  it('answers 404 execution_not_found for an execution that does not exist', async () => {
    const res = await h.request('GET', '/v1/admin/executions/start/i-00000000000000000000000000-start-v9', { token: admin });

    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'execution_not_found' });
  });
});

describe('GET /v1/instances/{id}/operations/{name}', () => {
  it('follows an operation step by step for its owner, without inputs, outputs or stack traces', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'progress-ok');

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations/${id}-provision-v1`, { token });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.execution).toMatchObject({ name: `${id}-provision-v1`, kind: 'provision', status: 'SUCCEEDED' });
    expect(res.body.steps.map((s: { name: string; status: string; attempts: number }) => [s.name, s.status, s.attempts])).toEqual([
      ['MarkProviderWorkStarted', 'succeeded', 1],
      ['CreateVolume', 'succeeded', 1],
      ['CreateMachine', 'succeeded', 1],
      ['WaitMachineStarted', 'succeeded', 1],
      ['CommitProvision', 'succeeded', 1],
    ]);
    expect(Object.keys(res.body.steps[0]).sort()).toEqual(['attempts', 'enteredAt', 'error', 'exitedAt', 'message', 'name', 'status', 'type']);
  });

  it('tells a failed step by its error and message, never its trace', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'progress-fail');
    await operateAndWait(h, token, id, 'stop');
    h.provider.failNext('startMachine', () => new ProviderCapacityError('no capacity for this start'), { times: 1 });
    await operateAndWait(h, token, id, 'start');

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations/${id}-start-v3`, { token });

    // Assert
    expect(res.body.execution).toMatchObject({ status: 'FAILED', error: 'ProviderCapacity', cause: 'no capacity for this start' });
    const start = res.body.steps.find((s: { name: string }) => s.name === 'StartMachine');
    expect(start).toMatchObject({ status: 'caught', error: 'ProviderCapacity', message: 'no capacity for this start' });
    expect(res.body.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['EnsureMachineMount', 'succeeded'],
      ['StartMachine', 'caught'],
      ['RecordOperationFailure', 'succeeded'],
      ['StartFailed', 'failed'],
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/trace|at .*\.ts:\d+/);
  });

  it('follows a destroy to its end, and hides other owners’ operations and unknown names', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'progress-destroy');
    await operateAndWait(h, token, id, 'destroy');
    const intruder = await h.token({ sub: 'progress-intruder' });

    // Act
    const destroyed = await h.request('GET', `/v1/instances/${id}/operations/${id}-destroy-v2`, { token });
    const foreign = await h.request('GET', `/v1/instances/${id}/operations/${id}-destroy-v2`, { token: intruder });
    const unknown = await h.request('GET', `/v1/instances/${id}/operations/${id}-stop-v9`, { token });

    // Assert
    expect(destroyed.status).toBe(200);
    expect(destroyed.body.execution.status).toBe('SUCCEEDED');
    expect(destroyed.body.steps.map((s: { name: string }) => s.name)).toEqual(['DestroyResources', 'TombstoneInstance']);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'instance_not_found' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'execution_not_found' });
  });
});

describe('GET /v1/admin/attention', () => {
  it('lists what is due, oldest first, and what is parked for an operator, from the index', async () => {
    // Arrange: an exhausted cleanup (parked), a running instance (off the index: the fleet inventory
    // watches it), and two cleanup retries due in 20 and 10 minutes.
    const { id } = await provisionRunning(h, 'attention-parked');
    const item = (await h.instanceItem(id))!;
    await recordCleanupTry(h.runtime.deps, item, 10, null, { code: 'CleanupUnverified', message: 'Cleanup try 10: left machines [m-1]', at: new Date().toISOString() });
    const { id: runningId } = await provisionRunning(h, 'attention-running');
    const retries: string[] = [];
    for (const minutes of [20, 10]) {
      const { id: retryId } = await provisionRunning(h, `attention-retry-${minutes}`);
      await recordCleanupTry(h.runtime.deps, (await h.instanceItem(retryId))!, 1, new Date(Date.now() + minutes * 60_000), { code: 'CleanupUnverified', message: 'Cleanup try 1', at: new Date().toISOString() });
      retries.push(retryId);
    }

    // Act
    const parked = await h.request('GET', '/v1/admin/attention?band=parked', { token: admin });
    const dueNow = await h.request('GET', '/v1/admin/attention', { token: admin });
    const dueLater = await listAttention(h.later(3600), 'due', { limit: 100 });

    // Assert
    expect(parked.status).toBe(200);
    expect(parked.body.items).toEqual([
      expect.objectContaining({ subject: 'cleanup-exhausted', alarm: 'CleanupExhaustedAlarm', kind: 'instance', instanceId: id, owner: 'user:attention-parked', tries: 10, detail: 'Cleanup try 10: left machines [m-1]' }),
    ]);
    expect(dueNow.body.items.map((i: { instanceId: string }) => i.instanceId)).not.toContain(id);
    expect(dueLater.items.map((i) => i.instanceId)).not.toContain(runningId);
    expect(dueLater.items.map((i) => i.instanceId)).not.toContain(id);
    expect(dueLater.items.filter((i) => retries.includes(i.instanceId!)).map((i) => i.instanceId)).toEqual([retries[1], retries[0]]);
    const since = dueLater.items.map((i) => i.since);
    expect(since).toEqual([...since].sort());
  });

  it("shows an item's latest error, whichever operation's field holds it (the fields come from the registry)", async () => {
    // Arrange: an exhausted cleanup (parked) with an older cleanup error and a newer stop error.
    const { id } = await provisionRunning(h, 'attention-latest');
    await recordCleanupTry(h.runtime.deps, (await h.instanceItem(id))!, 10, null, { code: 'CleanupUnverified', message: 'older cleanup error', at: '2026-01-01T00:00:00.000Z' });
    const { db, tableName } = h.runtime.deps;
    await db.send(new UpdateCommand({ TableName: tableName, Key: keys.instance(id), UpdateExpression: 'SET lastStopError = :error', ExpressionAttributeValues: { ':error': { code: 'cancelled', message: 'newer stop error', at: '2026-02-01T00:00:00.000Z' } } }));

    // Act
    const parked = await h.request('GET', '/v1/admin/attention?band=parked', { token: admin });

    // Assert: lastStopError was not among the hand-written fields this view read before.
    expect(parked.body.items.find((item: { instanceId: string }) => item.instanceId === id)).toMatchObject({ subject: 'cleanup-exhausted', detail: 'newer stop error' });
  });

  it('pages through every shard without repeating or skipping an item', async () => {
    // Arrange: five instances on the index (cleanup retries due within the hour)
    for (let i = 0; i < 5; i++) {
      const { id } = await provisionRunning(h, `attention-page-${i}`);
      await recordCleanupTry(h.runtime.deps, (await h.instanceItem(id))!, 1, new Date(Date.now() + (i + 1) * 60_000), { code: 'CleanupUnverified', message: 'Cleanup try 1', at: new Date().toISOString() });
    }
    const later = h.later(3600);

    // Act
    const whole = await listAttention(later, 'due', { limit: 100 });
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listAttention(later, 'due', { limit: 2, cursor });
      paged.push(...page.items.map((i) => `${i.kind}:${i.instanceId}:${i.owner}`));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);

    // Assert
    expect(whole.items.length).toBeGreaterThanOrEqual(5);
    expect(paged).toEqual(whole.items.map((i) => `${i.kind}:${i.instanceId}:${i.owner}`));
  });
});

describe('the operator console', () => {
  it('serves the page with no token, compressed, under a policy that allows only its own assets', async () => {
    // Act
    const page = await fetch(`${h.api.url}/console`, { headers: { 'accept-encoding': 'gzip' } });
    const html = await page.text();
    const script = /src="([^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${h.api.url}${script}`);
    const plain = await fetch(`${h.api.url}${script}`, { headers: { 'accept-encoding': 'identity' } });
    const missing = await fetch(`${h.api.url}/console/assets/app-000000000000.js`);

    // Assert
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(html).toContain('<main id="main"');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect((await plain.text()).length).toBeGreaterThan(10_000);
    expect(missing.status).toBe(404);
  });

  it('tells the console its workflows, statuses, escape hatches and attention subjects', async () => {
    const res = await h.request('GET', '/v1/admin/console', { token: admin });

    expect(res.status).toBe(200);
    expect(res.body.workflows).toEqual(['provision', 'start', 'stop', 'restart', 'destroy', 'recover', 'switch']);
    expect(res.body.hatches.map((hatch: { id: string; method: string; path: string; page: string }) => [hatch.id, hatch.method, hatch.path, hatch.page])).toEqual([
      ['release-reservation', 'post', '/v1/admin/owners/{owner}/reservation/release', 'owner'],
      ['settle-instance', 'post', '/v1/admin/instances/{id}/settle', 'instance'],
      ['force-recovery', 'post', '/v1/admin/instances/{id}/recover', 'instance'],
      ['delete-retained-volume', 'delete', '/v1/admin/volumes/{volumeId}', 'volume'],
      ['run-sweep-reconcile', 'post', '/v1/admin/sweeps/{name}', 'attention'],
      ['run-sweep-volume-cleanup', 'post', '/v1/admin/sweeps/{name}', 'attention'],
    ]);
    expect(res.body.hatches.find((hatch: { id: string }) => hatch.id === 'delete-retained-volume').reasonIn).toBe('query');
    expect(res.body.attentionSubjects.map((s: { subject: string }) => s.subject)).toEqual(expect.arrayContaining(['cleanup-exhausted', 'volume-ownership-unverified', 'volume-cleanup-exhausted']));
  });

  it('runs a sweep with a reason in the body, or with no body at all', async () => {
    const withReason = await h.request('POST', '/v1/admin/sweeps/reconcile', { token: admin, body: { reason: 'checking after a deploy' } });
    const bare = await h.request('POST', '/v1/admin/sweeps/reconcile', { token: admin });
    const tooShort = await h.request('POST', '/v1/admin/sweeps/reconcile', { token: admin, body: { reason: 'x' } });

    expect([withReason.status, bare.status, tooShort.status]).toEqual([200, 200, 400]);
    expect(withReason.body).toMatchObject({ sweep: 'reconcile', ran: true });
  });

  it('runs each registered sweep by its name, and refuses a name no sweep has with a problem, running nothing', async () => {
    const ran = await Promise.all(SWEEP_NAMES.map((name) => h.request('POST', `/v1/admin/sweeps/${name}`, { token: admin })));
    const leasesBefore = await Promise.all(SWEEP_NAMES.map((name) => leaseHolder(h.runtime.deps, name)));
    const unknown = await h.request('POST', '/v1/admin/sweeps/reconcile-everything', { token: admin, body: { reason: 'no such sweep' } });
    const leasesAfter = await Promise.all(SWEEP_NAMES.map((name) => leaseHolder(h.runtime.deps, name)));

    expect(ran.map((res) => [res.status, res.body.sweep])).toEqual(SWEEP_NAMES.map((name) => [200, name]));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'params.name', message: `Invalid option: expected one of ${SWEEP_NAMES.map((name) => `"${name}"`).join('|')}` }] });
    expect(leasesAfter).toEqual(leasesBefore);
  });

  it('gives a token without the admin scope none of its data: 403 on every admin route', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'console-denied');
    const params: Record<string, string> = { id, owner: 'user:console-denied', workflow: 'provision', name: `${id}-provision-v1` };
    const admins = ROUTES.filter((route) => route.path.startsWith('/v1/admin/'));

    // Act
    const answers = await Promise.all(
      admins.map(async (route) => {
        const path = route.path.replace(/\{([^}]+)\}/g, (_m, key: string) => (key === 'name' && route.path.includes('sweeps') ? 'reconcile' : params[key]!));
        const res = await h.request(route.method.toUpperCase(), path, { token, body: route.method === 'get' ? undefined : { reason: 'not allowed' } });
        return [`${route.method} ${route.path}`, res.status, res.body?.code];
      }),
    );

    // Assert
    expect(admins.length).toBeGreaterThanOrEqual(11);
    expect(answers).toEqual(admins.map((route) => [`${route.method} ${route.path}`, 403, 'forbidden']));
  });

  it('never puts a token in the page it serves', async () => {
    const res = await fetch(`${h.api.url}/console`, { headers: { authorization: `Bearer ${admin}` } });
    // fetch undoes the gzip encoding itself.
    const text = await res.text();

    expect(text).not.toContain(admin);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});

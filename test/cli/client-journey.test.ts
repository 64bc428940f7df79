/**
 * The README's journey with the shipped typed client (`slipway/client`: types generated from the
 * document, openapi-fetch calls), against a whole local stack: provision → running → stop → start
 * → switch provider → cancel a slow provision → destroy, following each operation with the server-side wait. No casts: the
 * compiler checks every call and answer against the document.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createSlipwayClient, type SlipwayClient } from '../../client';
import { startHarness, type Harness } from '../support/harness';
import { holdCalls } from '../support/sfn-helpers';

let h: Harness;
let api: SlipwayClient;

beforeAll(async () => {
  h = await startHarness({ secondProvider: true });
  api = createSlipwayClient({ baseUrl: h.api.url, token: await h.token({ sub: 'client-journey' }) });
}, 60_000);
afterAll(async () => {
  await h.close();
});

/** Follow an operation to its end with `?wait=`; its final status. */
async function finished(id: string, name: string): Promise<string> {
  for (;;) {
    const { data, error } = await api.GET('/v1/instances/{id}/operations/{name}', { params: { path: { id, name }, query: { wait: 20 } } });
    if (error) throw new Error(`${error.code}: ${error.detail}`);
    if (!['RUNNING', 'PENDING'].includes(data.execution.status)) return data.execution.status;
  }
}

describe('the typed client', () => {
  it('runs the README journey', async () => {
    // Provision.
    const created = await api.POST('/v1/instances', { params: { header: { 'idempotency-key': `journey-${Date.now()}` } }, body: { name: 'journey' } });
    expect(created.response.status).toBe(202);
    const id = created.data!.instance.id;
    expect(await finished(id, created.data!.operation.executionName)).toBe('SUCCEEDED');
    const running = await api.GET('/v1/instances/{id}', { params: { path: { id } } });
    expect(running.data?.status).toBe('running');

    // A second provision with the name is refused, with the typed problem.
    const taken = await api.POST('/v1/instances', { params: { header: { 'idempotency-key': `journey-dup-${Date.now()}` } }, body: { name: 'journey' } });
    expect([taken.response.status, taken.error?.code]).toEqual([409, 'name_taken']);

    // Stop and start; every action takes the {} generated clients send.
    for (const action of ['stop', 'start'] as const) {
      const accepted = action === 'stop' ? await api.POST('/v1/instances/{id}/stop', { params: { path: { id } }, body: {} }) : await api.POST('/v1/instances/{id}/start', { params: { path: { id } } });
      expect(accepted.response.headers.get('location')).toBe(`/v1/instances/${id}/operations/${accepted.data!.operation.executionName}`);
      expect(await finished(id, accepted.data!.operation.executionName)).toBe('SUCCEEDED');
    }

    // Switch provider.
    const providers = await api.GET('/v1/providers');
    const target = providers.data!.items.map((p) => p.name).find((name) => name !== running.data!.provider)!;
    const switched = await api.POST('/v1/instances/{id}/switch-provider', { params: { path: { id } }, body: { provider: target, data: 'fresh' } });
    expect(switched.response.status).toBe(202);
    expect(await finished(id, switched.data!.operation.executionName)).toBe('SUCCEEDED');
    expect((await api.GET('/v1/instances/{id}', { params: { path: { id } } })).data?.provider).toBe(target);

    // Cancel a slow provision: its machine create hangs at the provider; the cancel settles it.
    const parked = holdCalls(h.provider.inner, 'createMachine', { once: true });
    const slow = await api.POST('/v1/instances', { params: { header: { 'idempotency-key': `journey-slow-${Date.now()}` } }, body: { name: 'journey-slow' } });
    await parked.entered;
    const cancelled = await api.DELETE('/v1/instances/{id}/operations/{name}', { params: { path: { id: slow.data!.instance.id, name: slow.data!.operation.executionName } } });
    parked.open();
    expect([cancelled.response.status, cancelled.data?.settled, cancelled.data?.instance.status, cancelled.data?.instance.lastStartError?.code]).toEqual([200, true, 'failed', 'cancelled']);
    const again = await api.DELETE('/v1/instances/{id}/operations/{name}', { params: { path: { id: slow.data!.instance.id, name: slow.data!.operation.executionName } } });
    expect(again.data?.cancel).toEqual(cancelled.data?.cancel);

    // Destroy; the history stays readable.
    const destroyed = await api.DELETE('/v1/instances/{id}', { params: { path: { id } } });
    expect(await finished(id, destroyed.data!.operation.executionName)).toBe('SUCCEEDED');
    const history = await api.GET('/v1/instances/{id}/operations', { params: { path: { id } } });
    expect(history.data?.items.map((op) => op.kind)).toEqual(['destroy', 'switch', 'start', 'stop', 'provision']);
    expect((await api.GET('/v1/instances/{id}', { params: { path: { id } } })).error?.code).toBe('instance_not_found');
  }, 120_000);
});

describe('the generated types', () => {
  it('are what openapi-typescript makes of the committed document (run `npm run build:client` after `build:openapi`)', () => {
    const out = path.join(os.tmpdir(), `slipway-openapi-${process.pid}.d.ts`);
    execFileSync(path.join(__dirname, '..', '..', 'node_modules', '.bin', 'openapi-typescript'), ['lambdas/api/openapi.json', '-o', out], { cwd: path.join(__dirname, '..', '..'), stdio: 'pipe' });

    expect(readFileSync(out, 'utf8')).toBe(readFileSync(path.join(__dirname, '..', '..', 'client', 'openapi.d.ts'), 'utf8'));
  });
});

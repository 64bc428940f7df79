/**
 * The Fly adapter against the fake Fly API: the behaviours PROVENANCE.md lists and the spec does
 * not — leases and nonces, 429 with and without Retry-After, /wait's 408, capacity errors, refusals,
 * lagging lists and unexpected exits.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createOrAdoptMachine, createOrAdoptVolume } from '../../lambdas/domain/provider-resources';
import { volumeNameOf, type ResourceTags } from '../../lambdas/providers/compute-provider';
import { FlyComputeProvider } from '../../lambdas/providers/fly/fly-provider';
import { MachineNotReadyError, ProviderCapacityError, ProviderRejectedError, ProviderUnavailableError, VolumeAttachedError } from '../../lambdas/shared/errors';
import { flyProviderFor, startFakeFly, type FakeFly } from '../support/fake-fly';

let fake: FakeFly;
let fly: FlyComputeProvider;
let counter = 0;

function tags(): ResourceTags {
  return { owner: 'user:fly', instance: `i-01m9${String(++counter).padStart(22, '0')}`, reservation: 'v1' };
}

async function machine(start = true) {
  const t = tags();
  const volume = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
  const m = await fly.createMachine({ name: t.instance, region: 'ams', size: 'shared-cpu-1x', image: 'slipway/hello:1', volumeId: volume.id, mountPath: '/data', tags: t, start });
  return { tags: t, volume, machine: m };
}

beforeAll(async () => {
  fake = await startFakeFly({ secondMs: 50 });
  fly = flyProviderFor(fake);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('the Fly adapter', () => {
  it('sends only requests the spec allows', async () => {
    const { machine: m, volume } = await machine(true);
    await fly.waitForState(m.id, 'started', 5_000);
    await fly.stopMachine(m.id);
    await fly.destroyMachine(m.id);
    await fly.deleteVolume(volume.id);

    expect(fake.rejected).toEqual([]);
    expect(fake.calls.length).toBeGreaterThan(5);
  });

  it('stamps slipway tags into config.metadata and filters lists by them', async () => {
    const { tags: t, machine: m } = await machine(false);

    const found = await fly.findMachines({ instance: t.instance });

    expect(fake.machine(m.id)!.config.metadata).toEqual({ slipway_owner: t.owner, slipway_instance: t.instance, slipway_reservation: t.reservation });
    expect(found.map((each) => each.id)).toEqual([m.id]);
    expect(fake.calls.find((c) => c.operationId === 'Machines_list')?.path).toBe(`/v1/apps/${fake.app}/machines`);
  });

  it('holds a lease around every mutation of a machine and sends its nonce', async () => {
    const { machine: m } = await machine(false);

    await fly.startMachine(m.id);
    await fly.waitForState(m.id, 'started', 5_000);
    await fly.stopMachine(m.id);
    await fly.destroyMachine(m.id);

    const mutations = fake.calls.filter((c) => ['Machines_start', 'Machines_stop', 'Machines_delete'].includes(c.operationId));
    expect(mutations.map((c) => c.operationId)).toEqual(['Machines_start', 'Machines_stop', 'Machines_delete']);
    expect(mutations.every((c) => typeof c.nonce === 'string' && c.nonce.length > 0)).toBe(true);
    expect(fake.calls.filter((c) => c.operationId === 'Machines_create_lease')).toHaveLength(3);
    expect(fake.calls.filter((c) => c.operationId === 'Machines_release_lease')).toHaveLength(2);
  });

  it("reports another holder's lease as transient, without touching the machine", async () => {
    const { machine: m } = await machine(false);
    fake.holdLease(m.id);

    await expect(fly.startMachine(m.id)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(fake.calls.some((c) => c.operationId === 'Machines_start')).toBe(false);
  });

  it('waits out a 429 with Retry-After and one without, then succeeds', async () => {
    fake.inject('Volumes_list', { status: 429, retryAfter: 0, times: 1 });
    fake.inject('Volumes_list', { status: 429, times: 1 });

    await expect(fly.findVolumes({})).resolves.toEqual(expect.any(Array));
    expect(fake.calls.filter((c) => c.operationId === 'Volumes_list')).toHaveLength(3);
  });

  it('gives up on a 429 that never ends as ProviderUnavailable', async () => {
    fake.inject('Volumes_list', { status: 429, retryAfter: 0, times: 20 });

    await expect(fly.findVolumes({})).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('loops /wait past its 408 deadline until the machine gets there', async () => {
    const slow = await startFakeFly({ secondMs: 10, startMs: 150 });
    // Closed whatever the outcome: a fake left open keeps Jest from exiting.
    try {
      const adapter = new FlyComputeProvider({ name: 'fly', app: slow.app, baseUrl: slow.baseUrl, token: async () => slow.token, waitCallSeconds: 2 });
      const t = tags();
      const volume = await adapter.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
      const m = await adapter.createMachine({ name: t.instance, region: 'ams', size: 'shared-cpu-1x', image: 'x', volumeId: volume.id, mountPath: '/data', tags: t });

      const started = await adapter.waitForState(m.id, 'started', 5_000);

      expect(started.state).toBe('started');
      expect(slow.calls.filter((c) => c.operationId === 'Machines_wait').length).toBeGreaterThan(1);
    } finally {
      await slow.close();
    }
  });

  it('reports a machine that never gets there as MachineNotReady', async () => {
    const { machine: m } = await machine(false);

    await expect(fly.waitForState(m.id, 'started', 300)).rejects.toBeInstanceOf(MachineNotReadyError);
  });

  it('classifies capacity, server and request errors', async () => {
    const t = tags();
    const spec = { name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t };
    fake.inject('Volumes_create', { status: 422, body: { error: 'no room in ams', status: 'insufficient_capacity' } });
    await expect(fly.createVolume(spec)).rejects.toBeInstanceOf(ProviderCapacityError);
    fake.inject('Volumes_create', { status: 503 });
    await expect(fly.createVolume(spec)).rejects.toBeInstanceOf(ProviderUnavailableError);
    fake.inject('Volumes_create', { status: 422, body: { error: 'size_gb must be at least 1' } });
    await expect(fly.createVolume(spec)).rejects.toMatchObject({ name: 'ProviderRejected', message: expect.stringContaining('size_gb must be at least 1') });
    await expect(fly.createVolume(spec).then(() => 'created')).resolves.toBe('created');
    expect(ProviderRejectedError).toBeDefined();
  });

  it('refuses to delete an attached volume with VolumeAttached', async () => {
    const { volume } = await machine(false);

    await expect(fly.deleteVolume(volume.id)).rejects.toBeInstanceOf(VolumeAttachedError);
  });

  it('recognises an unexpected stop from the exit event', async () => {
    const { machine: m } = await machine(true);
    await fly.waitForState(m.id, 'started', 5_000);

    fake.crash(m.id, 137);

    expect(await fly.getMachine(m.id)).toMatchObject({ state: 'stopped', lastExit: { requestedStop: false, exitCode: 137 } });
  });

  it('adopts what a lagging list hides instead of duplicating it', async () => {
    const lagging = await startFakeFly({ listLag: 2 });
    const adapter = flyProviderFor(lagging);
    const t = tags();

    const first = await createOrAdoptVolume(adapter, { name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
    const m = await createOrAdoptMachine(adapter, { name: t.instance, region: 'ams', size: 'shared-cpu-1x', image: 'x', volumeId: first.volume.id, mountPath: '/data', tags: t });
    // A retried step adopts the machine its volume names, though the list still hides it.
    const again = await createOrAdoptMachine(adapter, { name: t.instance, region: 'ams', size: 'shared-cpu-1x', image: 'x', volumeId: first.volume.id, mountPath: '/data', tags: t });

    expect(lagging.machines().filter((each) => each.state !== 'destroyed').map((each) => each.id)).toEqual([m.machine.id]);
    expect(again).toMatchObject({ adopted: true, machine: { id: m.machine.id } });
    expect(lagging.volumes()).toHaveLength(1);
    await lagging.close();
  });
});

describe('the fake Fly API', () => {
  async function raw(method: string, urlPath: string, body?: unknown) {
    const res = await fetch(`${fake.baseUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${fake.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as { error?: string } | null };
  }

  it('refuses fields the spec does not define', async () => {
    const res = await raw('POST', `/apps/${fake.app}/volumes`, { name: 's_x', region: 'ams', size_gb: 1, sizeGb: 1 });

    expect(res.status).toBe(400);
    expect(fake.rejected).toHaveLength(1);
  });

  it('refuses values of the wrong type', async () => {
    const res = await raw('POST', `/apps/${fake.app}/volumes`, { name: 's_x', region: 'ams', size_gb: 'one' });

    expect(res.status).toBe(400);
  });

  it('refuses a stop without a body, and a wait longer than 60 seconds', async () => {
    const { machine: m } = await machine(true);

    expect((await raw('POST', `/apps/${fake.app}/machines/${m.id}/stop`)).status).toBe(400);
    expect((await raw('GET', `/apps/${fake.app}/machines/${m.id}/wait?state=stopped&timeout=61`)).status).toBe(400);
  });

  it('answers 408 deadline_exceeded when a wait runs out', async () => {
    const { machine: m } = await machine(false);

    const res = await raw('GET', `/apps/${fake.app}/machines/${m.id}/wait?state=started&timeout=1`);

    expect(res).toMatchObject({ status: 408, body: { error: expect.stringContaining('deadline_exceeded') } });
  });

  it('wraps a lease in an envelope and refuses a mutation without its nonce', async () => {
    const { machine: m } = await machine(false);

    const lease = await raw('POST', `/apps/${fake.app}/machines/${m.id}/lease`, { ttl: 30 });
    const start = await raw('POST', `/apps/${fake.app}/machines/${m.id}/start`);

    expect(lease).toMatchObject({ status: 201, body: { status: 'success', data: { nonce: expect.any(String) } } });
    expect(start.status).toBe(409);
  });

  it('requires the bearer token', async () => {
    const res = await fetch(`${fake.baseUrl}/apps/${fake.app}/volumes`);

    expect(res.status).toBe(401);
  });
});

describe('the vendored spec', () => {
  it('is the shared Fly spec, verbatim', () => {
    const shared = path.resolve(__dirname, '..', '..', '..', 'shared', 'fly', 'machines-openapi3.json');
    if (!existsSync(shared)) return; // a clone without ../shared: nothing to compare with
    expect(readFileSync(path.resolve(__dirname, '..', '..', 'spec', 'fly', 'machines-openapi3.json'), 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });
});

/**
 * The Fly adapter against the fake Fly API with Fly's real behaviours on (test/support/fake-fly/
 * README.md): leases and nonces, 429 with and without Retry-After, /wait's 408 and its instance_id
 * rule, read-after-create 404s, lagging lists, unique machine names, asynchronous detach, capacity
 * bodies, zones, snapshots, token schemes, refusals and unexpected exits.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createOrAdoptMachine, createOrAdoptVolume } from '../../lambdas/domain/provider-resources';
import { volumeNameOf, type ResourceTags } from '../../lambdas/providers/compute-provider';
import { FlyComputeProvider } from '../../lambdas/providers/fly/fly-provider';
import { destroyTaggedResources } from '../../lambdas/domain/provider-resources';
import { machineNameOf } from '../../lambdas/providers/compute-provider';
import { MachineNameTakenError, MachineNotReadyError, MachineStartFailedError, ProviderCapacityError, ProviderRejectedError, ProviderUnavailableError, VolumeAttachedError } from '../../lambdas/shared/errors/provider';
import { CAPACITY_ANSWERS, flyProviderFor, startFakeFly, type FakeFly } from '../support/fake-fly';

let fake: FakeFly;
let fly: FlyComputeProvider;
let counter = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Until a just-created machine answers by id, and until lists show what was made. */
const visible = () => sleep(fake.behaviours.readAfterCreateMs + 10);
const listed = () => sleep(fake.behaviours.listLagMs + 10);

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
    await listed();

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
    const slow = await startFakeFly({ secondMs: 10, startMs: 400 });
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
    const lagging = await startFakeFly({ behaviours: { listLagMs: 500 } });
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

describe('the Fly adapter, where Fly is not what the spec reads', () => {
  const spec = (t: ResourceTags, volumeId: string, extra: Partial<Parameters<FlyComputeProvider['createMachine']>[0]> = {}) => ({
    name: machineNameOf(t.instance, 'v1'),
    region: 'ams',
    size: 'shared-cpu-1x',
    image: 'x',
    volumeId,
    mountPath: '/data',
    tags: t,
    ...extra,
  });

  it('waits out the 404 a just-created machine answers, as flyctl WithJustCreated does', async () => {
    const t = tags();
    const volume = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
    const m = await fly.createMachine(spec(t, volume.id));

    const started = await fly.waitForState(m.id, 'started', 5_000);

    expect(started.state).toBe('started');
    expect(fake.calls.some((c) => c.operationId === 'Machines_show' && c.status === 404)).toBe(true);
  });

  it('believes a 404 once it outlasts the read-after-create window', async () => {
    await expect(fly.getMachine('0123456789abcd')).resolves.toBeNull();

    expect(fake.calls.filter((c) => c.operationId === 'Machines_show').length).toBeGreaterThan(1);
  });

  it('names the instance when waiting for stopped, which Fly requires', async () => {
    const slow = await startFakeFly({ stopMs: 300 });
    try {
      const adapter = flyProviderFor(slow);
      const t = tags();
      const volume = await adapter.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
      const m = await adapter.createMachine(spec(t, volume.id));
      await adapter.waitForState(m.id, 'started', 5_000);

      await adapter.stopMachine(m.id);
      await adapter.waitForState(m.id, 'stopped', 5_000);

      const waits = slow.calls.filter((c) => c.operationId === 'Machines_wait' && c.query.state === 'stopped');
      expect(waits.map((c) => [c.query.instance_id, c.status])).toEqual([[slow.machine(m.id)!.instance_id, 200]]);
    } finally {
      await slow.close();
    }
  });

  it('reports a taken machine name with the holder, and adopts it by id and tags behind a lagging list', async () => {
    const t = tags();
    const volume = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
    const first = await fly.createMachine(spec(t, volume.id));

    const taken = await fly.createMachine(spec(t, volume.id, { volumeId: 'vol_other' })).catch((error: unknown) => error);
    const again = await createOrAdoptMachine(fly, spec(t, volume.id));

    expect(taken).toBeInstanceOf(MachineNameTakenError);
    expect((taken as MachineNameTakenError).existingMachineId).toBe(first.id);
    expect(again).toMatchObject({ adopted: true, machine: { id: first.id } });
    expect(fake.machines().filter((m) => m.state !== 'destroyed' && m.config.metadata?.slipway_instance === t.instance)).toHaveLength(1);
  });

  it('deletes the volume of a machine it just destroyed in one call, though Fly detaches it late', async () => {
    const { volume, machine: m } = await machine(true);
    await visible();

    await fly.destroyMachine(m.id);
    await fly.deleteVolume(volume.id);

    const deletes = fake.calls.filter((c) => c.operationId === 'Volume_delete');
    expect(deletes[0]?.status).toBe(412);
    expect(deletes[deletes.length - 1]?.status).toBe(200);
    expect(fake.volume(volume.id)!.state).toBe('pending_destroy');
  });

  it('verifies a cleanup by GET of each id while the lists still show the deleted and miss the new', async () => {
    const t = tags();
    const volume = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
    // An ambiguous create: the machine exists, its id was never learnt, the list does not show it yet.
    fake.inject('Machines_create', { status: 503, after: true });
    await expect(fly.createMachine(spec(t, volume.id))).rejects.toBeInstanceOf(ProviderUnavailableError);

    const report = await destroyTaggedResources(fly, t.owner, t.instance, { knownVolumes: [volume.id], recentCreates: true });

    expect(report.verified).toBe(true);
    expect(fake.machines().filter((m) => m.config.metadata?.slipway_instance === t.instance).map((m) => m.state)).toEqual(['destroyed']);
    expect(fake.volume(volume.id)!.state).toBe('pending_destroy');
  });

  it('releases the lease of a destroy that failed, so a retry is not refused', async () => {
    const { machine: m } = await machine(false);
    await visible();
    fake.inject('Machines_delete', { status: 500 });

    await expect(fly.destroyMachine(m.id)).rejects.toBeInstanceOf(ProviderUnavailableError);
    await fly.destroyMachine(m.id);

    expect(fake.calls.filter((c) => c.operationId === 'Machines_release_lease')).toHaveLength(1);
    expect(fake.machine(m.id)!.state).toBe('destroyed');
  });

  it('takes a 404 after a 5xx delete as the delete having happened', async () => {
    const { volume, machine: m } = await machine(false);
    await visible();
    await fly.destroyMachine(m.id);
    await sleep(fake.behaviours.detachMs + 10);
    fake.inject('Volume_delete', { status: 502, after: true });

    await fly.deleteVolume(volume.id);

    expect(fake.calls.filter((c) => c.operationId === 'Volume_delete').map((c) => c.status)).toEqual([502, 404]);
  });

  it('fails a start that Fly answers with status "error"', async () => {
    const { machine: m } = await machine(false);
    fake.inject('Machines_start', { status: 200, body: { status: 'error', error: 'failed to start VM' } });

    await expect(fly.startMachine(m.id)).rejects.toBeInstanceOf(MachineStartFailedError);
  });

  it("ignores flaps' bg_deployments_compat checks when judging health", async () => {
    const { machine: m } = await machine(true);
    await fly.waitForState(m.id, 'started', 5_000);

    const health = await fly.probeHealth(m.id);

    expect(fake.calls.length).toBeGreaterThan(0);
    expect(health.healthy).toBe(true);
    expect(JSON.stringify(await (await fetch(`${fake.baseUrl}/apps/${fake.app}/machines/${m.id}`, { headers: { authorization: `Bearer ${fake.token}` } })).json())).toContain('bg_deployments_compat');
  });

  it("places a volume for its machine's guest, so a larger machine fits its host", async () => {
    const t = tags();
    const hinted = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t, machineSize: 'performance-2x' });
    const bare = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: { ...t, reservation: 'v2' } });

    await expect(fly.createMachine(spec(t, hinted.id, { size: 'performance-2x' }))).resolves.toMatchObject({ size: 'performance-2x' });
    await expect(fly.createMachine(spec(t, bare.id, { size: 'performance-2x', name: machineNameOf(t.instance, 'v2') }))).rejects.toBeInstanceOf(ProviderCapacityError);
    expect(fake.calls.find((c) => c.operationId === 'Volumes_create')?.body).toMatchObject({ compute: { cpu_kind: 'performance', cpus: 2, memory_mb: 4096 }, require_unique_zone: false });
  });

  it('forks a volume again and again in a region of few zones (require_unique_zone off)', async () => {
    const { tags: t, volume } = await machine(false);

    const forks = [];
    for (let i = 0; i < fake.behaviours.zonesPerRegion + 1; i++) forks.push(await fly.forkVolume({ name: volumeNameOf(t.instance), sourceVolumeId: volume.id, tags: t }));

    expect(new Set(forks.map((f) => f.id)).size).toBe(fake.behaviours.zonesPerRegion + 1);
  });

  it('returns a snapshot only once Fly lists it as created, and never takes two for one call', async () => {
    const { volume } = await machine(false);

    const snapshot = await fly.createSnapshot(volume.id);

    expect(fake.snapshotsOf(volume.id).map((each) => [each.id, each.status])).toEqual([[snapshot.id, 'created']]);
  });

  it('sends a macaroon token as FlyV1 and any other as Bearer', async () => {
    const macaroon = await startFakeFly({ token: 'FlyV1 fm2_lJPECAAAAAAAAabc,fm2_lJPEdef' });
    try {
      const adapter = flyProviderFor(macaroon);
      await expect(adapter.findVolumes({})).resolves.toEqual([]);
      expect(macaroon.calls).toHaveLength(1);
    } finally {
      await macaroon.close();
    }
    await expect(fly.findVolumes({})).resolves.toEqual(expect.any(Array));
  });

  it('waits out per-action rate limits with and without Retry-After', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => fly.findVolumes({})));

    expect(results).toHaveLength(5);
    const limited = fake.calls.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
  });

  it.each(CAPACITY_ANSWERS.map((a) => [a.status, a.body.error, a] as const))('reads Fly\'s %i "%s" as a capacity refusal', async (_status, _text, capacity) => {
    const t = tags();
    const volume = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });
    fake.inject(capacity.operation, { status: capacity.status, body: capacity.body });

    const attempt = capacity.operation === 'Volumes_create' ? fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t }) : fly.createMachine(spec(t, volume.id));

    await expect(attempt).rejects.toBeInstanceOf(ProviderCapacityError);
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
    await visible();

    expect((await raw('POST', `/apps/${fake.app}/machines/${m.id}/stop`)).status).toBe(400);
    expect((await raw('GET', `/apps/${fake.app}/machines/${m.id}/wait?state=stopped&timeout=61`)).status).toBe(400);
  });

  it('answers 408 deadline_exceeded when a wait runs out', async () => {
    const { machine: m } = await machine(false);
    await visible();

    const res = await raw('GET', `/apps/${fake.app}/machines/${m.id}/wait?state=started&timeout=1`);

    expect(res).toMatchObject({ status: 408, body: { error: expect.stringContaining('deadline_exceeded') } });
  });

  it('wraps a lease in an envelope and refuses a mutation without its nonce', async () => {
    const { machine: m } = await machine(false);
    await visible();

    const lease = await raw('POST', `/apps/${fake.app}/machines/${m.id}/lease`, { ttl: 30 });
    const start = await raw('POST', `/apps/${fake.app}/machines/${m.id}/start`);

    expect(lease).toMatchObject({ status: 201, body: { status: 'success', data: { nonce: expect.any(String) } } });
    expect(start.status).toBe(409);
  });

  it('answers 404 for a machine just created, then the machine', async () => {
    const slow = await startFakeFly({ behaviours: { readAfterCreateMs: 400 } });
    try {
      const headers = { authorization: `Bearer ${slow.token}`, 'content-type': 'application/json' };
      const created = (await (await fetch(`${slow.baseUrl}/apps/${slow.app}/machines`, { method: 'POST', headers, body: JSON.stringify({ region: 'ams', config: { image: 'x' } }) })).json()) as { id: string };

      const early = await fetch(`${slow.baseUrl}/apps/${slow.app}/machines/${created.id}`, { headers });
      await sleep(450);
      const late = await fetch(`${slow.baseUrl}/apps/${slow.app}/machines/${created.id}`, { headers });

      expect([early.status, late.status]).toEqual([404, 200]);
    } finally {
      await slow.close();
    }
  });

  it('lists a new machine late and a destroyed one for a while after', async () => {
    const { tags: t, machine: m } = await machine(false);
    const query = `/apps/${fake.app}/machines?metadata.slipway_instance=${t.instance}`;

    const before = (await raw('GET', query)).body as unknown as unknown[];
    await listed();
    const after = (await raw('GET', query)).body as unknown as unknown[];
    await fly.destroyMachine(m.id);
    const stillListed = (await raw('GET', query)).body as unknown as unknown[];

    expect([before.length, after.length, stillListed.length]).toEqual([0, 1, 1]);
  });

  it('refuses a second machine of the same name with 409 already_exists', async () => {
    const { tags: t, volume } = await machine(false);
    const other = await fly.createVolume({ name: volumeNameOf(t.instance), region: 'ams', sizeGb: 1, tags: t });

    const res = await raw('POST', `/apps/${fake.app}/machines`, { name: t.instance, region: 'ams', config: { image: 'x', mounts: [{ volume: other.id, path: '/data' }] } });

    expect(res).toMatchObject({ status: 409, body: { error: expect.stringContaining('already_exists') } });
    expect(volume.id).not.toBe(other.id);
  });

  it('refuses a wait for stopped without instance_id', async () => {
    const { machine: m } = await machine(true);
    await visible();

    const res = await raw('GET', `/apps/${fake.app}/machines/${m.id}/wait?state=stopped&timeout=1`);

    expect(res).toMatchObject({ status: 400, body: { error: 'instance_id required when waiting for stopped machine' } });
  });

  it('keeps a destroyed machine\'s volume bound for a while, with the real 412 body', async () => {
    const { volume, machine: m } = await machine(false);
    await visible();
    await raw('DELETE', `/apps/${fake.app}/machines/${m.id}?force=true`);

    const res = await raw('DELETE', `/apps/${fake.app}/volumes/${volume.id}`);

    expect(res).toEqual({ status: 412, body: { error: `failed_precondition: volume is currently bound to machine: ${m.id}` } });
  });

  it('runs out of zones for volumes of one name under require_unique_zone (the default)', async () => {
    const name = volumeNameOf(tags().instance);
    const statuses = [];
    for (let i = 0; i <= fake.behaviours.zonesPerRegion; i++) {
      statuses.push((await raw('POST', `/apps/${fake.app}/volumes`, { name, region: 'ams', size_gb: 1 })).status);
      await sleep(60); // within the (test-scaled) rate limit
    }

    expect(statuses).toEqual([...Array(fake.behaviours.zonesPerRegion).fill(200), 400]);
  });

  it('takes a snapshot asynchronously and answers the create without its id', async () => {
    const { volume } = await machine(false);

    const res = await raw('POST', `/apps/${fake.app}/volumes/${volume.id}/snapshots`);

    expect(res).toEqual({ status: 200, body: null });
    expect(fake.snapshotsOf(volume.id).map((each) => each.status)).toEqual(['waiting']);
  });

  it('limits each action per machine, sometimes with Retry-After', async () => {
    const strict = await startFakeFly({ behaviours: { rateScale: 1 } });
    try {
      const headers = { authorization: `Bearer ${strict.token}` };
      const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(`${strict.baseUrl}/apps/${strict.app}/volumes`, { headers })));

      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429, 429, 429]);
      expect(answers.filter((r) => r.status === 429).map((r) => r.headers.get('retry-after'))).toEqual(['1', null, '1']);
    } finally {
      await strict.close();
    }
  });

  it('wants a macaroon token under the FlyV1 scheme', async () => {
    const macaroon = await startFakeFly({ token: 'fm2_abc' });
    try {
      const asBearer = await fetch(`${macaroon.baseUrl}/apps/${macaroon.app}/volumes`, { headers: { authorization: 'Bearer fm2_abc' } });
      const asFlyV1 = await fetch(`${macaroon.baseUrl}/apps/${macaroon.app}/volumes`, { headers: { authorization: 'FlyV1 fm2_abc' } });

      expect([asBearer.status, asFlyV1.status]).toEqual([401, 200]);
    } finally {
      await macaroon.close();
    }
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

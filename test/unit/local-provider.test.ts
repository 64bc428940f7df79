import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { MachineSpec, ResourceTags } from '../../lambdas/providers/compute-provider';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';
import { MachineNotReadyError, MachineStartFailedError, ProviderResourceNotFoundError, VolumeAttachedError } from '../../lambdas/shared/errors/provider';

const START_MS = 5_000;
const BOOT_LINE = /^started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z machine=m_[0-9a-z]{26}$/;

interface MachineAnswer {
  instanceId: string;
  machineId: string;
  volumeFile: string;
  startedAt: string;
}

let rootDir: string;
let providers: LocalComputeProvider[];

function newProvider(options: { startTimeoutMs?: number } = {}): LocalComputeProvider {
  const provider = new LocalComputeProvider({ rootDir, ...options });
  providers.push(provider);
  return provider;
}

function tags(instance: string, overrides: Partial<ResourceTags> = {}): ResourceTags {
  return { owner: 'user:u1', instance, reservation: `res-${instance}`, ...overrides };
}

function machineSpec(volumeId: string, instance: string, overrides: Partial<MachineSpec> = {}): MachineSpec {
  return {
    name: `machine-${instance}`,
    region: 'local',
    size: 'shared-cpu-1x',
    image: 'slipway/default',
    volumeId,
    mountPath: '/data',
    tags: tags(instance),
    ...overrides,
  };
}

async function getAnswer(endpoint: string | null): Promise<MachineAnswer> {
  if (!endpoint) throw new Error('machine has no endpoint');
  const response = await fetch(`${endpoint}/`);
  expect(response.status).toBe(200);
  return (await response.json()) as MachineAnswer;
}

function bootLines(answer: MachineAnswer): string[] {
  return answer.volumeFile.trimEnd().split('\n');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A volume plus a started machine on it. */
async function startedMachine(provider: LocalComputeProvider, instance = 'i1') {
  const volume = await provider.createVolume({ name: `vol-${instance}`, region: 'local', sizeGb: 1, tags: tags(instance) });
  const created = await provider.createMachine(machineSpec(volume.id, instance));
  const machine = await provider.waitForState(created.id, 'started', START_MS);
  return { volume, machine };
}

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-local-provider-'));
  providers = [];
});

afterEach(async () => {
  await Promise.all(providers.map((provider) => provider.shutdown()));
  await rm(rootDir, { recursive: true, force: true });
});

describe('LocalComputeProvider machines', () => {
  it('runs a machine that answers with its identity and the boot log of its volume', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'vol-i1', region: 'local', sizeGb: 1, tags: tags('i1') });

    const created = await provider.createMachine(machineSpec(volume.id, 'i1'));
    const machine = await provider.waitForState(created.id, 'started', START_MS);

    expect(created.state).toBe('starting');
    expect(machine).toEqual({
      id: created.id,
      name: 'machine-i1',
      region: 'local',
      size: 'shared-cpu-1x',
      image: 'slipway/default',
      state: 'started',
      mount: { volumeId: volume.id, path: '/data' },
      tags: tags('i1'),
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      lastExit: null,
      createdAt: created.createdAt,
    });
    const answer = await getAnswer(machine.endpoint);
    expect(answer).toEqual({
      instanceId: 'i1',
      machineId: machine.id,
      volumeFile: expect.any(String),
      startedAt: expect.any(String),
    });
    expect(bootLines(answer)).toEqual([`started ${answer.startedAt} machine=${machine.id}`]);
    expect(bootLines(answer)[0]).toMatch(BOOT_LINE);
    expect(await provider.getVolume(volume.id)).toMatchObject({ state: 'created', attachedMachineId: machine.id });
  });

  it('reports a started machine healthy and a stopped one unhealthy', async () => {
    const provider = newProvider();
    const { machine } = await startedMachine(provider);

    const healthy = await provider.probeHealth(machine.id);
    await provider.stopMachine(machine.id);
    const stopped = await provider.probeHealth(machine.id);

    expect(healthy).toEqual({ healthy: true, status: 200, body: expect.objectContaining({ machineId: machine.id }), error: null });
    expect(stopped).toEqual({ healthy: false, status: null, body: null, error: 'machine is stopped' });
  });

  it('reports the answer of a failing health check', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });
    const created = await provider.createMachine(machineSpec(volume.id, 'i1', { env: { SLIPWAY_IMAGE_UNHEALTHY: '1' } }));
    await provider.waitForState(created.id, 'started', START_MS);

    const health = await provider.probeHealth(created.id);

    expect(health).toEqual({ healthy: false, status: 503, body: expect.objectContaining({ machineId: created.id }), error: 'health check answered 503' });
  });

  it('appends a boot line on every start and records a requested stop', async () => {
    const provider = newProvider();
    const { machine } = await startedMachine(provider);

    const stopped = await provider.stopMachine(machine.id);
    const restarted = await provider.startMachine(machine.id);
    const started = await provider.waitForState(machine.id, 'started', START_MS);

    expect(stopped).toMatchObject({ state: 'stopped', endpoint: null, lastExit: { requestedStop: true, exitCode: 0, at: expect.any(String) } });
    expect(restarted.state).toBe('starting');
    const lines = bootLines(await getAnswer(started.endpoint));
    expect(lines).toHaveLength(2);
    lines.forEach((line) => expect(line).toMatch(BOOT_LINE));
  });

  it('reads a machine killed from outside as stopped by an unexpected exit', async () => {
    const provider = newProvider();
    const { machine } = await startedMachine(provider);
    const pid = await provider.processId(machine.id);

    process.kill(pid!, 'SIGKILL');
    await provider.waitForState(machine.id, 'stopped', START_MS);

    expect(await provider.getMachine(machine.id)).toMatchObject({
      state: 'stopped',
      endpoint: null,
      lastExit: { requestedStop: false, exitCode: null, at: expect.any(String) },
    });
    expect(await provider.processId(machine.id)).toBeNull();
  });

  it('reads machines of a shut-down provider as stopped by an unexpected exit and starts them again', async () => {
    const first = newProvider();
    const { machine } = await startedMachine(first);
    const pid = (await first.processId(machine.id))!;

    await first.shutdown();
    const second = newProvider();
    const seen = await second.getMachine(machine.id);
    await second.startMachine(machine.id);
    const started = await second.waitForState(machine.id, 'started', START_MS);

    expect(isAlive(pid)).toBe(false);
    expect(seen).toMatchObject({ state: 'stopped', endpoint: null, lastExit: { requestedStop: false, exitCode: null } });
    expect(bootLines(await getAnswer(started.endpoint))).toHaveLength(2);
  });

  it('leaves no machine process behind after shutdown', async () => {
    const provider = newProvider();
    const one = await startedMachine(provider, 'i1');
    const two = await startedMachine(provider, 'i2');
    const pids = [await provider.processId(one.machine.id), await provider.processId(two.machine.id)];

    await provider.shutdown();

    expect(pids.every((pid) => typeof pid === 'number')).toBe(true);
    expect(pids.filter((pid) => isAlive(pid!))).toEqual([]);
  });

  it('lets a second provider object over the same rootDir see and stop a running machine', async () => {
    const first = newProvider();
    const second = newProvider();
    const { machine } = await startedMachine(first);

    const seen = await second.getMachine(machine.id);
    const stopped = await second.stopMachine(machine.id);

    expect(seen).toMatchObject({ state: 'started', endpoint: machine.endpoint });
    expect(stopped).toMatchObject({ state: 'stopped', lastExit: { requestedStop: true } });
    expect(await first.getMachine(machine.id)).toMatchObject({ state: 'stopped', lastExit: { requestedStop: true } });
  });

  it('creates a machine without starting it when asked', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });

    const created = await provider.createMachine(machineSpec(volume.id, 'i1', { start: false }));

    expect(created).toMatchObject({ state: 'created', endpoint: null });
    expect(await provider.processId(created.id)).toBeNull();
  });

  it('throws MachineNotReadyError when the state is not reached in time', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });
    const created = await provider.createMachine(machineSpec(volume.id, 'i1', { start: false }));

    await expect(provider.waitForState(created.id, 'started', 30)).rejects.toBeInstanceOf(MachineNotReadyError);
  });

  it('throws MachineStartFailedError when the machine exits instead of starting', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });
    const created = await provider.createMachine(machineSpec(volume.id, 'i1', { env: { SLIPWAY_IMAGE_FAIL_START: '1' } }));

    await expect(provider.waitForState(created.id, 'started', START_MS)).rejects.toBeInstanceOf(MachineStartFailedError);
    expect(await provider.getMachine(created.id)).toMatchObject({
      state: 'stopped',
      lastExit: { requestedStop: false, exitCode: 1 },
    });
  });

  it('kills a machine that does not listen within startTimeoutMs', async () => {
    const provider = newProvider({ startTimeoutMs: 1 });
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });
    const created = await provider.createMachine(machineSpec(volume.id, 'i1'));

    await expect(provider.waitForState(created.id, 'started', START_MS)).rejects.toBeInstanceOf(MachineStartFailedError);
    expect(await provider.getMachine(created.id)).toMatchObject({ state: 'stopped', lastExit: { requestedStop: false } });
  });

  it('starts a machine once when many starts race', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });
    const created = await provider.createMachine(machineSpec(volume.id, 'i1', { start: false }));

    await Promise.all(Array.from({ length: 5 }, () => provider.startMachine(created.id)));
    const started = await provider.waitForState(created.id, 'started', START_MS);

    expect(bootLines(await getAnswer(started.endpoint))).toHaveLength(1);
  });

  it('leaves no process running when a destroy races starts and stops', async () => {
    const provider = newProvider();
    const { machine } = await startedMachine(provider);
    const pid = (await provider.processId(machine.id))!;

    await Promise.allSettled([
      provider.stopMachine(machine.id),
      provider.startMachine(machine.id),
      provider.destroyMachine(machine.id),
      provider.startMachine(machine.id),
    ]);

    expect(await provider.getMachine(machine.id)).toMatchObject({ state: 'destroyed', endpoint: null });
    expect(await provider.processId(machine.id)).toBeNull();
    expect(isAlive(pid)).toBe(false);
  });

  it('mounts a volume on one machine only, even when creates race', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });

    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => provider.createMachine(machineSpec(volume.id, 'i1', { start: false }))),
    );

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const reasons = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(reasons).toHaveLength(4);
    reasons.forEach((reason) => expect(reason).toBeInstanceOf(VolumeAttachedError));
  });

  it('answers unknown machines and volumes as not found', async () => {
    const provider = newProvider();

    expect(await provider.getMachine('m_unknown')).toBeNull();
    expect(await provider.getVolume('../../etc')).toBeNull();
    await expect(provider.startMachine('m_unknown')).rejects.toBeInstanceOf(ProviderResourceNotFoundError);
    await expect(provider.createMachine(machineSpec('vol_unknown', 'i1'))).rejects.toBeInstanceOf(ProviderResourceNotFoundError);
    await expect(provider.destroyMachine('m_unknown')).resolves.toBeUndefined();
    await expect(provider.deleteVolume('vol_unknown')).resolves.toBeUndefined();
  });
});

describe('LocalComputeProvider volumes and inventory', () => {
  it('finds machines and volumes by every given tag and leaves destroyed ones out', async () => {
    const provider = newProvider();
    const a = await provider.createVolume({ name: 'a', region: 'local', sizeGb: 1, tags: tags('a') });
    const b = await provider.createVolume({ name: 'b', region: 'local', sizeGb: 1, tags: tags('b') });
    const c = await provider.createVolume({ name: 'c', region: 'local', sizeGb: 1, tags: tags('c', { owner: 'org:o1' }) });
    const ma = await provider.createMachine(machineSpec(a.id, 'a', { start: false }));
    const mb = await provider.createMachine(machineSpec(b.id, 'b', { start: false }));
    const mc = await provider.createMachine(machineSpec(c.id, 'c', { start: false, tags: tags('c', { owner: 'org:o1' }) }));

    await provider.destroyMachine(mb.id);
    await provider.deleteVolume(b.id);

    expect((await provider.findVolumes({ owner: 'user:u1' })).map((volume) => volume.id)).toEqual([a.id]);
    expect((await provider.findVolumes({ instance: 'c', reservation: 'res-c' })).map((volume) => volume.id)).toEqual([c.id]);
    expect(await provider.findVolumes({ instance: 'c', reservation: 'res-other' })).toEqual([]);
    expect((await provider.findMachines({})).map((machine) => machine.id)).toEqual([ma.id, mc.id]);
    expect((await provider.findMachines({ owner: 'org:o1' })).map((machine) => machine.id)).toEqual([mc.id]);
    const inventory = await provider.inventory({ instance: 'a' });
    expect(inventory.machines.map((machine) => machine.id)).toEqual([ma.id]);
    expect(inventory.volumes).toEqual([expect.objectContaining({ id: a.id, attachedMachineId: ma.id })]);
    expect(await provider.inventory({ instance: 'b' })).toEqual({ machines: [], volumes: [] });
  });

  it('refuses to delete an attached volume and deletes it idempotently once the machine is destroyed', async () => {
    const provider = newProvider();
    const { volume, machine } = await startedMachine(provider);
    const pid = (await provider.processId(machine.id))!;

    const attached = provider.deleteVolume(volume.id);
    await expect(attached).rejects.toBeInstanceOf(VolumeAttachedError);
    await provider.destroyMachine(machine.id);
    await provider.destroyMachine(machine.id);
    await provider.deleteVolume(volume.id);
    await provider.deleteVolume(volume.id);

    expect(isAlive(pid)).toBe(false);
    expect(await provider.getMachine(machine.id)).toMatchObject({
      state: 'destroyed',
      endpoint: null,
      lastExit: { requestedStop: true, exitCode: 0 },
    });
    expect(await provider.getVolume(volume.id)).toMatchObject({ state: 'destroyed', attachedMachineId: null });
    expect(await provider.inventory({ instance: 'i1' })).toEqual({ machines: [], volumes: [] });
    await expect(provider.startMachine(machine.id)).rejects.toBeInstanceOf(ProviderResourceNotFoundError);
  });

  it('forks a volume with a copy of its data', async () => {
    const provider = newProvider();
    const { volume: source } = await startedMachine(provider, 'old');

    const fork = await provider.forkVolume({ name: 'fork', sourceVolumeId: source.id, tags: tags('new') });
    const created = await provider.createMachine(machineSpec(fork.id, 'new'));
    const machine = await provider.waitForState(created.id, 'started', START_MS);

    expect(fork).toMatchObject({ name: 'fork', region: 'local', sizeGb: 1, state: 'created', sourceVolumeId: source.id, attachedMachineId: null, tags: tags('new') });
    const lines = bootLines(await getAnswer(machine.endpoint));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`machine=${machine.id}`);
  });

  it('lists the snapshots of a volume, oldest first, and drops them with the volume', async () => {
    const provider = newProvider();
    const volume = await provider.createVolume({ name: 'v', region: 'local', sizeGb: 1, tags: tags('i1') });
    const other = await provider.createVolume({ name: 'o', region: 'local', sizeGb: 1, tags: tags('i2') });
    await writeFile(path.join(rootDir, 'volumes', volume.id, 'data', 'hello.txt'), 'hello');

    const first = await provider.createSnapshot(volume.id);
    const second = await provider.createSnapshot(volume.id);
    await provider.createSnapshot(other.id);
    const listed = await provider.listSnapshots(volume.id);
    await provider.deleteVolume(volume.id);

    expect(first).toEqual({ id: expect.stringMatching(/^snap_/), volumeId: volume.id, sizeBytes: 5, createdAt: expect.any(String) });
    expect(listed).toEqual([first, second]);
    expect(await provider.listSnapshots(volume.id)).toEqual([]);
    expect(await provider.listSnapshots(other.id)).toHaveLength(1);
    await expect(provider.createSnapshot(volume.id)).rejects.toBeInstanceOf(ProviderResourceNotFoundError);
  });
});

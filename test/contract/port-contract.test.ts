/**
 * The ComputeProvider contract, run against every adapter: the `local` provider and the Fly adapter
 * against the fake Fly with its real behaviours on. What the domain relies on holds for both: reads
 * by id are the truth at once; lists catch up within the provider's `listLagMs`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineNameOf, volumeNameOf, type ComputeProvider, type ResourceTags } from '../../lambdas/providers/compute-provider';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';
import { MachineStartFailedError, VolumeAttachedError } from '../../lambdas/shared/errors/provider';
import { flyProviderFor, startFakeFly, type FakeFly } from '../support/fake-fly';

interface Subject {
  provider: ComputeProvider;
  region: string;
  close(): Promise<void>;
}

const subjects: Record<string, () => Promise<Subject>> = {
  local: async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-contract-'));
    const provider = new LocalComputeProvider({ rootDir: dir });
    return {
      provider,
      region: 'local',
      close: async () => {
        await provider.shutdown();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  fly: async () => {
    const fake: FakeFly = await startFakeFly();
    return { provider: flyProviderFor(fake), region: 'ams', close: () => fake.close() };
  },
};

let counter = 0;
/** A fresh instance's tags and volume name. */
function instance(): { tags: ResourceTags; volumeName: string } {
  const id = `i-01m8${String(++counter).padStart(22, '0')}`;
  return { tags: { owner: 'user:contract', instance: id, reservation: 'v1' }, volumeName: volumeNameOf(id) };
}

describe.each(Object.keys(subjects))('the %s provider', (name) => {
  let s: Subject;
  beforeAll(async () => {
    s = await subjects[name]!();
  });
  afterAll(async () => {
    await s.close();
  });

  /** Lists are eventually consistent: what the contract promises of them holds once the provider's list lag has passed. */
  const afterListLag = () => new Promise((resolve) => setTimeout(resolve, s.provider.listLagMs ?? 0));

  async function volumeAndMachine(start = true) {
    const { tags, volumeName } = instance();
    const volume = await s.provider.createVolume({ name: volumeName, region: s.region, sizeGb: 1, tags });
    const machine = await s.provider.createMachine({ name: tags.instance, region: s.region, size: 'shared-cpu-1x', image: 'slipway/hello:1', volumeId: volume.id, mountPath: '/data', tags, env: { SLIPWAY_INSTANCE_ID: tags.instance }, start });
    return { tags, volume, machine };
  }

  it('finds a volume and a machine by their instance tag', async () => {
    const { tags, volume, machine } = await volumeAndMachine(false);
    await afterListLag();

    const found = await s.provider.inventory({ instance: tags.instance });

    expect(found.volumes.map((v) => v.id)).toEqual([volume.id]);
    expect(found.machines.map((m) => m.id)).toEqual([machine.id]);
    expect(found.machines[0]!.tags).toEqual(tags);
    expect(found.volumes[0]!.tags.instance).toBe(tags.instance);
    expect(found.machines[0]!.mount).toEqual({ volumeId: volume.id, path: '/data' });
  });

  it('starts a machine, reports it healthy, stops it with a requested exit', async () => {
    const { machine } = await volumeAndMachine(false);

    await s.provider.startMachine(machine.id);
    const started = await s.provider.waitForState(machine.id, 'started', 10_000);
    const health = await s.provider.probeHealth(machine.id);
    await s.provider.stopMachine(machine.id);
    const stopped = await s.provider.waitForState(machine.id, 'stopped', 10_000);

    expect(started.endpoint).toEqual(expect.any(String));
    expect(health.healthy).toBe(true);
    expect(stopped).toMatchObject({ state: 'stopped', endpoint: null, lastExit: { requestedStop: true } });
  });

  it('refuses to delete a volume a machine mounts, and deletes it once the machine is gone', async () => {
    const { tags, volume, machine } = await volumeAndMachine(false);

    await expect(s.provider.deleteVolume(volume.id)).rejects.toBeInstanceOf(VolumeAttachedError);
    await s.provider.destroyMachine(machine.id);
    await s.provider.deleteVolume(volume.id);
    await afterListLag();

    expect(await s.provider.inventory({ instance: tags.instance })).toEqual({ machines: [], volumes: [] });
    expect((await s.provider.getVolume(volume.id))?.state ?? 'destroyed').toBe('destroyed');
  });

  it('treats deleting or destroying what is gone as done', async () => {
    const { volume, machine } = await volumeAndMachine(false);
    await s.provider.destroyMachine(machine.id);
    await s.provider.deleteVolume(volume.id);

    await expect(s.provider.destroyMachine(machine.id)).resolves.toBeUndefined();
    await expect(s.provider.deleteVolume(volume.id)).resolves.toBeUndefined();
    expect(await s.provider.getMachine('m_does_not_exist')).toBeNull();
  });

  it('lists the machines that are not running (stopped and destroyed ones), each with its instance, and not the running ones', async () => {
    const make = async () => {
      const { tags, volumeName } = instance();
      const volume = await s.provider.createVolume({ name: volumeName, region: s.region, sizeGb: 1, tags });
      const machine = await s.provider.createMachine({ name: machineNameOf(tags.instance, 'v1'), region: s.region, size: 'shared-cpu-1x', image: 'slipway/hello:1', volumeId: volume.id, mountPath: '/data', tags, env: { SLIPWAY_INSTANCE_ID: tags.instance }, start: true });
      await s.provider.waitForState(machine.id, 'started', 10_000);
      return { tags, machine };
    };
    const [running, stopped, destroyed] = [await make(), await make(), await make()];
    await s.provider.stopMachine(stopped.machine.id);
    await s.provider.waitForState(stopped.machine.id, 'stopped', 10_000);
    await s.provider.destroyMachine(destroyed.machine.id);
    await afterListLag();

    const listed = [];
    let cursor: string | undefined;
    do {
      const page = await s.provider.listNotRunning(cursor);
      listed.push(...page.machines);
      cursor = page.cursor ?? undefined;
    } while (cursor);

    expect(listed).toContainEqual({ id: stopped.machine.id, instanceId: stopped.tags.instance, state: 'stopped' });
    expect(listed).toContainEqual({ id: destroyed.machine.id, instanceId: destroyed.tags.instance, state: 'destroyed' });
    expect(listed.map((m) => m.id)).not.toContain(running.machine.id);
  });

  it('fails a wait for started when the machine stopped instead', async () => {
    const { machine } = await volumeAndMachine(true);
    await s.provider.waitForState(machine.id, 'started', 10_000);
    await s.provider.stopMachine(machine.id);
    await s.provider.waitForState(machine.id, 'stopped', 10_000);

    await expect(s.provider.waitForState(machine.id, 'started', 2_000)).rejects.toBeInstanceOf(MachineStartFailedError);
  });

  it('forks a volume into a new one the instance can mount, and lists snapshots', async () => {
    const { tags, volume, machine } = await volumeAndMachine(false);
    await s.provider.destroyMachine(machine.id);
    const snapshot = await s.provider.createSnapshot(volume.id);

    const fork = await s.provider.forkVolume({ name: volumeNameOf(tags.instance), sourceVolumeId: volume.id, tags });

    expect(fork.id).not.toBe(volume.id);
    expect(fork.sourceVolumeId).toBe(volume.id);
    await afterListLag();
    expect((await s.provider.listSnapshots(volume.id)).map((snap) => snap.id)).toEqual([snapshot.id]);
    expect((await s.provider.findVolumes({ instance: tags.instance })).map((v) => v.id).sort()).toEqual([volume.id, fork.id].sort());
  });
});

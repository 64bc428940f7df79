import { machineNameOf, type ComputeProvider, type Machine } from '../../providers/compute-provider';
import { ProviderResourceNotFoundError } from '../../shared/errors/provider';
import type { InstanceItem } from '../../domain/instance';
import { assertOwned, createOrAdoptMachine } from '../../domain/provider-resources';

/** Where every machine mounts its instance's volume. */
export const MOUNT_PATH = '/data';

/** Outcome of a mount check. */
export interface MountCheck {
  machine: Machine;
  repaired: boolean;
}

/**
 * The one mount-repair helper (start uses it; the reconcile sweep will too): make sure the
 * instance's machine exists and mounts the instance's volume. A machine on another volume cannot
 * be re-mounted (Fly swaps no mounts), so it is stopped, destroyed after its ownership tags are
 * checked, and made again on the right volume — left stopped, for the caller to start.
 */
export async function ensureMachineOnVolume(provider: ComputeProvider, instance: InstanceItem): Promise<MountCheck> {
  if (!instance.volumeId) throw new ProviderResourceNotFoundError(`Instance ${instance.instanceId} has no volume to mount.`);
  const volume = await provider.getVolume(instance.volumeId);
  if (!volume || volume.state === 'destroyed') throw new ProviderResourceNotFoundError(`Volume ${instance.volumeId} of ${instance.instanceId} no longer exists.`);
  assertOwned(volume, instance.owner, instance.instanceId);

  const current = instance.machineId ? await provider.getMachine(instance.machineId) : null;
  if (current && current.state !== 'destroyed' && current.mount?.volumeId === volume.id) return { machine: current, repaired: false };
  if (current && current.state !== 'destroyed') {
    assertOwned(current, instance.owner, instance.instanceId);
    await provider.destroyMachine(current.id);
  }
  const { machine } = await createOrAdoptMachine(provider, {
    name: machineNameOf(instance.instanceId, `repair-v${instance.version}`),
    region: instance.region,
    size: instance.size,
    image: instance.image,
    volumeId: volume.id,
    mountPath: MOUNT_PATH,
    // From the instance, not the volume: a provider may not keep an owner on volumes.
    tags: { owner: instance.owner, instance: instance.instanceId, reservation: current?.tags.reservation ?? volume.tags.reservation ?? 'repair' },
    env: { SLIPWAY_INSTANCE_ID: instance.instanceId },
    start: false,
  });
  return { machine, repaired: true };
}

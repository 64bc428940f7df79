import type { ComputeProvider, Machine, MachineSpec, ResourceTags, Volume, VolumeSpec } from '../providers/compute-provider';
import { OwnershipMismatchError, VolumeAttachedError } from '../shared/errors';

/** Oldest first, ties broken by id: every concurrent attempt picks the same winner. */
function byAge<T extends { createdAt: string; id: string }>(a: T, b: T): number {
  return a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt);
}

/** A listing plus what was just created, once: a lagging list may not show it yet. */
function withCreated<T extends { id: string }>(listed: T[], created: T): T[] {
  return listed.some((resource) => resource.id === created.id) ? listed : [...listed, created];
}

/**
 * Refuse to touch a resource whose tags say it belongs to someone else. The instance must match;
 * the owner must too wherever the provider records it (Fly volumes carry only their instance,
 * through their name — instance ids are unique, and the table knows each instance's owner).
 */
export function assertOwned(resource: { id: string; tags: Partial<ResourceTags> }, owner: string, instanceId: string): void {
  if (resource.tags.instance !== instanceId || (resource.tags.owner !== undefined && resource.tags.owner !== owner)) {
    throw new OwnershipMismatchError(`Resource ${resource.id} is not tagged for ${owner}/${instanceId}; refusing to touch it.`, {
      context: { resourceId: resource.id, tags: resource.tags },
    });
  }
}

/**
 * Create the instance's volume, or adopt the one an earlier attempt made (an ambiguous create that
 * succeeded at the provider but failed for us). If two attempts raced and both created, the
 * oldest wins and the others are deleted, so retries converge on exactly one.
 */
export async function createOrAdoptVolume(provider: ComputeProvider, spec: VolumeSpec): Promise<{ volume: Volume; adopted: boolean }> {
  const existing = (await provider.findVolumes({ owner: spec.tags.owner, instance: spec.tags.instance })).sort(byAge);
  if (existing[0]) return { volume: existing[0], adopted: true };
  const created = await provider.createVolume(spec);
  // A provider's list may lag its creates (Fly's does): count what we just made even if unlisted.
  const [winner, ...extras] = withCreated(await provider.findVolumes({ owner: spec.tags.owner, instance: spec.tags.instance }), created).sort(byAge);
  for (const extra of extras) if (!extra.attachedMachineId) await provider.deleteVolume(extra.id);
  if (!winner) throw new Error(`Volume ${spec.name} vanished right after it was created`);
  return { volume: winner, adopted: false };
}

/**
 * Create the instance's machine on `spec.volumeId`, or adopt one an earlier attempt made. A tagged
 * machine mounted on another volume is ours but wrong: it is destroyed and made again.
 */
export async function createOrAdoptMachine(provider: ComputeProvider, spec: MachineSpec): Promise<{ machine: Machine; adopted: boolean }> {
  const filter = { owner: spec.tags.owner, instance: spec.tags.instance };
  const existing = (await provider.findMachines(filter)).sort(byAge);
  const onVolume = existing.filter((m) => m.mount?.volumeId === spec.volumeId);
  for (const wrong of existing.filter((m) => m.mount?.volumeId !== spec.volumeId)) await provider.destroyMachine(wrong.id);
  if (onVolume[0]) {
    for (const extra of onVolume.slice(1)) await provider.destroyMachine(extra.id);
    return { machine: onVolume[0], adopted: true };
  }
  let created: Machine;
  try {
    created = await provider.createMachine(spec);
  } catch (error) {
    // The volume already has a machine that the (lagging) list did not show: adopt it if it is ours.
    if (!(error instanceof VolumeAttachedError)) throw error;
    const holderId = (await provider.getVolume(spec.volumeId))?.attachedMachineId;
    const holder = holderId ? await provider.getMachine(holderId) : null;
    if (!holder || holder.state === 'destroyed') throw error;
    assertOwned(holder, spec.tags.owner, spec.tags.instance);
    return { machine: holder, adopted: true };
  }
  const [winner, ...extras] = withCreated(await provider.findMachines(filter), created).filter((m) => m.mount?.volumeId === spec.volumeId).sort(byAge);
  for (const extra of extras) await provider.destroyMachine(extra.id);
  if (!winner) throw new Error(`Machine ${spec.name} vanished right after it was created`);
  return { machine: winner, adopted: false };
}

/** What a cleanup removed and whether the inventory proves nothing is left. */
export interface CleanupReport {
  verified: boolean;
  destroyedMachines: string[];
  deletedVolumes: string[];
  remaining: { machines: string[]; volumes: string[] };
}

/**
 * Destroy every machine and volume tagged with this owner and instance, then inventory again:
 * `verified` only when the provider reports nothing left.
 */
export async function destroyTaggedResources(provider: ComputeProvider, owner: string, instanceId: string): Promise<CleanupReport> {
  const filter = { owner, instance: instanceId };
  const before = await provider.inventory(filter);
  for (const machine of before.machines) {
    assertOwned(machine, owner, instanceId);
    await provider.destroyMachine(machine.id);
  }
  for (const volume of before.volumes) {
    assertOwned(volume, owner, instanceId);
    await provider.deleteVolume(volume.id);
  }
  const after = await provider.inventory(filter);
  return {
    verified: after.machines.length === 0 && after.volumes.length === 0,
    destroyedMachines: before.machines.map((m) => m.id),
    deletedVolumes: before.volumes.map((v) => v.id),
    remaining: { machines: after.machines.map((m) => m.id), volumes: after.volumes.map((v) => v.id) },
  };
}

/** Tags for every resource of one provision. */
export function provisionTags(owner: string, instanceId: string, reservationVersion: number): ResourceTags {
  return { owner, instance: instanceId, reservation: `v${reservationVersion}` };
}

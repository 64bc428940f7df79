import type { ComputeProvider, Machine, MachineSpec, ResourceTags, Volume, VolumeSeed, VolumeSpec } from '../providers/compute-provider';
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
 * Which of these volume ids slipway keeps on purpose (retained after a recovery or a switch): they
 * carry the instance's tags but are never adopted, never a cleanup's to delete, never orphans.
 */
export type KeptVolumes = (volumeIds: string[]) => Promise<ReadonlySet<string>>;

/** Nothing is kept (a provider with no retained volumes, or a test). */
export const NOTHING_KEPT: KeptVolumes = async () => new Set();

/** The instance's tagged volumes that are not kept, oldest first. */
async function liveTaggedVolumes(provider: ComputeProvider, tags: { owner: string; instance: string }, kept: KeptVolumes): Promise<Volume[]> {
  const found = await provider.findVolumes(tags);
  const keep = found.length > 0 ? await kept(found.map((v) => v.id)) : new Set<string>();
  return found.filter((v) => !keep.has(v.id)).sort(byAge);
}

/** Where a new volume's data comes from: nothing, a volume of the same provider (fork), or a seed another provider handed over. */
export type VolumeOrigin = { kind: 'empty' } | { kind: 'fork'; sourceVolumeId: string } | { kind: 'import'; seed: VolumeSeed };

/**
 * Create the instance's volume, or adopt the one an earlier attempt made (an ambiguous create that
 * succeeded at the provider but failed for us). If two attempts raced and both created, the
 * oldest wins and the others are deleted, so retries converge on exactly one. The only place that
 * creates volumes (a unit test keeps it so): provision, switch and recovery all come through here.
 */
export async function createOrAdoptVolume(
  provider: ComputeProvider,
  spec: VolumeSpec,
  options: { origin?: VolumeOrigin; kept?: KeptVolumes } = {},
): Promise<{ volume: Volume; adopted: boolean }> {
  const tags = { owner: spec.tags.owner, instance: spec.tags.instance };
  const kept = options.kept ?? NOTHING_KEPT;
  const origin = options.origin ?? { kind: 'empty' };
  const existing = await liveTaggedVolumes(provider, tags, kept);
  // A fork's source carries the instance's tags too: it is never "the one an earlier attempt made".
  const adoptable = origin.kind === 'fork' ? existing.filter((v) => v.id !== origin.sourceVolumeId) : existing;
  if (adoptable[0]) return { volume: adoptable[0], adopted: true };
  const created =
    origin.kind === 'fork'
      ? await provider.forkVolume({ name: spec.name, sourceVolumeId: origin.sourceVolumeId, tags: spec.tags })
      : origin.kind === 'import'
        ? await provider.importVolume({ ...spec, seed: origin.seed })
        : await provider.createVolume(spec);
  // A provider's list may lag its creates (Fly's does): count what we just made even if unlisted.
  const listed = (await liveTaggedVolumes(provider, tags, kept)).filter((v) => origin.kind !== 'fork' || v.id !== origin.sourceVolumeId);
  const [winner, ...extras] = withCreated(listed, created).sort(byAge);
  for (const extra of extras) if (!extra.attachedMachineId) await provider.deleteVolume(extra.id);
  if (!winner) throw new Error(`Volume ${spec.name} vanished right after it was created`);
  return { volume: winner, adopted: false };
}

/**
 * Create the instance's machine on `spec.volumeId`, or adopt one an earlier attempt made. A tagged
 * machine mounted on another volume is ours but wrong: it is destroyed and made again — except the
 * machines named in `spareMachines` (a recovery keeps the machine it replaces until its cut-over).
 */
export async function createOrAdoptMachine(
  provider: ComputeProvider,
  spec: MachineSpec,
  options: { spareMachines?: readonly string[] } = {},
): Promise<{ machine: Machine; adopted: boolean }> {
  const filter = { owner: spec.tags.owner, instance: spec.tags.instance };
  const spare = new Set(options.spareMachines ?? []);
  const existing = (await provider.findMachines(filter)).filter((m) => !spare.has(m.id)).sort(byAge);
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
  const [winner, ...extras] = withCreated(await provider.findMachines(filter), created).filter((m) => !spare.has(m.id) && m.mount?.volumeId === spec.volumeId).sort(byAge);
  for (const extra of extras) await provider.destroyMachine(extra.id);
  if (!winner) throw new Error(`Machine ${spec.name} vanished right after it was created`);
  return { machine: winner, adopted: false };
}

/** What a cleanup removed and whether the inventory proves nothing is left. */
export interface CleanupReport {
  verified: boolean;
  destroyedMachines: string[];
  deletedVolumes: string[];
  /** Retained volumes the cleanup left alone on purpose (the volume-cleanup sweep owns them). */
  keptVolumes: string[];
  remaining: { machines: string[]; volumes: string[] };
}

/**
 * Destroy every machine and volume tagged with this owner and instance, except the volumes slipway
 * keeps on purpose, then inventory again: `verified` only when the provider reports nothing left
 * but those. `spare…` names resources that must survive too (a switch's rollback spares nothing on
 * the target; a failed recovery spares the machine and volume it meant to replace).
 */
export async function destroyTaggedResources(
  provider: ComputeProvider,
  owner: string,
  instanceId: string,
  options: { kept?: KeptVolumes; spareVolumes?: readonly string[]; spareMachines?: readonly string[] } = {},
): Promise<CleanupReport> {
  const filter = { owner, instance: instanceId };
  const before = await provider.inventory(filter);
  const keep = new Set([...(before.volumes.length > 0 ? await (options.kept ?? NOTHING_KEPT)(before.volumes.map((v) => v.id)) : []), ...(options.spareVolumes ?? [])]);
  const spareMachines = new Set(options.spareMachines ?? []);
  const doomedMachines = before.machines.filter((m) => !spareMachines.has(m.id));
  for (const machine of doomedMachines) {
    assertOwned(machine, owner, instanceId);
    await provider.destroyMachine(machine.id);
  }
  const doomed = before.volumes.filter((v) => !keep.has(v.id));
  for (const volume of doomed) {
    assertOwned(volume, owner, instanceId);
    await provider.deleteVolume(volume.id);
  }
  const after = await provider.inventory(filter);
  const left = after.volumes.filter((v) => !keep.has(v.id));
  const leftMachines = after.machines.filter((m) => !spareMachines.has(m.id));
  return {
    verified: leftMachines.length === 0 && left.length === 0,
    destroyedMachines: doomedMachines.map((m) => m.id),
    deletedVolumes: doomed.map((v) => v.id),
    keptVolumes: before.volumes.filter((v) => keep.has(v.id)).map((v) => v.id),
    remaining: { machines: leftMachines.map((m) => m.id), volumes: left.map((v) => v.id) },
  };
}

/** Tags for every resource of one provision or switch: `generation` is the reservation version, or the switch's claim version. */
export function provisionTags(owner: string, instanceId: string, generation: number): ResourceTags {
  return { owner, instance: instanceId, reservation: `v${generation}` };
}

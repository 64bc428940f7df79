import type { ComputeProvider, Inventory, Machine, MachineSpec, ResourceTags, Volume, VolumeSeed, VolumeSpec } from '../providers/compute-provider';
import { MachineNameTakenError, OwnershipMismatchError, ProviderUnavailableError, VolumeAttachedError } from '../shared/errors/provider';
import { pause } from '../shared/retry';

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

/** The instance's tagged volumes that are not kept, oldest first; each read again by id (a lagging list still shows deleted ones). */
async function liveTaggedVolumes(provider: ComputeProvider, tags: { owner: string; instance: string }, kept: KeptVolumes): Promise<Volume[]> {
  const listed = await provider.findVolumes(tags);
  const read = await Promise.all(listed.map((v) => provider.getVolume(v.id)));
  const found = read.filter((v): v is Volume => v !== null && v.state !== 'destroyed');
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
  options: { origin?: VolumeOrigin; kept?: KeptVolumes; earlierAttemptMayHaveCreated?: boolean } = {},
): Promise<{ volume: Volume; adopted: boolean }> {
  const tags = { owner: spec.tags.owner, instance: spec.tags.instance };
  const kept = options.kept ?? NOTHING_KEPT;
  const origin = options.origin ?? { kind: 'empty' };
  // An earlier attempt's create may be younger than the provider's list lag: a list proves nothing until it has passed.
  if (options.earlierAttemptMayHaveCreated && (provider.listLagMs ?? 0) > 0) await pause(provider.listLagMs!);
  const existing = await liveTaggedVolumes(provider, tags, kept);
  // A fork's source carries the instance's tags too: it is never "the one an earlier attempt made".
  const adoptable = origin.kind === 'fork' ? existing.filter((v) => v.id !== origin.sourceVolumeId) : existing;
  if (adoptable[0]) return { volume: adoptable[0], adopted: true };
  const created =
    origin.kind === 'fork'
      ? await provider.forkVolume({ name: spec.name, sourceVolumeId: origin.sourceVolumeId, tags: spec.tags, machineSize: spec.machineSize })
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
 * What a list shows is read again by id before anything is adopted or destroyed: a lagging list
 * still shows machines that are gone.
 */
export async function createOrAdoptMachine(
  provider: ComputeProvider,
  spec: MachineSpec,
  options: { spareMachines?: readonly string[] } = {},
): Promise<{ machine: Machine; adopted: boolean }> {
  const filter = { owner: spec.tags.owner, instance: spec.tags.instance };
  const spare = new Set(options.spareMachines ?? []);
  const existing = (await live(provider, await provider.findMachines(filter))).filter((m) => !spare.has(m.id)).sort(byAge);
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
    // The name is this incarnation's own (unique per instance and generation): an earlier attempt
    // made it and a lagging list hid it. Adopt it by id and tags, never by the name alone.
    if (error instanceof MachineNameTakenError) return { machine: await adoptNamed(provider, spec, error), adopted: true };
    // The volume already has a machine that the (lagging) list did not show: adopt it if it is ours.
    if (!(error instanceof VolumeAttachedError)) throw error;
    const holderId = (await provider.getVolume(spec.volumeId))?.attachedMachineId;
    const holder = holderId ? await provider.getMachine(holderId) : null;
    if (!holder || holder.state === 'destroyed') throw error;
    assertOwned(holder, spec.tags.owner, spec.tags.instance);
    return { machine: holder, adopted: true };
  }
  const [winner, ...extras] = withCreated(await live(provider, await provider.findMachines(filter)), created).filter((m) => !spare.has(m.id) && m.mount?.volumeId === spec.volumeId).sort(byAge);
  for (const extra of extras) await provider.destroyMachine(extra.id);
  if (!winner) throw new Error(`Machine ${spec.name} vanished right after it was created`);
  return { machine: winner, adopted: false };
}

/** The listed machines as a read by id sees them now, without those that are gone. */
async function live(provider: ComputeProvider, listed: Machine[]): Promise<Machine[]> {
  const read = await Promise.all(listed.map((m) => provider.getMachine(m.id)));
  return read.filter((m): m is Machine => m !== null && m.state !== 'destroyed');
}

/**
 * The machine an earlier attempt made under this name: read by the id Fly's refusal names (or found
 * by tags when it names none), adopted only when its tags are this instance's and it mounts the
 * volume. Not findable yet (a lagging list) is transient: the step is retried.
 */
async function adoptNamed(provider: ComputeProvider, spec: MachineSpec, taken: MachineNameTakenError): Promise<Machine> {
  const holder = taken.existingMachineId
    ? await provider.getMachine(taken.existingMachineId)
    : ((await provider.findMachines({ owner: spec.tags.owner, instance: spec.tags.instance })).find((m) => m.name === spec.name) ?? null);
  if (!holder || holder.state === 'destroyed') throw new ProviderUnavailableError(`Machine name ${spec.name} is taken by a machine not readable yet; retrying.`, { cause: taken });
  assertOwned(holder, spec.tags.owner, spec.tags.instance);
  if (holder.tags.reservation !== spec.tags.reservation || holder.mount?.volumeId !== spec.volumeId) {
    throw new OwnershipMismatchError(`Machine ${holder.id} holds the name ${spec.name} but belongs to another attempt (${holder.tags.reservation}, volume ${holder.mount?.volumeId ?? 'none'}).`, {
      cause: taken,
      context: { machineId: holder.id },
    });
  }
  return holder;
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

/** What a cleanup knows beyond the tags: ids recorded in the table, and how young a create may be. */
export interface CleanupOptions {
  kept?: KeptVolumes;
  spareVolumes?: readonly string[];
  spareMachines?: readonly string[];
  /** Machines and volumes known by id (recorded before or learnt from their create): each is read by id. */
  knownMachines?: readonly (string | null | undefined)[];
  knownVolumes?: readonly (string | null | undefined)[];
  /**
   * A create whose id was never learnt may have been sent until the cleanup began (a failed step's).
   * A list proves nothing about it before the provider's list lag has passed since: the cleanup lists
   * again once it has. (Real time: the domain clock `deps.now()` may be shifted, a list's lag is not.)
   */
  recentCreates?: boolean;
}

/**
 * Destroy every machine and volume of this owner and instance — those known by id and those a list
 * finds by tags — except the volumes slipway keeps on purpose and the `spare…` ones, then verify by
 * what is consistent: a GET of each of them by id reads gone. A list only *finds* resources whose id
 * was never learnt; it never proves absence on its own, and while a create may be younger than the
 * provider's list lag the cleanup waits that out and lists again.
 */
export async function destroyTaggedResources(provider: ComputeProvider, owner: string, instanceId: string, options: CleanupOptions = {}): Promise<CleanupReport> {
  const filter = { owner, instance: instanceId };
  const spareMachines = new Set(options.spareMachines ?? []);
  const spareVolumes = new Set(options.spareVolumes ?? []);
  const machineIds = new Set<string>();
  const volumeIds = new Set<string>();
  const kept = new Set<string>();
  const destroyedMachines: string[] = [];
  const deletedVolumes: string[] = [];
  const handled = new Set<string>();

  /** Destroy one machine unless it is gone already (read by id first: the list may name a deleted one). */
  const destroyMachineIfLive = async (id: string) => {
    const machine = await provider.getMachine(id);
    if (machine && machine.state !== 'destroyed') {
      assertOwned(machine, owner, instanceId);
      await provider.destroyMachine(id);
      destroyedMachines.push(id);
    }
    handled.add(id);
  };

  const sweep = async (found: Inventory) => {
    const candidates = [...new Set([...found.volumes.map((v) => v.id), ...ids(options.knownVolumes)])].filter((id) => !volumeIds.has(id) && !kept.has(id));
    const keep = candidates.length > 0 ? await (options.kept ?? NOTHING_KEPT)(candidates) : new Set<string>();
    for (const id of candidates) (keep.has(id) || spareVolumes.has(id) ? kept : volumeIds).add(id);
    for (const id of [...found.machines.map((m) => m.id), ...ids(options.knownMachines)]) if (!spareMachines.has(id)) machineIds.add(id);
    for (const id of machineIds) if (!handled.has(id)) await destroyMachineIfLive(id);
    for (const id of volumeIds) {
      if (handled.has(id)) continue;
      const volume = await provider.getVolume(id);
      if (volume && volume.state !== 'destroyed') {
        assertOwned(volume, owner, instanceId);
        // A machine the list did not show yet may hold it: the volume's own (consistent) answer names it.
        const holderId = volume.attachedMachineId;
        if (holderId && !handled.has(holderId) && !spareMachines.has(holderId)) {
          machineIds.add(holderId);
          await destroyMachineIfLive(holderId);
        }
        await provider.deleteVolume(id);
        deletedVolumes.push(id);
      }
      handled.add(id);
    }
  };

  const began = Date.now();
  await sweep(await provider.inventory(filter));
  // Lists lag creates: one younger than the lag may be missing from the list above. Wait the lag out
  // once, then list again (with no recent create, a second list now would only repeat the first).
  if (options.recentCreates) {
    const settledAt = began + (provider.listLagMs ?? 0);
    if (settledAt > Date.now()) await pause(settledAt - Date.now());
    await sweep(await provider.inventory(filter));
  }

  // Verified by GET of each by id, never by the (lagging) list.
  const remainingMachines: string[] = [];
  for (const id of machineIds) {
    const machine = await provider.getMachine(id);
    if (machine && machine.state !== 'destroyed') remainingMachines.push(id);
  }
  const remainingVolumes: string[] = [];
  for (const id of volumeIds) {
    const volume = await provider.getVolume(id);
    if (volume && volume.state !== 'destroyed') remainingVolumes.push(id);
  }
  return {
    verified: remainingMachines.length === 0 && remainingVolumes.length === 0,
    destroyedMachines: destroyedMachines.filter((id) => !remainingMachines.includes(id)),
    deletedVolumes: deletedVolumes.filter((id) => !remainingVolumes.includes(id)),
    keptVolumes: [...kept],
    remaining: { machines: remainingMachines, volumes: remainingVolumes },
  };
}

function ids(list: readonly (string | null | undefined)[] | undefined): string[] {
  return (list ?? []).filter((id): id is string => typeof id === 'string' && id.length > 0);
}


/** Tags for every resource of one provision or switch: `generation` is the reservation version, or the switch's claim version. */
export function provisionTags(owner: string, instanceId: string, generation: number): ResourceTags {
  return { owner, instance: instanceId, reservation: `v${generation}` };
}

/**
 * Orphans: provider resources carrying slipway's ownership tags that no instance accounts for — a
 * crash between a create and the write that records it, a lost execution's leftovers. The sweep
 * inventories each provider now and then (`orphanScanSeconds`), and destroys what is older than the
 * grace period, re-verifying its tags just before. Never touched: anything a claimed instance may
 * be creating, anything an instance records as its machine or volume, and retained volumes.
 */
import { getInstances } from '../../store/instance';
import type { ComputeProvider, Machine, Volume } from '../../providers/compute-provider';
import type { Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import type { InstanceItem } from '../../domain/instance';
import { keptVolumeIds } from '../../domain/retained-volume';

/** One orphan found, and what became of it. */
export interface OrphanAction {
  provider: string;
  kind: 'machine' | 'volume';
  id: string;
  instanceId: string;
  action: 'destroyed' | 'too-young' | 'failed';
  detail?: string;
}

/** Instances by id (BatchGetItem). */
async function instancesById(deps: Deps, ids: string[]): Promise<Map<string, InstanceItem>> {
  const items = await getInstances(deps, ids);
  return new Map(items.map((item) => [item.instanceId, item]));
}

/** Whether an instance accounts for a resource on `provider`: it records it there, or an operation holds it (and may be making it). */
function accountedFor(instance: InstanceItem | undefined, provider: string, kind: 'machine' | 'volume', id: string): boolean {
  if (!instance) return false;
  if (instance.claim) return true;
  if (instance.status === 'destroyed') return false;
  // A failed provision still holding its slot is being cleaned up by its own settle rule.
  if (instance.status === 'failed' && instance.countsTowardQuota) return true;
  if (instance.provider !== provider) return false;
  return kind === 'machine' ? instance.machineId === id : instance.volumeId === id;
}

/** Destroy one orphan after checking again that it is still there and still carries the same instance tag. */
async function destroyOrphan(provider: ComputeProvider, kind: 'machine' | 'volume', resource: Machine | Volume): Promise<void> {
  if (kind === 'machine') {
    const again = await provider.getMachine(resource.id);
    if (!again || again.state === 'destroyed' || again.tags.instance !== resource.tags.instance) return;
    await provider.destroyMachine(resource.id);
  } else {
    const again = await provider.getVolume(resource.id);
    if (!again || again.state === 'destroyed' || again.tags.instance !== resource.tags.instance) return;
    await provider.deleteVolume(resource.id);
  }
}

/** Inventory every provider and destroy tagged resources no instance accounts for. */
export async function collectOrphans(deps: Deps): Promise<OrphanAction[]> {
  const actions: OrphanAction[] = [];
  const now = deps.now().getTime();
  for (const provider of deps.providers.all()) {
    const inventory = await provider.inventory({});
    const resources = [
      ...inventory.machines.map((resource) => ({ kind: 'machine' as const, resource })),
      ...inventory.volumes.map((resource) => ({ kind: 'volume' as const, resource })),
    ].filter(({ resource }) => resource.tags.instance);
    const instances = await instancesById(deps, [...new Set(resources.map(({ resource }) => resource.tags.instance))]);
    // Retained volumes belong to the volume-cleanup sweep, whatever their instance is now.
    const kept = await keptVolumeIds(deps, inventory.volumes.map((volume) => volume.id));
    // Machines first: a volume cannot be deleted while an orphaned machine still mounts it.
    for (const { kind, resource } of resources) {
      const instance = instances.get(resource.tags.instance);
      if (kind === 'volume' && kept.has(resource.id)) continue;
      if (accountedFor(instance, provider.name, kind, resource.id)) continue;
      if (instance && resource.tags.owner !== undefined && resource.tags.owner !== instance.owner) continue; // never someone else's
      const base = { provider: provider.name, kind, id: resource.id, instanceId: resource.tags.instance };
      const ageSeconds = (now - Date.parse(resource.createdAt)) / 1000;
      if (!(ageSeconds >= deps.settings.orphanGraceSeconds)) {
        actions.push({ ...base, action: 'too-young', detail: `${Math.floor(ageSeconds)} s old` });
        continue;
      }
      try {
        await destroyOrphan(provider, kind, resource);
        deps.metrics.count('OrphanDestroyed', { kind });
        actions.push({ ...base, action: 'destroyed' });
      } catch (error) {
        actions.push({ ...base, action: 'failed', detail: messageOf(error) });
      }
    }
  }
  return actions;
}

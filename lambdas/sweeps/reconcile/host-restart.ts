/**
 * What a host that comes back must know before it boots the machines that ran when it went down:
 * the machines of instances being destroyed stay down (the destroy, retried by the sweep, removes
 * them). Read from the attention index, where every `destroying` instance is while its destroy is
 * unfinished (claimed, due for a retry, or parked).
 */
import type { Deps } from '../../composition/deps';
import { queryLane } from '../../domain/attention';

/** Every machine of an instance being destroyed, by provider name. */
export async function machinesBeingDestroyed(deps: Deps): Promise<Map<string, Set<string>>> {
  const { items } = await queryLane(deps, 'reconcile', { limitPerShard: 100_000, where: { status: 'destroying' } });
  const byProvider = new Map<string, Set<string>>();
  for (const item of items) {
    if (item.sk !== 'INSTANCE' || typeof item.machineId !== 'string' || typeof item.provider !== 'string') continue;
    const machines = byProvider.get(item.provider) ?? new Set<string>();
    machines.add(item.machineId);
    byProvider.set(item.provider, machines);
  }
  return byProvider;
}

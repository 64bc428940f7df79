/**
 * What a test may conclude from a provider's list: lists lag creates and deletes (Fly's by seconds;
 * `ComputeProvider.listLagMs`), so a test that checks "nothing is left" or "exactly one was made" by
 * listing waits that lag out first, as slipway's own cleanup does before it trusts a list.
 */
import type { ComputeProvider, Inventory, TagFilter } from '../../lambdas/providers/compute-provider';

/** Resolves once the provider's lists reflect everything done before the call. */
export function afterListLag(provider: Pick<ComputeProvider, 'listLagMs'>): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, provider.listLagMs ?? 0));
}

/** The provider's inventory once its lists have caught up with everything done before the call. */
export async function settledInventory(provider: ComputeProvider, filter: TagFilter): Promise<Inventory> {
  await afterListLag(provider);
  return provider.inventory(filter);
}

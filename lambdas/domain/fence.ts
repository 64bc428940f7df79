import type { Deps } from '../composition/deps';
import { ClaimLostError } from '../shared/errors/workflow';
import { ConditionFailedError } from '../store/errors';
import type { InstanceUpdate } from '../store/expression';
import type { TransactItem } from '../store/table';
import { fencedInstanceItem, getInstance, updateInstanceFenced } from '../store/instance';
import type { InstanceItem } from './instance';

// The update and transaction item types live in the store; re-exported for the use cases that describe updates.
export type { InstanceUpdate, ItemUpdate } from '../store/expression';
export type { TransactItem } from '../store/table';

/**
 * The fence: every write an operation makes after its claim is conditional on the claim still
 * being its own (`claim = :mine`). A stale execution, a late retry or a sweep gets ClaimLostError
 * and changes nothing.
 */
export async function fencedInstanceUpdate(deps: Deps, instanceId: string, claim: string, update: InstanceUpdate): Promise<InstanceItem> {
  try {
    return await updateInstanceFenced(deps, instanceId, claim, update);
  } catch (error) {
    if (error instanceof ConditionFailedError) throw new ClaimLostError(`Instance ${instanceId} is no longer claimed by ${claim}.`, { cause: error, context: { instanceId, claim } });
    throw error;
  }
}

/**
 * An outcome that also releases the claim: records `lastClaim` and removes the claim, and leaves
 * the attention index — a `running` one too: the sweep's fleet inventory (reconcile/inventory.ts)
 * finds a running instance whose machine stopped, so a healthy one is never rescheduled.
 */
export function releasing(_deps: Deps, _instanceId: string, claim: string, outcome: InstanceUpdate): InstanceUpdate {
  // An outcome may schedule its own next look (a cleanup the sweep must finish).
  const scheduled = outcome.set !== undefined && 'attentionAt' in outcome.set;
  return {
    set: { ...outcome.set, lastClaim: claim },
    remove: [...(outcome.remove ?? []), 'claim', 'restartingAt', ...(scheduled ? [] : ['attentionShard', 'attentionAt'])],
  };
}

/** Read the instance and require that `claim` holds it (for steps that must not act otherwise). */
export async function requireClaim(deps: Deps, instanceId: string, claim: string): Promise<InstanceItem> {
  const item = await getInstance(deps, instanceId);
  if (!item || item.claim !== claim) {
    throw new ClaimLostError(`Instance ${instanceId} is no longer claimed by ${claim}.`, { context: { instanceId, claim, heldBy: item?.claim ?? null } });
  }
  return item;
}

/** Where a final step's condition failed: did this very execution already finish it? */
export function alreadyFinishedBy(item: InstanceItem | null, claim: string): boolean {
  return !!item && item.claim === undefined && item.lastClaim === claim;
}

/**
 * A fenced instance update as a transaction item (`claim = :mine`, the claim kept), for a step that
 * must change the instance and another item atomically while the operation goes on (a recovery's
 * cut-over and the old volume's retention).
 */
export function fencedUpdateItem(deps: Deps, instanceId: string, claim: string, update: InstanceUpdate): TransactItem {
  return fencedInstanceItem(deps, instanceId, claim, update);
}

/**
 * The release of a claim as a transaction item: the outcome, `lastClaim = claim` and `claim`
 * removed, all fenced on `claim = :mine`. Final steps that must change other items atomically
 * (reservation, quota) put this first in their transaction.
 */
export function claimReleaseItem(deps: Deps, instanceId: string, claim: string, outcome: InstanceUpdate): TransactItem {
  return fencedInstanceItem(deps, instanceId, claim, releasing(deps, instanceId, claim, outcome));
}

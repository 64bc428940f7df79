/**
 * Writes to an instance that no operation holds — the reconcile sweep's: schedule its next look,
 * record an unexpected stop, correct a drifted endpoint, finish a failed provision's cleanup. Each
 * is conditional on no claim and on the version and status the sweep read, so it can never clobber
 * an operation that claimed the instance meanwhile (that one simply wins; the sweep looks again).
 */
import type { Deps } from '../../composition/deps';
import { ConditionFailedError, TransactionConditionFailedError } from '../../store/errors';
import { unclaimedInstanceItem, updateInstanceUnclaimed } from '../../store/instance';
import { attentionAt, parkedAttention } from '../../domain/attention';
import type { InstanceUpdate } from '../../domain/fence';
import type { ErrorRecord, InstanceItem } from '../../domain/instance';
import { finishWithOwnerItem, outcomeIfHeld } from '../../domain/reservation';

/** Apply an update if the instance is still unclaimed as read; false when it moved on. */
async function updateUnclaimed(deps: Deps, item: InstanceItem, update: InstanceUpdate): Promise<boolean> {
  try {
    await updateInstanceUnclaimed(deps, item, update);
    return true;
  } catch (error) {
    if (error instanceof ConditionFailedError) return false;
    throw error;
  }
}

/** Look at the instance again at `at`. */
export function rescheduleInstance(deps: Deps, item: InstanceItem, at: Date): Promise<boolean> {
  return updateUnclaimed(deps, item, { set: attentionAt(item.pk, at) });
}

/** Nothing left to look at: off the attention index. */
export function unscheduleInstance(deps: Deps, item: InstanceItem): Promise<boolean> {
  return updateUnclaimed(deps, item, { remove: ['attentionShard', 'attentionAt'] });
}

/** A running instance's machine answers at a new address (the local host restarted it): record it (and, running, it stays off the attention index). */
export function correctEndpoint(deps: Deps, item: InstanceItem, endpoint: string | null): Promise<boolean> {
  const off = ['attentionShard', 'attentionAt'];
  return updateUnclaimed(deps, item, endpoint ? { set: { endpoint }, remove: off } : { remove: ['endpoint', ...off] });
}

/** The machine of a running instance stopped without being asked: show `stopped` and why. */
export function markUnexpectedStop(deps: Deps, item: InstanceItem, error: ErrorRecord): Promise<boolean> {
  return updateUnclaimed(deps, item, { set: { status: 'stopped', lastStopError: error }, remove: ['endpoint', 'attentionShard', 'attentionAt'] });
}

/** A cleanup try failed: count it and look again at `next` (or, exhausted, park it for an operator: no sweep reads it again, the console lists it). */
export function recordCleanupTry(deps: Deps, item: InstanceItem, tries: number, next: Date | null, error: ErrorRecord): Promise<boolean> {
  const now = deps.now();
  return updateUnclaimed(
    deps,
    item,
    next
      ? { set: { reconcileTries: tries, lastCleanupError: error, ...attentionAt(item.pk, next) } }
      : { set: { reconcileTries: tries, lastCleanupError: error, cleanupExhaustedAt: now.toISOString(), ...parkedAttention(item.pk, now) } },
  );
}

/**
 * A failed provision's cleanup is verified: in one transaction the instance gives its quota slot
 * back and leaves the attention index, and the owner item takes the slot back — releasing the
 * reservation in the same update while it is still this provision's. False when the instance
 * moved on.
 */
export async function finishFailedCleanup(deps: Deps, item: InstanceItem): Promise<boolean> {
  const instanceItem = unclaimedInstanceItem(
    deps,
    item,
    { set: { countsTowardQuota: false }, remove: ['attentionShard', 'attentionAt', 'reconcileTries', 'cleanupExhaustedAt', 'lastCleanupError'] },
    // Only an instance that still holds its slot gives it back: exactly once.
    { holdsSlot: true },
  );
  try {
    await finishWithOwnerItem(deps, [instanceItem], () => outcomeIfHeld(deps, item.owner, item.instanceId, 'reconciled', { returnSlot: true }));
    return true;
  } catch (error) {
    if (error instanceof TransactionConditionFailedError) return false;
    throw error;
  }
}

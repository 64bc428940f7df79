import { keys, ttlAfter } from '../../store/keys';
import { TransactionConditionFailedError } from '../../store/errors';
import type { Deps } from '../../composition/deps';
import { ClaimLostError, ReservationLostError } from '../../shared/errors/workflow';
import { alreadyFinishedBy, claimReleaseItem, type InstanceUpdate, type TransactItem } from '../../domain/fence';
import { readInstance } from '../../views/instance-queries';
import { finishWithOwnerItem, outcomeIfHeld, outcomeItem } from '../../domain/reservation';
import { attentionAt } from '../../domain/attention';
import { recordOutcome } from '../../shared/telemetry';
import type { FencedStepInput } from '../step-schemas';

/**
 * Finish a provision in one transaction: the instance update (fenced by the claim, which it
 * releases) and the owner item's part — the reservation outcome (fenced by the instance it was
 * admitted for) and any quota slot returned, as one update of the one item. Replaying the same
 * final step is a no-op success.
 */
async function finishProvision(deps: Deps, input: FencedStepInput, instance: InstanceUpdate, ownerPart: () => Promise<TransactItem | null>): Promise<void> {
  try {
    await finishWithOwnerItem(deps, [claimReleaseItem(deps, input.instanceId, input.claim, instance)], ownerPart);
  } catch (error) {
    if (!(error instanceof TransactionConditionFailedError)) throw error;
    // A replay of this very step after it committed: nothing to do.
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    if (error.failedAt(0)) throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
    throw new ReservationLostError(`The reservation of ${input.owner} no longer belongs to ${input.instanceId}.`, { cause: error });
  }
}

/** The provision succeeded: instance running, reservation completed. */
export async function commitProvision(deps: Deps, input: FencedStepInput & { reservationVersion: number; machineId: string; volumeId: string; endpoint: string | null }): Promise<void> {
  await finishProvision(
    deps,
    input,
    { set: { status: 'running', machineId: input.machineId, volumeId: input.volumeId, ...(input.endpoint ? { endpoint: input.endpoint } : {}) }, remove: ['lastStartError'] },
    async () => outcomeItem(deps, input.owner, input.instanceId, 'complete', { version: input.reservationVersion }),
  );
  recordOutcome(deps.metrics, 'Succeeded', 'provision', input.executionStartedAt, deps.now());
}

/**
 * The provision failed and its cleanup is verified: instance failed (kept a while), reservation
 * released (if it is still this provision's: an operator's earlier release must not block this),
 * quota returned.
 */
export async function failProvision(deps: Deps, input: FencedStepInput & { error: { message: string; code: string } }): Promise<void> {
  const now = deps.now();
  await finishProvision(
    deps,
    input,
    {
      set: { status: 'failed', countsTowardQuota: false, lastStartError: { ...input.error, at: now.toISOString() }, expiresAt: ttlAfter(now, deps.settings.endedRetentionSeconds) },
      remove: ['machineId', 'volumeId', 'endpoint'],
    },
    () => outcomeIfHeld(deps, input.owner, input.instanceId, 'release', { returnSlot: true }),
  );
  recordOutcome(deps.metrics, 'Failed', 'provision', input.executionStartedAt, now);
}

/**
 * The provision failed and cleanup could not be verified: the instance shows the failure and stays
 * on the attention index, due now, with its quota slot (resources may still exist) — the reconcile
 * sweep cleans up, verifies, then frees the slot and the reservation (`needs_reconciliation`, if it
 * is still this provision's).
 */
export async function markNeedsReconciliation(deps: Deps, input: FencedStepInput & { error: { message: string; code: string } }): Promise<void> {
  const now = deps.now();
  await finishProvision(
    deps,
    input,
    { set: { status: 'failed', lastStartError: { ...input.error, at: now.toISOString() }, ...attentionAt(keys.instance(input.instanceId).pk, now) } },
    () => outcomeIfHeld(deps, input.owner, input.instanceId, 'handOver'),
  );
  recordOutcome(deps.metrics, 'Failed', 'provision', input.executionStartedAt, deps.now());
  deps.metrics.count('ProvisionNeedsReconciliation');
}

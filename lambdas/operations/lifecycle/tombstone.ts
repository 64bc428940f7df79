import { keys, ttlAfter } from '../../store/keys';
import { TransactionConditionFailedError } from '../../store/errors';
import type { Deps } from '../../composition/deps';
import { ClaimLostError } from '../../shared/errors/workflow';
import { after, attentionAt, parkedAttention } from '../../domain/attention';
import { releaseClaim } from '../../domain/claims';
import { alreadyFinishedBy, claimReleaseItem, requireClaim } from '../../domain/fence';
import type { ErrorRecord, InstanceItem } from '../../domain/instance';
import { readInstance } from '../../views/instance-queries';
import { finishWithOwnerItem, outcomeIfHeld } from '../../domain/reservation';
import { recordOutcome } from '../../shared/telemetry';
import { backoff } from '../../shared/retry';

/**
 * Finish a destroy, in one transaction: tombstone the instance (TTL), free its quota slot exactly
 * once (`countsTowardQuota`), and release an unresolved reservation that still points at it — slot
 * and release as one update of the owner item. Fenced by the claim; a replay is a no-op.
 */
export async function tombstoneInstance(deps: Deps, input: { instanceId: string; owner: string; claim: string; executionStartedAt?: string }): Promise<void> {
  let instance;
  try {
    instance = await requireClaim(deps, input.instanceId, input.claim);
  } catch (error) {
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    throw error;
  }
  const now = deps.now();
  const tombstone = claimReleaseItem(deps, input.instanceId, input.claim, {
    set: { status: 'destroyed', countsTowardQuota: false, expiresAt: ttlAfter(now, deps.settings.endedRetentionSeconds), destroyedAt: now.toISOString() },
    remove: ['endpoint', 'lastDestroyError', 'destroyTries', 'destroyParkedAt'],
  });
  const ownerPart = () =>
    outcomeIfHeld(deps, instance.owner, input.instanceId, 'releaseForDestroy', { returnSlot: instance.countsTowardQuota === true, reason: `instance ${input.instanceId} destroyed` });
  try {
    await finishWithOwnerItem(deps, [tombstone], ownerPart);
  } catch (error) {
    if (!(error instanceof TransactionConditionFailedError)) throw error;
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
  }
  recordOutcome(deps.metrics, 'Succeeded', 'destroy', input.executionStartedAt, now);
}

/**
 * When the sweep retries a destroy after its `tries`-th failure: at its next run after the first,
 * then after 1, 2, 4 … sweep periods, at most an hour apart.
 */
export function destroyRetryAt(deps: Deps, tries: number): Date {
  const seconds = tries <= 1 ? 0 : backoff(tries - 2, { base: deps.settings.sweepPeriodSeconds, cap: 3600 });
  return after(deps.now(), seconds);
}

/**
 * A destroy that failed (its Catch) or was lost (the sweep): the claim released, the instance left
 * `destroying` with `lastDestroyError` and on the attention index, so the sweep retries it with
 * backoff (a DELETE may too). After `reconcileMaxTries` it is parked for an operator (metric
 * DestroyParked, alarm) and, in the same transaction, its quota slot is given back: from then on
 * finishing it is the operator's work, and the owner does not wait on that queue. Until then the
 * slot stays held, because the machine and volume still exist at the provider.
 */
export async function recordDestroyFailure(deps: Deps, instance: InstanceItem, claim: string, error: ErrorRecord): Promise<{ status: 'destroying'; parked: boolean }> {
  const tries = (instance.destroyTries ?? 0) + 1;
  const pk = keys.instance(instance.instanceId).pk;
  if (tries < deps.settings.reconcileMaxTries) {
    await releaseClaim(deps, instance.instanceId, claim, { set: { status: 'destroying', lastDestroyError: error, destroyTries: tries, ...attentionAt(pk, destroyRetryAt(deps, tries)) } });
    return { status: 'destroying', parked: false };
  }
  const now = deps.now();
  const parked = claimReleaseItem(deps, instance.instanceId, claim, {
    set: { status: 'destroying', lastDestroyError: error, destroyTries: tries, destroyParkedAt: now.toISOString(), countsTowardQuota: false, ...parkedAttention(pk, now) },
  });
  const ownerPart = () =>
    outcomeIfHeld(deps, instance.owner, instance.instanceId, 'releaseForDestroy', { returnSlot: instance.countsTowardQuota === true, reason: `destroy of ${instance.instanceId} parked for an operator` });
  try {
    await finishWithOwnerItem(deps, [parked], ownerPart);
  } catch (failure) {
    if (!(failure instanceof TransactionConditionFailedError)) throw failure;
    if (alreadyFinishedBy(await readInstance(deps, instance.instanceId), claim)) return { status: 'destroying', parked: true };
    throw new ClaimLostError(`Instance ${instance.instanceId} is no longer claimed by ${claim}.`, { cause: failure });
  }
  deps.metrics.count('DestroyParked');
  deps.logger.error('destroy parked for an operator after its capped tries', { instanceId: instance.instanceId, owner: instance.owner, tries, error });
  return { status: 'destroying', parked: true };
}

import { cancellationCodes, ttlAfter } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { ClaimLostError } from '../shared/errors';
import { alreadyFinishedBy, claimReleaseItem, requireClaim } from './fence';
import { readInstance } from './instance-queries';
import { finishWithOwnerItem, outcomeIfHeld } from './reservation';
import { recordOutcome } from '../shared/telemetry';

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
    remove: ['endpoint', 'lastDestroyError'],
  });
  const ownerPart = () =>
    outcomeIfHeld(deps, instance.owner, input.instanceId, 'releaseForDestroy', { returnSlot: instance.countsTowardQuota === true, reason: `instance ${input.instanceId} destroyed` });
  try {
    await finishWithOwnerItem(deps, [tombstone], ownerPart);
  } catch (error) {
    if (!cancellationCodes(error)?.some((c) => c.code === 'ConditionalCheckFailed')) throw error;
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
  }
  recordOutcome(deps.metrics, 'Succeeded', 'destroy', input.executionStartedAt, now);
}

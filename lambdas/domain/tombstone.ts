import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, ttlAfter } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { ClaimLostError } from '../shared/errors';
import { alreadyFinishedBy, claimReleaseItem, requireClaim, type TransactItem } from './fence';
import { readInstance } from './instance-queries';
import { returnQuotaSlotItem } from './owner';
import { releaseReservationOfDestroyed } from './reservation';
import { recordOutcome } from '../shared/telemetry';

/** How long a destroyed instance stays as a tombstone, so late retries cannot resurrect it. */
const TOMBSTONE_SECONDS = 30 * 24 * 3600;

/**
 * Finish a destroy: tombstone the instance (TTL), free its quota slot exactly once, and release
 * any unresolved reservation that still points at it. Fenced by the claim; a replay is a no-op.
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
  const items: TransactItem[] = [
    claimReleaseItem(deps, input.instanceId, input.claim, {
      set: { status: 'destroyed', countsTowardQuota: false, expiresAt: ttlAfter(now, TOMBSTONE_SECONDS), destroyedAt: now.toISOString() },
      remove: ['endpoint', 'lastDestroyError'],
    }),
  ];
  if (instance.countsTowardQuota) items.push(returnQuotaSlotItem(deps, instance.owner));
  try {
    await deps.db.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (!cancellationCodes(error)?.some((c) => c.code === 'ConditionalCheckFailed')) throw error;
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
  }
  await releaseReservationOfDestroyed(deps, instance.owner, input.instanceId);
  recordOutcome(deps.metrics, 'Succeeded', 'destroy', input.executionStartedAt, now);
}

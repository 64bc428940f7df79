import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, isConditionFailed, keys, ttlAfter } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { ClaimLostError } from '../shared/errors';
import { alreadyFinishedBy, claimReleaseItem, requireClaim, type TransactItem } from './fence';
import { readInstance } from './instance-queries';

/** How long a destroyed instance stays as a tombstone, so late retries cannot resurrect it. */
const TOMBSTONE_SECONDS = 30 * 24 * 3600;

/**
 * Finish a destroy: tombstone the instance (TTL), free its quota slot exactly once, and release
 * any unresolved reservation that still points at it. Fenced by the claim; a replay is a no-op.
 */
export async function tombstoneInstance(deps: Deps, input: { instanceId: string; owner: string; claim: string }): Promise<void> {
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
  if (instance.countsTowardQuota) {
    items.push({
      Update: {
        TableName: deps.tableName,
        Key: keys.owner(instance.owner),
        UpdateExpression: 'ADD activeInstances :minusOne SET updatedAt = :now',
        ConditionExpression: 'activeInstances >= :one',
        ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': now.toISOString() },
      },
    });
  }
  try {
    await deps.db.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (!cancellationCodes(error)?.some((c) => c.code === 'ConditionalCheckFailed')) throw error;
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
  }
  await releaseReservationOf(deps, instance.owner, input.instanceId, now);
}

/** Release the owner's reservation if it is unresolved and still points at this instance. */
async function releaseReservationOf(deps: Deps, owner: string, instanceId: string, now: Date): Promise<void> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.reservation(owner),
        UpdateExpression: 'SET #status = :released, releasedReason = :why, updatedAt = :now REMOVE attentionShard, attentionAt',
        ConditionExpression: 'instanceId = :instanceId AND #status IN (:admitted, :started, :reconcile)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':released': 'released',
          ':why': `instance ${instanceId} destroyed`,
          ':now': now.toISOString(),
          ':instanceId': instanceId,
          ':admitted': 'admitted',
          ':started': 'provider_work_started',
          ':reconcile': 'needs_reconciliation',
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}

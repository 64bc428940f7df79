import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ATTENTION_SHARD, cancellationCodes, keys, ttlAfter } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { ClaimLostError, ReservationLostError } from '../shared/errors';
import { alreadyFinishedBy, claimReleaseItem, type InstanceUpdate, type TransactItem } from './fence';
import { readInstance } from './instance-queries';

interface Fenced {
  instanceId: string;
  owner: string;
  claim: string;
}

/**
 * Finish a provision in one transaction: the instance update (fenced by the claim, which it
 * releases) and the reservation transition (fenced by the instance it was admitted for), plus an
 * optional quota change. Replaying the same final step is a no-op success.
 */
async function finishProvision(
  deps: Deps,
  input: Fenced,
  instance: InstanceUpdate,
  reservation: { to: string; from: string[]; version?: number; needsAttention?: boolean },
  quotaDelta: number,
): Promise<void> {
  const now = deps.now().toISOString();
  const fromValues = Object.fromEntries(reservation.from.map((s, i) => [`:from${i}`, s]));
  const items: TransactItem[] = [
    claimReleaseItem(deps, input.instanceId, input.claim, instance),
    {
      Update: {
        TableName: deps.tableName,
        Key: keys.reservation(input.owner),
        // An unresolved reservation stays on the attention index for the reconcile sweep.
        UpdateExpression: reservation.needsAttention
          ? 'SET #status = :to, updatedAt = :now, attentionShard = :shard, attentionAt = :now'
          : 'SET #status = :to, updatedAt = :now REMOVE attentionShard, attentionAt',
        ConditionExpression: `instanceId = :instanceId AND #status IN (${Object.keys(fromValues).join(', ')})${reservation.version ? ' AND #version = :version' : ''}`,
        ExpressionAttributeNames: { '#status': 'status', ...(reservation.version ? { '#version': 'version' } : {}) },
        ExpressionAttributeValues: {
          ':to': reservation.to,
          ':now': now,
          ':instanceId': input.instanceId,
          ...fromValues,
          ...(reservation.version ? { ':version': reservation.version } : {}),
          ...(reservation.needsAttention ? { ':shard': ATTENTION_SHARD } : {}),
        },
      },
    },
  ];
  if (quotaDelta !== 0) {
    items.push({
      Update: {
        TableName: deps.tableName,
        Key: keys.owner(input.owner),
        UpdateExpression: 'ADD activeInstances :delta SET updatedAt = :now',
        ConditionExpression: quotaDelta < 0 ? 'activeInstances >= :one' : 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':delta': quotaDelta, ':now': now, ...(quotaDelta < 0 ? { ':one': 1 } : {}) },
      },
    });
  }
  try {
    await deps.db.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const codes = cancellationCodes(error);
    if (!codes?.some((c) => c.code === 'ConditionalCheckFailed')) throw error;
    // A replay of this very step after it committed: nothing to do.
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return;
    if (codes[0]?.code === 'ConditionalCheckFailed') throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
    throw new ReservationLostError(`The reservation of ${input.owner} no longer belongs to ${input.instanceId}.`, { cause: error });
  }
}

/** The provision succeeded: instance running, reservation completed. */
export function commitProvision(deps: Deps, input: Fenced & { reservationVersion: number; machineId: string; volumeId: string; endpoint: string | null }): Promise<void> {
  return finishProvision(
    deps,
    input,
    { set: { status: 'running', machineId: input.machineId, volumeId: input.volumeId, ...(input.endpoint ? { endpoint: input.endpoint } : {}) }, remove: ['lastStartError'] },
    { to: 'completed', from: ['provider_work_started'], version: input.reservationVersion },
    0,
  );
}

/** The provision failed and its cleanup is verified: instance failed (kept a while), reservation released, quota returned. */
export function failProvision(deps: Deps, input: Fenced & { error: { message: string; code: string } }): Promise<void> {
  const now = deps.now();
  return finishProvision(
    deps,
    input,
    {
      set: { status: 'failed', countsTowardQuota: false, lastStartError: { ...input.error, at: now.toISOString() }, expiresAt: ttlAfter(now, deps.settings.failedRetentionSeconds) },
      remove: ['machineId', 'volumeId', 'endpoint'],
    },
    { to: 'released', from: ['admitted', 'provider_work_started'] },
    -1,
  );
}

/**
 * The provision failed and cleanup could not be verified: the reservation waits for the reconcile
 * sweep (quota stays taken: resources may still exist), the instance shows the failure.
 */
export function handOverToReconciliation(deps: Deps, input: Fenced & { error: { message: string; code: string } }): Promise<void> {
  return finishProvision(
    deps,
    input,
    { set: { status: 'failed', lastStartError: { ...input.error, at: deps.now().toISOString() }, cleanupPending: true } },
    { to: 'needs_reconciliation', from: ['admitted', 'provider_work_started'], needsAttention: true },
    0,
  );
}

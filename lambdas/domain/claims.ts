import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { attentionShardOf, isConditionFailed, keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { InstanceBusyError, InstanceNotFoundError, InvalidStateError } from '../shared/errors';
import { alreadyFinishedBy, fencedInstanceUpdate, releasing, type InstanceUpdate } from './fence';
import { executionName, type InstanceItem, type InstanceStatus, type Operation } from './instance';
import { readInstance } from './instance-queries';

/** Operations a caller asks for on an existing instance. */
export type LifecycleOperation = Extract<Operation, 'start' | 'stop' | 'restart' | 'destroy'>;

/**
 * The claim rules, in one table: from which statuses an operation may claim an instance, and the
 * transitional status it shows from the claim until its workflow finishes.
 */
export const CLAIM_RULES: Record<LifecycleOperation, { from: readonly InstanceStatus[]; to: InstanceStatus }> = {
  start: { from: ['stopped'], to: 'starting' },
  stop: { from: ['running'], to: 'stopping' },
  // Restart shows `restarting` from claim to finish, so polls never see a transient `stopped`.
  restart: { from: ['running', 'stopped'], to: 'restarting' },
  // A destroy that failed leaves `destroying` without a claim: it stays retryable.
  destroy: { from: ['running', 'stopped', 'failed', 'destroying'], to: 'destroying' },
};

/** How many operations an instance remembers for `GET …/operations`. */
const OPERATION_LOG_LENGTH = 50;

/** A won claim. */
export interface Claim {
  instance: InstanceItem;
  operation: LifecycleOperation;
  executionName: string;
  /** The status before the claim, restored if the workflow never starts. */
  previousStatus: InstanceStatus;
}

/**
 * Claim an instance for an operation with one conditional write: status allowed, no claim held,
 * version unchanged since we read it. Nothing else happens before this succeeds, so the loser of a
 * race gets InstanceBusy / InvalidState and has caused no side effect at all.
 */
export async function claimInstance(deps: Deps, instanceId: string, owners: readonly string[], operation: LifecycleOperation): Promise<Claim> {
  const rule = CLAIM_RULES[operation];
  for (;;) {
    const current = await readInstance(deps, instanceId);
    // A tombstone is not found on every route, as GET answers it.
    if (!current || !owners.includes(current.owner) || current.status === 'destroyed') throw new InstanceNotFoundError(instanceId);
    if (current.claim) throw new InstanceBusyError(instanceId, current.claim);
    if (!rule.from.includes(current.status)) throw new InvalidStateError(instanceId, current.status, operation);

    const version = current.version + 1;
    const name = executionName(instanceId, operation, version);
    const now = deps.now();
    const log = [...(current.operations ?? []), { kind: operation, executionName: name, requestedAt: now.toISOString() }].slice(-OPERATION_LOG_LENGTH);
    try {
      const out = await deps.db.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: keys.instance(instanceId),
          UpdateExpression:
            'SET #status = :to, claim = :claim, #operation = :operation, #version = :version, operations = :log, updatedAt = :now, attentionShard = :shard, attentionAt = :attention' +
            (operation === 'restart' ? ', restartingAt = :now' : ''),
          ConditionExpression: 'attribute_not_exists(claim) AND #version = :previous AND #status = :from',
          ExpressionAttributeNames: { '#status': 'status', '#operation': 'operation', '#version': 'version' },
          ExpressionAttributeValues: {
            ':to': rule.to,
            ':claim': name,
            ':operation': operation,
            ':version': version,
            ':previous': current.version,
            ':from': current.status,
            ':log': log,
            ':now': now.toISOString(),
            // The sweep looks at the claim's execution once the operation has had its time.
            ':shard': attentionShardOf(keys.instance(instanceId).pk),
            ':attention': new Date(now.getTime() + deps.settings.claimTimeoutSeconds[operation] * 1000).toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { instance: out.Attributes as InstanceItem, operation, executionName: name, previousStatus: current.status };
    } catch (error) {
      // Someone changed the instance between our read and write: read again and decide anew.
      if (!isConditionFailed(error)) throw error;
    }
  }
}

/**
 * Release a claim with the operation's outcome, fenced by the claim. Replaying the same final
 * write after it committed is a no-op; any other lost fence is ClaimLost.
 */
export async function releaseClaim(deps: Deps, instanceId: string, claim: string, outcome: InstanceUpdate): Promise<InstanceItem | null> {
  try {
    return await fencedInstanceUpdate(deps, instanceId, claim, releasing(deps, instanceId, claim, outcome));
  } catch (error) {
    const item = await readInstance(deps, instanceId);
    if (alreadyFinishedBy(item, claim)) return null;
    throw error;
  }
}

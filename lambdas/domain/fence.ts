import { GetCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { keys, isConditionFailed } from '../adapters/dynamo';
import type { Deps } from '../composition/deps';
import { ClaimLostError } from '../shared/errors/workflow';
import type { InstanceItem } from './instance';

/** An update expression with its names and values, applied only while the claim is ours. */
export interface InstanceUpdate {
  set?: Record<string, unknown>;
  remove?: string[];
}

/** An item update: attributes to set, numbers to add to (negative to subtract) and attributes to remove. */
export interface ItemUpdate extends InstanceUpdate {
  add?: Record<string, number>;
}

/** Build `SET a = :a, … ADD n :n … REMOVE b, …` with placeholder names for every attribute. */
export function updateExpression(update: ItemUpdate): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(update.set ?? {}).map(([attr, value], i) => {
    names[`#s${i}`] = attr;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const adds = Object.entries(update.add ?? {}).map(([attr, value], i) => {
    names[`#a${i}`] = attr;
    values[`:a${i}`] = value;
    return `#a${i} :a${i}`;
  });
  const removes = [...new Set(update.remove ?? [])].map((attr, i) => {
    names[`#r${i}`] = attr;
    return `#r${i}`;
  });
  const expression = [sets.length ? `SET ${sets.join(', ')}` : '', adds.length ? `ADD ${adds.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return { expression, names, values };
}

/**
 * The fence: every write an operation makes after its claim is conditional on the claim still
 * being its own (`claim = :mine`). A stale execution, a late retry or a sweep gets ClaimLostError
 * and changes nothing.
 */
export async function fencedInstanceUpdate(deps: Deps, instanceId: string, claim: string, update: InstanceUpdate): Promise<InstanceItem> {
  try {
    const out = await deps.db.send(new UpdateCommand({ ...fencedUpdateParams(deps, instanceId, claim, update), ReturnValues: 'ALL_NEW' }));
    return out.Attributes as InstanceItem;
  } catch (error) {
    if (isConditionFailed(error)) throw new ClaimLostError(`Instance ${instanceId} is no longer claimed by ${claim}.`, { cause: error, context: { instanceId, claim } });
    throw error;
  }
}

/** The parameters of an instance update conditional on `claim = :mine` (also stamps updatedAt). */
function fencedUpdateParams(deps: Deps, instanceId: string, claim: string, update: InstanceUpdate) {
  const { expression, names, values } = updateExpression({ ...update, set: { ...update.set, updatedAt: deps.now().toISOString() } });
  return {
    TableName: deps.tableName,
    Key: keys.instance(instanceId),
    UpdateExpression: expression,
    ConditionExpression: '#fenceClaim = :fenceClaim',
    ExpressionAttributeNames: { ...names, '#fenceClaim': 'claim' },
    ExpressionAttributeValues: { ...values, ':fenceClaim': claim },
  };
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
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.instance(instanceId), ConsistentRead: true }));
  const item = out.Item as InstanceItem | undefined;
  if (!item || item.claim !== claim) {
    throw new ClaimLostError(`Instance ${instanceId} is no longer claimed by ${claim}.`, { context: { instanceId, claim, heldBy: item?.claim ?? null } });
  }
  return item;
}

/** Where a final step's condition failed: did this very execution already finish it? */
export function alreadyFinishedBy(item: InstanceItem | null, claim: string): boolean {
  return !!item && item.claim === undefined && item.lastClaim === claim;
}

/** One item of a TransactWriteItems. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * A fenced instance update as a transaction item (`claim = :mine`, the claim kept), for a step that
 * must change the instance and another item atomically while the operation goes on (a recovery's
 * cut-over and the old volume's retention).
 */
export function fencedUpdateItem(deps: Deps, instanceId: string, claim: string, update: InstanceUpdate): TransactItem {
  return { Update: fencedUpdateParams(deps, instanceId, claim, update) };
}

/**
 * The release of a claim as a transaction item: the outcome, `lastClaim = claim` and `claim`
 * removed, all fenced on `claim = :mine`. Final steps that must change other items atomically
 * (reservation, quota) put this first in their transaction.
 */
export function claimReleaseItem(deps: Deps, instanceId: string, claim: string, outcome: InstanceUpdate): TransactItem {
  return { Update: fencedUpdateParams(deps, instanceId, claim, releasing(deps, instanceId, claim, outcome)) };
}

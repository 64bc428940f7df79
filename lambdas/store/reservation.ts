/**
 * The owner item (`OWNER#<owner>` / `RESERVATION`) in the table: its key, its strongly consistent
 * read and its conditional updates. The reservation's rules (which transition from which status,
 * the quota conditions) are the domain's (`domain/reservation.ts`); lost conditions come back as
 * the store's named errors.
 */
import { attentionShardOf, keys } from './keys';
import { updateExpression, type ItemUpdate } from './expression';
import { getItem, updateItem, type TableDeps, type UpdateParams } from './table';

/** A condition on the owner item, with the names and values it uses. */
interface OwnerItemCondition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** What a write to the owner item requires of the item as found (every given part, together). */
export interface OwnerItemFence {
  /** The reservation is this instance's. */
  instanceId?: string;
  /** Its status is one of these (a transition's source statuses). */
  statusIn?: readonly string[];
  /** Its status and version are still these (what a caller read). */
  status?: string;
  version?: number;
  /** It holds at least one quota slot (one is given back: the counter never goes below zero). */
  holdsSlot?: boolean;
  /** Its own instance limit is this one (null: none set), for an operator's change of it. */
  instanceLimit?: number | null;
}

/** The fence as a condition expression. */
function fenceCondition(fence: OwnerItemFence): OwnerItemCondition {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (fence.instanceId !== undefined) {
    parts.push('instanceId = :instanceId');
    values[':instanceId'] = fence.instanceId;
  }
  if (fence.statusIn) {
    const from = statusIn(fence.statusIn);
    parts.push(from.expression);
    names['#status'] = 'status';
    Object.assign(values, from.values);
  }
  if (fence.status !== undefined) {
    parts.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = fence.status;
  }
  if (fence.version !== undefined) {
    parts.push('#version = :version');
    names['#version'] = 'version';
    values[':version'] = fence.version;
  }
  if (fence.holdsSlot) {
    parts.push('activeInstances >= :qOne');
    values[':qOne'] = 1;
  }
  if (fence.instanceLimit === null) parts.push('attribute_not_exists(instanceLimit)');
  else if (fence.instanceLimit !== undefined) {
    parts.push('instanceLimit = :before');
    values[':before'] = fence.instanceLimit;
  }
  return {
    expression: parts.join(' AND '),
    ...(Object.keys(names).length ? { names } : {}),
    ...(Object.keys(values).length ? { values } : {}),
  };
}

/** `#status IN (:from0, …)` with its values. */
function statusIn(statuses: readonly string[]): { expression: string; values: Record<string, string> } {
  const values = Object.fromEntries(statuses.map((status, i) => [`:from${i}`, status]));
  return { expression: `#status IN (${Object.keys(values).join(', ')})`, values };
}

/**
 * The quota condition: the owner holds fewer slots than its limit (`defaultLimit` while it has
 * none). Written out because DynamoDB conditions cannot fall back to a default value.
 */
const BELOW_LIMIT =
  '((attribute_not_exists(instanceLimit) AND (attribute_not_exists(activeInstances) OR activeInstances < :qDefault)) OR ' +
  '(attribute_not_exists(activeInstances) AND instanceLimit > :qZero) OR activeInstances < instanceLimit)';

/** What admission writes into the owner item, and under which rule. */
export interface AdmissionWrite {
  owner: string;
  instanceId: string;
  executionName: string;
  idempotencyKey: string;
  deadline: string;
  now: string;
  /** The status it takes, and those it may take the gate from (an item without a status may always be taken). */
  to: string;
  from: readonly string[];
  /** The limit that applies while the owner has none of its own. */
  defaultLimit: number;
  /** Attributes of the previous reservation that must not survive into this one. */
  clear: readonly string[];
}

/**
 * Admission's update of the owner item (a transaction item's `Update`): take the gate and a quota
 * slot (below the limit) in one conditional update, bump the fencing token, put the reservation on
 * the attention index at its deadline. On a failed condition the old item comes back (`ALL_OLD`).
 */
export function admissionUpdateParams(deps: TableDeps, write: AdmissionWrite): UpdateParams {
  const from = statusIn(write.from);
  return {
    TableName: deps.tableName,
    Key: keys.reservation(write.owner),
    UpdateExpression:
      'SET #type = :type, #owner = :owner, #status = :to, #version = if_not_exists(#version, :zero) + :one, instanceId = :instanceId, executionName = :executionName, ' +
      'idempotencyKey = :key, deadline = :deadline, updatedAt = :now, attentionShard = :shard, attentionAt = :deadline ' +
      `ADD activeInstances :one REMOVE ${write.clear.join(', ')}`,
    ConditionExpression: `(attribute_not_exists(#status) OR ${from.expression}) AND ${BELOW_LIMIT}`,
    ExpressionAttributeNames: { '#type': 'type', '#owner': 'owner', '#status': 'status', '#version': 'version' },
    ExpressionAttributeValues: {
      ':type': 'reservation',
      ':owner': write.owner,
      ':to': write.to,
      ':zero': 0,
      ':one': 1,
      ':instanceId': write.instanceId,
      ':executionName': write.executionName,
      ':key': write.idempotencyKey,
      ':deadline': write.deadline,
      ':now': write.now,
      ':shard': attentionShardOf(keys.reservation(write.owner).pk),
      ':qDefault': write.defaultLimit,
      ':qZero': 0,
      ...from.values,
    },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/** Read the owner item (strongly consistent), or null. */
export function getOwnerItem<T>(deps: TableDeps, owner: string): Promise<T | null> {
  return getItem<T>(deps, keys.reservation(owner));
}

/** An update of the owner item (also a transaction item's `Update`): `update` applied only under `fence`, stamping `updatedAt = at`. */
export function ownerItemUpdateParams(deps: TableDeps, owner: string, update: ItemUpdate, fence: OwnerItemFence, at: string): UpdateParams {
  const condition = fenceCondition(fence);
  const built = updateExpression({ ...update, set: { ...update.set, updatedAt: at } });
  return {
    TableName: deps.tableName,
    Key: keys.reservation(owner),
    UpdateExpression: built.expression,
    ConditionExpression: condition.expression,
    ExpressionAttributeNames: { ...built.names, ...condition.names },
    ExpressionAttributeValues: { ...built.values, ...condition.values },
  };
}

/** Apply an update to the owner item under `fence` and return the new item; a lost condition is a ConditionFailedError carrying the item as found. */
export async function updateOwnerItem<T>(deps: TableDeps, owner: string, update: ItemUpdate, fence: OwnerItemFence, at: string): Promise<T> {
  return (await updateItem<T>(deps, ownerItemUpdateParams(deps, owner, update, fence, at)))!;
}

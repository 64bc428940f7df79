/**
 * The instance item (`INSTANCE#<id>` / `INSTANCE`) in the table: its key, its strongly consistent
 * read, the claim write, the updates fenced by a claim and the transaction items that carry them.
 * The claim rules and what an outcome records are the domain's (`domain/claims.ts`, `domain/fence.ts`);
 * this module owns the expressions and hands back lost conditions as named errors with the record.
 */
import { attentionShardOf, keys } from './keys';
import { TABLE_KEYS } from '../adapters/table-definition';
import type { InstanceItem, InstanceStatus } from '../domain/instance';
import { updateExpression, type InstanceUpdate } from './expression';
import { batchGetItems, getItem, queryPage, transactWrite, updateItem, type QueryPage, type TableDeps, type TransactItem, type UpdateParams } from './table';

/** What a fenced write needs beyond the table: the clock that stamps `updatedAt`. */
export type ClockedTableDeps = TableDeps & { now(): Date };

/** Read an instance item (strongly consistent), or null. */
export function getInstance(deps: TableDeps, instanceId: string): Promise<InstanceItem | null> {
  return getItem<InstanceItem>(deps, keys.instance(instanceId));
}

/** Instance items by id (consistent BatchGetItem); absent ones are left out. */
export function getInstances(deps: TableDeps, instanceIds: readonly string[]): Promise<InstanceItem[]> {
  return batchGetItems<InstanceItem>(deps, instanceIds.map((id) => keys.instance(id)));
}

/**
 * A new instance as a transaction item, on the owner index so listings show it at once. Written
 * only if no item has its key (the id derives from the Idempotency-Key): a lost condition returns
 * the existing instance (`ALL_OLD`), which is the replay's answer.
 */
export function newInstancePut(deps: TableDeps, item: InstanceItem): TransactItem {
  return {
    Put: {
      TableName: deps.tableName,
      Item: { ...item, ...keys.ownerIndex(item.owner, item.createdAt, item.instanceId) },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The parameters of an instance update conditional on `claim = :mine` (also stamps updatedAt). */
export function fencedUpdateParams(deps: ClockedTableDeps, instanceId: string, claim: string, update: InstanceUpdate): UpdateParams {
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

/** Apply an update fenced by `claim` and return the new item; a lost fence is a ConditionFailedError carrying the instance as found. */
export async function updateInstanceFenced(deps: ClockedTableDeps, instanceId: string, claim: string, update: InstanceUpdate): Promise<InstanceItem> {
  return (await updateItem<InstanceItem>(deps, fencedUpdateParams(deps, instanceId, claim, update)))!;
}

/** A fenced instance update as a transaction item (`claim = :mine`). */
export function fencedInstanceItem(deps: ClockedTableDeps, instanceId: string, claim: string, update: InstanceUpdate): TransactItem {
  return { Update: fencedUpdateParams(deps, instanceId, claim, update) };
}

/** The claim write the domain decided on (`claimInstance`): what to set, on what it was decided. */
export interface ClaimWrite {
  instanceId: string;
  /** The instance as read: the write is conditional on its version and status (and no claim held). */
  current: Pick<InstanceItem, 'version' | 'status'>;
  to: InstanceStatus;
  operation: string;
  executionName: string;
  version: number;
  operations: unknown[];
  now: Date;
  /** When the sweep first looks at the claim. */
  attentionAt: Date;
  /** Stamp `restartingAt` (a restart's claim). */
  restarting: boolean;
  /** Require the instance's provider to be this one. */
  expectedProvider?: string;
  /** Attributes the operation records with its claim. */
  recorded: Record<string, unknown>;
}

/** The claim as UpdateItem parameters: status allowed, no claim held, version unchanged (and the provider, when asked). */
function claimParams(deps: TableDeps, write: ClaimWrite): UpdateParams {
  const extra = updateExpression({ set: write.recorded });
  const provider = write.expectedProvider !== undefined;
  return {
    TableName: deps.tableName,
    Key: keys.instance(write.instanceId),
    UpdateExpression:
      'SET #status = :to, claim = :claim, #operation = :operation, #version = :version, operations = :log, updatedAt = :now, attentionShard = :shard, attentionAt = :attention' +
      (write.restarting ? ', restartingAt = :now' : '') +
      (extra.expression ? `, ${extra.expression.replace(/^SET /, '')}` : ''),
    ConditionExpression: 'attribute_not_exists(claim) AND #version = :previous AND #status = :from' + (provider ? ' AND #provider = :expectedProvider' : ''),
    ExpressionAttributeNames: {
      '#status': 'status',
      '#operation': 'operation',
      '#version': 'version',
      ...(provider ? { '#provider': 'provider' } : {}),
      ...extra.names,
    },
    ExpressionAttributeValues: {
      ':to': write.to,
      ':claim': write.executionName,
      ':operation': write.operation,
      ':version': write.version,
      ':previous': write.current.version,
      ':from': write.current.status,
      ':log': write.operations,
      ':now': write.now.toISOString(),
      ':shard': attentionShardOf(keys.instance(write.instanceId).pk),
      ':attention': write.attentionAt.toISOString(),
      ...(provider ? { ':expectedProvider': write.expectedProvider } : {}),
      ...extra.values,
    },
  };
}

/**
 * Write a claim, alone or first in a transaction with `alsoWrite`, and return the claimed item. A
 * lost condition is a ConditionFailedError (alone) or a TransactionConditionFailedError (with
 * others); another transaction on the item is a TransactionConflictError.
 */
export async function writeClaim(deps: TableDeps, write: ClaimWrite, alsoWrite: readonly TransactItem[] = []): Promise<InstanceItem> {
  const update = claimParams(deps, write);
  if (alsoWrite.length === 0) return (await updateItem<InstanceItem>(deps, update))!;
  await transactWrite(deps, [{ Update: update }, ...alsoWrite]);
  return (await getInstance(deps, write.instanceId))!;
}

/**
 * The parameters of an update of an instance no operation holds (the reconcile sweep's), fenced by
 * no claim and by the version and status it was read with; with `holdsSlot`, only while it still
 * counts toward its owner's quota.
 */
function unclaimedParams(deps: ClockedTableDeps, item: Pick<InstanceItem, 'instanceId' | 'version' | 'status'>, update: InstanceUpdate, holdsSlot: boolean): UpdateParams {
  const { expression, names, values } = updateExpression({ ...update, set: { ...update.set, updatedAt: deps.now().toISOString() } });
  return {
    TableName: deps.tableName,
    Key: keys.instance(item.instanceId),
    UpdateExpression: expression,
    ConditionExpression: 'attribute_not_exists(claim) AND #fenceVersion = :fenceVersion AND #fenceStatus = :fenceStatus' + (holdsSlot ? ' AND countsTowardQuota = :holdsSlot' : ''),
    ExpressionAttributeNames: { ...names, '#fenceVersion': 'version', '#fenceStatus': 'status' },
    ExpressionAttributeValues: { ...values, ':fenceVersion': item.version, ':fenceStatus': item.status, ...(holdsSlot ? { ':holdsSlot': true } : {}) },
  };
}

/** Update an instance that is still unclaimed as read; a lost fence is a ConditionFailedError carrying the instance as found. */
export async function updateInstanceUnclaimed(deps: ClockedTableDeps, item: Pick<InstanceItem, 'instanceId' | 'version' | 'status'>, update: InstanceUpdate): Promise<void> {
  await updateItem(deps, unclaimedParams(deps, item, update, false), 'NONE');
}

/** The same update as a transaction item; with `holdsSlot`, also fenced on the instance still holding its quota slot. */
export function unclaimedInstanceItem(deps: ClockedTableDeps, item: Pick<InstanceItem, 'instanceId' | 'version' | 'status'>, update: InstanceUpdate, options: { holdsSlot?: boolean } = {}): TransactItem {
  return { Update: unclaimedParams(deps, item, update, options.holdsSlot ?? false) };
}

/** An operator's settle lock on an instance as stored (`operatorSettle`): who, why, until when, and whether it ended. */
export interface SettleLockRecord {
  id: string;
  actor: string;
  reason: string;
  until: string;
  done?: boolean;
}

/**
 * Take an operator's settle lock on the instance, as the first item of a transaction: free when
 * there is none, its lock lapsed, or it ended and was not this very request (same actor and reason).
 */
export function settleLockItem(deps: TableDeps, instanceId: string, lock: SettleLockRecord, now: Date): TransactItem {
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.instance(instanceId),
      UpdateExpression: 'SET operatorSettle = :lock',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(operatorSettle) OR operatorSettle.#until < :now OR (operatorSettle.done = :true AND (operatorSettle.actor <> :actor OR operatorSettle.reason <> :reason)))',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':lock': lock, ':now': now.toISOString(), ':true': true, ':actor': lock.actor, ':reason': lock.reason },
    },
  };
}

/** End the settle lock `id` (kept as `done` until `until`, with what the settle did), as a transaction item. */
export function settleLockEndItem(deps: TableDeps, instanceId: string, id: string, until: string, outcome: string[]): TransactItem {
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.instance(instanceId),
      UpdateExpression: 'SET operatorSettle.#until = :until, operatorSettle.done = :true, operatorSettle.outcome = :outcome',
      ConditionExpression: 'operatorSettle.id = :id',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':id': id, ':until': until, ':true': true, ':outcome': outcome },
    },
  };
}

/**
 * One page of an owner's instances on the owner index, newest first, after `start`: without
 * tombstones unless `includeTombstones`, narrowed by exact `equals` filters (applied after `Limit`,
 * as DynamoDB does).
 */
export function ownerInstancesPage(
  deps: TableDeps,
  owner: string,
  options: { includeTombstones: boolean; equals: Record<string, string>; limit: number; start?: Record<string, unknown> },
): Promise<QueryPage<InstanceItem>> {
  const index = TABLE_KEYS.ownerIndex;
  const conditions: string[] = options.includeTombstones ? [] : ['#status <> :destroyed'];
  const names: Record<string, string> = { '#pk': index.partitionKey, ...(options.includeTombstones ? {} : { '#status': 'status' }) };
  const values: Record<string, unknown> = { ':pk': keys.ownerPartition(owner), ...(options.includeTombstones ? {} : { ':destroyed': 'destroyed' }) };
  for (const [field, value] of Object.entries(options.equals)) {
    conditions.push(`#f_${field} = :f_${field}`);
    names[`#f_${field}`] = field;
    values[`:f_${field}`] = value;
  }
  return queryPage<InstanceItem>(deps, {
    IndexName: index.name,
    KeyConditionExpression: '#pk = :pk',
    ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
    Limit: options.limit,
    ExclusiveStartKey: options.start,
  });
}

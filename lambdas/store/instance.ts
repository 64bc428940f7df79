/**
 * The instance item (`INSTANCE#<id>` / `INSTANCE`) in the table: its key, its strongly consistent
 * read, the claim write, the updates fenced by a claim and the transaction items that carry them.
 * The claim rules and what an outcome records are the domain's (`domain/claims.ts`, `domain/fence.ts`);
 * this module owns the expressions and hands back lost conditions as named errors with the record.
 */
import { attentionShardOf, keys } from '../adapters/dynamo';
import type { InstanceItem, InstanceStatus } from '../domain/instance';
import { updateExpression, type InstanceUpdate } from './expression';
import { getItem, transactWrite, updateItem, type TableDeps, type TransactItem, type UpdateParams } from './table';

/** What a fenced write needs beyond the table: the clock that stamps `updatedAt`. */
export type ClockedTableDeps = TableDeps & { now(): Date };

/** Read an instance item (strongly consistent), or null. */
export function getInstance(deps: TableDeps, instanceId: string): Promise<InstanceItem | null> {
  return getItem<InstanceItem>(deps, keys.instance(instanceId));
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

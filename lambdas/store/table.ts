/**
 * The table's primitives, under every item's store module: the only code that sends DynamoDB
 * commands, and the one place that decodes a lost condition into the named errors of `./errors`.
 * Item modules (instance, reservation, retained volume, audit, lease …) own their keys and their
 * conditional expressions and write through these.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  type PutCommandInput,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConditionFailedError, TransactionConditionFailedError, TransactionConflictError, type CancellationReason } from './errors';

/** What the store needs of the composition root: the DocumentClient and the table's name (`Deps` has both). */
export interface TableDeps {
  db: DynamoDBDocumentClient;
  tableName: string;
}

/** An item's primary key. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** One item of a TransactWriteItems. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
/** The parameters of an UpdateItem, in the shape an `Update` transaction item also takes. */
export type UpdateParams = NonNullable<TransactItem['Update']> & Pick<UpdateCommandInput, 'ReturnValues'>;
/** The parameters of a PutItem, in the shape a `Put` transaction item also takes. */
export type PutParams = NonNullable<TransactItem['Put']> & Pick<PutCommandInput, 'ReturnValues'>;
/** The parameters of a Query (table or index). */
export type QueryParams = Omit<QueryCommandInput, 'TableName'>;

/** Read one item by key, strongly consistent, or null. */
export async function getItem<T>(deps: TableDeps, key: ItemKey): Promise<T | null> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true }));
  return (out.Item as T | undefined) ?? null;
}

/** Read items by key (BatchGetItem, 100 keys a call, consistent), following unprocessed keys; absent ones are left out. */
export async function batchGetItems<T>(deps: TableDeps, itemKeys: readonly ItemKey[]): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < itemKeys.length; i += 100) {
    let request: BatchGetCommandInput['RequestItems'] = { [deps.tableName]: { Keys: itemKeys.slice(i, i + 100), ConsistentRead: true } };
    while (request && Object.keys(request).length > 0) {
      const out: BatchGetCommandOutput = await deps.db.send(new BatchGetCommand({ RequestItems: request }));
      found.push(...((out.Responses?.[deps.tableName] ?? []) as T[]));
      request = out.UnprocessedKeys;
    }
  }
  return found;
}

/** One page of a Query: its items and where the next page starts. */
export interface QueryPage<T> {
  items: T[];
  lastKey?: Record<string, unknown>;
}

/** Run one Query page on the table or one of its indexes. */
export async function queryPage<T>(deps: TableDeps, params: QueryParams): Promise<QueryPage<T>> {
  const out = await deps.db.send(new QueryCommand({ ...params, TableName: deps.tableName }));
  return { items: (out.Items ?? []) as T[], lastKey: out.LastEvaluatedKey };
}

/** Put an item; a condition it loses is a ConditionFailedError carrying the item found. */
export async function putItem(deps: TableDeps, params: PutParams): Promise<void> {
  try {
    await deps.db.send(new PutCommand({ ...params, ReturnValuesOnConditionCheckFailure: params.ConditionExpression ? 'ALL_OLD' : undefined }));
  } catch (error) {
    throw decoded(error);
  }
}

/**
 * Update an item and return its attributes as `returnValues` asks (the new item by default). A
 * condition it loses is a ConditionFailedError carrying the item as found (`ALL_OLD`).
 */
export async function updateItem<T>(deps: TableDeps, params: UpdateParams, returnValues: 'ALL_NEW' | 'ALL_OLD' | 'NONE' = 'ALL_NEW'): Promise<T | undefined> {
  try {
    const out = await deps.db.send(new UpdateCommand({ ...params, ReturnValues: returnValues, ReturnValuesOnConditionCheckFailure: params.ConditionExpression ? 'ALL_OLD' : undefined }));
    return out.Attributes as T | undefined;
  } catch (error) {
    throw decoded(error);
  }
}

/**
 * Write items atomically. A lost condition is a TransactionConditionFailedError whose reasons say,
 * in item order, which items lost it (with the item as found where the write asked for `ALL_OLD`);
 * a cancellation caused only by another transaction on the same items is a TransactionConflictError.
 */
export async function transactWrite(deps: TableDeps, items: readonly TransactItem[]): Promise<void> {
  try {
    await deps.db.send(new TransactWriteCommand({ TransactItems: [...items] }));
  } catch (error) {
    throw decoded(error);
  }
}

/** A DynamoDB error as the store's named error, or as it was when it is not a lost condition or a conflict. */
function decoded(error: unknown): unknown {
  if (error instanceof TransactionCanceledException) {
    const reasons: CancellationReason[] = (error.CancellationReasons ?? []).map((reason) => ({
      code: reason.Code ?? 'None',
      // Cancellation reasons are not unmarshalled by the DocumentClient.
      item: reason.Item ? (unmarshall(reason.Item) as Record<string, unknown>) : undefined,
    }));
    if (reasons.some((r) => r.code === 'ConditionalCheckFailed')) return new TransactionConditionFailedError(reasons, { cause: error });
    if (reasons.some((r) => r.code === 'TransactionConflict')) return new TransactionConflictError({ cause: error });
    return error;
  }
  const name = (error as { name?: string } | null)?.name;
  if (name === 'ConditionalCheckFailedException') {
    // Like cancellation reasons, the item of a failed condition comes back marshalled.
    const found = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    return new ConditionFailedError(found ? (unmarshall(found) as Record<string, unknown>) : undefined, { cause: error });
  }
  if (name === 'TransactionConflictException' || name === 'TransactionInProgressException') return new TransactionConflictError({ cause: error });
  return error;
}

import { randomUUID } from 'node:crypto';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../infra/local/dynamodb-local';
import { createDocumentClient } from '../../lambdas/adapters/dynamo';
import { ConditionFailedError, TransactionConditionFailedError, TransactionConflictError } from '../../lambdas/store/errors';
import { getItem, putItem, transactWrite, updateItem, type TableDeps } from '../../lambdas/store/table';

const endpoint = process.env.SLIPWAY_TEST_DYNAMODB_ENDPOINT!;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let deps: TableDeps;

beforeAll(async () => {
  const tableName = `t-${randomUUID()}`;
  await ensureTable(new DynamoDBClient({ region: 'local', endpoint, credentials }), tableName);
  deps = { db: createDocumentClient({ region: 'local', endpoint, credentials }), tableName };
});

/** A fresh key, so each test starts from its own items. */
const key = (sk: string) => ({ pk: `T#${randomUUID()}`, sk });
/** An update that bumps `version` only while it is still `expected`. */
const bump = (k: { pk: string; sk: string }, expected: number) => ({
  TableName: deps.tableName,
  Key: k,
  UpdateExpression: 'SET #v = :next',
  ConditionExpression: '#v = :expected',
  ExpressionAttributeNames: { '#v': 'version' },
  ExpressionAttributeValues: { ':next': expected + 1, ':expected': expected },
});

describe('the store decodes lost conditions', () => {
  it('turns a lost single-item condition into ConditionFailedError carrying the item as found', async () => {
    const k = key('ITEM');
    await putItem(deps, { TableName: deps.tableName, Item: { ...k, version: 3, note: 'kept' } });

    const error = await updateItem(deps, bump(k, 2)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError).name).toBe('ConditionFailed');
    expect((error as ConditionFailedError).item).toEqual({ ...k, version: 3, note: 'kept' });
    expect(await getItem(deps, k)).toEqual({ ...k, version: 3, note: 'kept' });
  });

  it('carries no item when the condition failed on an absent item', async () => {
    const k = key('ABSENT');

    const error = await updateItem(deps, bump(k, 0)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError).item).toBeUndefined();
    expect(await getItem(deps, k)).toBeNull();
  });

  it('turns a lost put condition into ConditionFailedError with the existing record', async () => {
    const k = key('PUT');
    await putItem(deps, { TableName: deps.tableName, Item: { ...k, owner: 'first' } });

    const error = await putItem(deps, { TableName: deps.tableName, Item: { ...k, owner: 'second' }, ConditionExpression: 'attribute_not_exists(pk)' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError).item).toEqual({ ...k, owner: 'first' });
  });

  it('names the second item of a transaction whose second condition failed, with its record, and writes nothing', async () => {
    const first = key('FIRST');
    const second = key('SECOND');
    await transactWrite(deps, [{ Put: { TableName: deps.tableName, Item: { ...first, version: 1 } } }, { Put: { TableName: deps.tableName, Item: { ...second, version: 5 } } }]);

    const error = await transactWrite(deps, [{ Update: bump(first, 1) }, { Update: { ...bump(second, 1), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransactionConditionFailedError);
    const failed = error as TransactionConditionFailedError;
    expect(failed.name).toBe('TransactionConditionFailed');
    expect(failed.reasons.map((r) => r.code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect([failed.failedAt(0), failed.failedAt(1)]).toEqual([false, true]);
    expect(failed.failedOnlyFrom(1)).toBe(true);
    expect(failed.itemAt(1)).toEqual({ ...second, version: 5 });
    expect(failed.itemAt(0)).toBeUndefined();
    // All or nothing: the first item's update did not happen either.
    expect(await getItem(deps, first)).toEqual({ ...first, version: 1 });
  });

  it('carries no record for a failed transaction item that did not ask for ALL_OLD', async () => {
    const k = key('NOOLD');
    await putItem(deps, { TableName: deps.tableName, Item: { ...k, version: 2 } });

    const error = (await transactWrite(deps, [{ Update: bump(k, 1) }]).catch((e: unknown) => e)) as TransactionConditionFailedError;

    expect(error).toBeInstanceOf(TransactionConditionFailedError);
    expect(error.failedAt(0)).toBe(true);
    expect(error.itemAt(0)).toBeUndefined();
    expect(error.failedOnlyFrom(1)).toBe(false);
  });

  it('tells a conflict from a lost condition', async () => {
    // DynamoDB Local runs transactions one at a time and never cancels one for a conflict, so the
    // cancellation is the SDK's own exception class with the reasons AWS documents for TransactWriteItems
    // ("TransactionConflict: another transaction is in progress on the same item").
    const cancelled = (codes: string[]) =>
      new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
    const throwing = (error: unknown): TableDeps => ({ tableName: deps.tableName, db: { send: () => Promise.reject(error) } as unknown as TableDeps['db'] });
    const item = { Put: { TableName: deps.tableName, Item: key('X') } };

    await expect(transactWrite(throwing(cancelled(['None', 'TransactionConflict'])), [item, item])).rejects.toBeInstanceOf(TransactionConflictError);
    // A lost condition wins over a conflict on another item: deciding again on fresh state is the caller's answer to both, but only the condition carries a record.
    await expect(transactWrite(throwing(cancelled(['TransactionConflict', 'ConditionalCheckFailed'])), [item, item])).rejects.toBeInstanceOf(TransactionConditionFailedError);
    // A single write that met a transaction in progress on its item.
    await expect(updateItem(throwing(Object.assign(new Error('conflict'), { name: 'TransactionConflictException' })), bump(key('Y'), 0))).rejects.toBeInstanceOf(TransactionConflictError);
    // Any other cancellation (a validation error, throttling) is passed on as DynamoDB said it.
    const throttled = cancelled(['ThrottlingError']);
    await expect(transactWrite(throwing(throttled), [item])).rejects.toBe(throttled);
  });

  it('passes other errors through unchanged', async () => {
    const error = await updateItem(deps, { TableName: deps.tableName, Key: { pk: 'x' } as never, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': 1 } }).catch((e: unknown) => e);

    expect((error as Error).name).toBe('ValidationException');
  });
});

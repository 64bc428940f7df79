import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../infra/local/dynamodb-local';
import { createDocumentClient } from '../../lambdas/adapters/dynamo';
import { keys } from '../../lambdas/store/keys';
import type { InstanceItem } from '../../lambdas/domain/instance';
import { ConditionFailedError, TransactionConditionFailedError, TransactionConflictError } from '../../lambdas/store/errors';
import { getInstance, updateInstanceFenced, writeClaim, type ClaimWrite, type ClockedTableDeps } from '../../lambdas/store/instance';
import { putItem } from '../../lambdas/store/table';

const endpoint = process.env.SLIPWAY_TEST_DYNAMODB_ENDPOINT!;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const now = new Date('2026-12-08T03:00:00.000Z');
let deps: ClockedTableDeps;

beforeAll(async () => {
  const tableName = `t-${randomUUID()}`;
  await ensureTable(new DynamoDBClient({ region: 'local', endpoint, credentials }), tableName);
  deps = { db: createDocumentClient({ region: 'local', endpoint, credentials }), tableName, now: () => now };
});

/** A stored, unclaimed running instance of its own. */
async function storedInstance(extra: Record<string, unknown> = {}): Promise<InstanceItem> {
  const instanceId = `i-${randomUUID()}`;
  const item = { ...keys.instance(instanceId), instanceId, owner: 'owner-a', status: 'running', version: 3, provider: 'local', ...extra } as unknown as InstanceItem;
  await putItem(deps, { TableName: deps.tableName, Item: item as unknown as Record<string, unknown> });
  return item;
}

/** The claim of a stop, decided on `current`. */
const stopClaim = (current: InstanceItem, executionName = `${current.instanceId}-stop-4`): ClaimWrite => ({
  instanceId: current.instanceId,
  current,
  to: 'stopping',
  operation: 'stop',
  executionName,
  version: current.version + 1,
  operations: [],
  now,
  attentionAt: new Date(now.getTime() + 60_000),
  restarting: false,
  recorded: {},
});

describe('the instance store', () => {
  it('writes a claim and answers the claimed item', async () => {
    const current = await storedInstance();

    const claimed = await writeClaim(deps, stopClaim(current));

    expect(claimed).toMatchObject({ status: 'stopping', claim: `${current.instanceId}-stop-4`, version: 4, operation: 'stop' });
    expect(await getInstance(deps, current.instanceId)).toEqual(claimed);
  });

  it('answers a lost claim with ConditionFailedError carrying the instance as found', async () => {
    const current = await storedInstance();
    const winner = await writeClaim(deps, stopClaim(current, 'the-winner'));

    const error = await writeClaim(deps, stopClaim(current, 'the-loser')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError<InstanceItem>).item).toEqual(winner);
  });

  it('lets exactly one of many concurrent claimers win, and every loser learns it by a named error', async () => {
    const current = await storedInstance();

    const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => writeClaim(deps, stopClaim(current, `claimer-${i}`))));

    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    expect((await getInstance(deps, current.instanceId))?.claim).toBe((won[0] as PromiseFulfilledResult<InstanceItem>).value.claim);
  });

  it('names the second item when a claim written with another item loses only that item, and claims nothing', async () => {
    const current = await storedInstance();
    const other = { pk: `T#${randomUUID()}`, sk: 'OTHER' };
    await putItem(deps, { TableName: deps.tableName, Item: { ...other, taken: true } });
    const alsoWrite = [{ Put: { TableName: deps.tableName, Item: { ...other, taken: true }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } }];

    const error = await writeClaim(deps, stopClaim(current), alsoWrite).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransactionConditionFailedError);
    const failed = error as TransactionConditionFailedError;
    expect([failed.failedAt(0), failed.failedAt(1)]).toEqual([false, true]);
    expect(failed.itemAt(1)).toEqual({ ...other, taken: true });
    expect(error).not.toBeInstanceOf(TransactionConflictError);
    expect(await getInstance(deps, current.instanceId)).toEqual(current);
  });

  it('refuses a fenced update under another claim with the instance as found, and changes nothing', async () => {
    const current = await storedInstance();
    const claimed = await writeClaim(deps, stopClaim(current, 'mine'));

    const error = await updateInstanceFenced(deps, current.instanceId, 'not-mine', { set: { status: 'stopped' } }).catch((e: unknown) => e);
    const applied = await updateInstanceFenced(deps, current.instanceId, 'mine', { set: { machineState: 'stopped' } });

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError<InstanceItem>).item).toEqual(claimed);
    expect(applied).toEqual({ ...claimed, machineState: 'stopped', updatedAt: now.toISOString() });
  });
});

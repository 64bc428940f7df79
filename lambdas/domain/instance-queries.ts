import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../adapters/table-definition';
import { keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { InstanceNotFoundError, ValidationFailedError } from '../shared/errors';
import * as z from 'zod';
import { instanceViewSchema, toInstanceView, type InstanceItem } from './instance';

/** Read an instance item (strongly consistent), or null. */
export async function readInstance(deps: Deps, instanceId: string): Promise<InstanceItem | null> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.instance(instanceId), ConsistentRead: true }));
  return (out.Item as InstanceItem | undefined) ?? null;
}

/**
 * An instance the caller may see. Another owner's instance, a tombstone and a missing one all
 * read as not found, so ids cannot be probed.
 */
export async function getVisibleInstance(deps: Deps, instanceId: string, owners: readonly string[]): Promise<InstanceItem> {
  const item = await readInstance(deps, instanceId);
  if (!item || !owners.includes(item.owner) || item.status === 'destroyed') throw new InstanceNotFoundError(instanceId);
  return item;
}

/** One page of an owner's instances. */
export const instancePageSchema = /* @__PURE__ */ z.object({ items: z.array(instanceViewSchema), nextCursor: z.string().nullable() }).meta({ id: 'InstancePage' });
export type InstancePage = z.infer<typeof instancePageSchema>;

function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

function decodeCursor(cursor: string | undefined, owner: string): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    // A cursor only ever continues a listing of the same owner.
    if (key[TABLE_KEYS.ownerIndex.partitionKey] !== `OWNER#${owner}`) throw new Error('cursor of another owner');
    return key;
  } catch {
    throw new ValidationFailedError('The cursor is not valid for this listing.', [{ path: 'cursor', message: 'invalid cursor' }]);
  }
}

/** An owner's live instances, newest first (tombstones excluded). */
export async function listInstances(deps: Deps, owner: string, options: { limit: number; cursor?: string; includeTombstones?: boolean }): Promise<InstancePage> {
  const index = TABLE_KEYS.ownerIndex;
  const out = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk',
      ...(options.includeTombstones ? {} : { FilterExpression: '#status <> :destroyed' }),
      ExpressionAttributeNames: { '#pk': index.partitionKey, ...(options.includeTombstones ? {} : { '#status': 'status' }) },
      ExpressionAttributeValues: { ':pk': `OWNER#${owner}`, ...(options.includeTombstones ? {} : { ':destroyed': 'destroyed' }) },
      ScanIndexForward: false,
      Limit: options.limit,
      ExclusiveStartKey: decodeCursor(options.cursor, owner),
    }),
  );
  return { items: (out.Items as InstanceItem[] | undefined ?? []).map(toInstanceView), nextCursor: encodeCursor(out.LastEvaluatedKey) };
}

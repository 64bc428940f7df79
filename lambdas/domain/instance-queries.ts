import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../adapters/table-definition';
import { keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { InstanceNotFoundError } from '../shared/errors';
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

/** What a cursor continues: one owner's listing, of live instances or of all (tombstones too). */
function cursorScope(owner: string, includeTombstones: boolean): string {
  return `instances:${owner}:${includeTombstones ? 'all' : 'live'}`;
}

/** An owner's live instances, newest first (tombstones excluded). */
export async function listInstances(deps: Deps, owner: string, options: { limit: number; cursor?: string; includeTombstones?: boolean }): Promise<InstancePage> {
  const index = TABLE_KEYS.ownerIndex;
  const scope = cursorScope(owner, options.includeTombstones === true);
  // Only a cursor this API sealed for this very listing opens (InvalidCursor otherwise).
  const startKey = options.cursor ? await deps.cursors.open(options.cursor, scope) : undefined;
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
      ExclusiveStartKey: startKey,
    }),
  );
  const nextCursor = out.LastEvaluatedKey ? await deps.cursors.seal(out.LastEvaluatedKey, scope) : null;
  return { items: ((out.Items as InstanceItem[] | undefined) ?? []).map(toInstanceView), nextCursor };
}

/**
 * Retained volumes (`VOLUME#<id>` / `VOLUME`) in the table: their key, their strongly consistent
 * reads and the cleanup's conditional writes (taking the cleanup lease, and every write fenced by
 * its holder). The states and which write moves a volume from which are the domain's
 * (`domain/retained-volume.ts`).
 */
import { keys } from './keys';
import { updateExpression, type InstanceUpdate } from './expression';
import { batchGetItems, getItem, updateItem, type TableDeps, type TransactItem } from './table';

/** One retained volume's item (strongly consistent), or null. */
export function getRetainedVolume<T>(deps: TableDeps, volumeId: string): Promise<T | null> {
  return getItem<T>(deps, keys.volume(volumeId));
}

/** Retained-volume items by volume id (consistent BatchGetItem); absent ones are left out. */
export function getRetainedVolumes<T>(deps: TableDeps, volumeIds: readonly string[]): Promise<T[]> {
  return batchGetItems<T>(deps, [...new Set(volumeIds)].map((id) => keys.volume(id)));
}

/**
 * The retention of a volume as a transaction item: `item` under the volume's key, written once per
 * volume id; only the same instance's replay may write it again.
 */
export function retainedVolumePut(deps: TableDeps, item: { volumeId: string; instanceId: string } & Record<string, unknown>): TransactItem {
  return {
    Put: {
      TableName: deps.tableName,
      Item: { ...keys.volume(item.volumeId), ...item },
      ConditionExpression: 'attribute_not_exists(pk) OR instanceId = :instanceId',
      ExpressionAttributeValues: { ':instanceId': item.instanceId },
    },
  };
}

/**
 * Take the cleanup lease: only a volume in one of `from`, and only when no lease is held or the held
 * one ended before `now`. Returns the taken item; a lost condition is a ConditionFailedError carrying the volume as found.
 */
export async function takeCleanupLease<T>(deps: TableDeps, volumeId: string, holder: string, from: readonly string[], now: Date, until: Date): Promise<T> {
  return (await updateItem<T>(deps, {
    TableName: deps.tableName,
    Key: keys.volume(volumeId),
    UpdateExpression: 'SET cleanupHolder = :holder, cleanupLeaseUntil = :until',
    ConditionExpression: `attribute_exists(pk) AND #state IN (${from.map((_, i) => `:from${i}`).join(', ')}) AND (attribute_not_exists(cleanupLeaseUntil) OR cleanupLeaseUntil < :now)`,
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: {
      ':holder': holder,
      ':until': until.toISOString(),
      ':now': now.toISOString(),
      ...Object.fromEntries(from.map((state, i) => [`:from${i}`, state])),
    },
  }))!;
}

/**
 * A write of the cleanup that holds the volume, giving the lease back: conditional on the holder and,
 * when given, on the volume being in one of `from`. A lost fence is a ConditionFailedError carrying the volume as found.
 */
export async function updateHeldVolume(deps: TableDeps, volumeId: string, holder: string, from: readonly string[], update: InstanceUpdate): Promise<void> {
  const { expression, names, values } = updateExpression({ set: update.set, remove: [...(update.remove ?? []), 'cleanupHolder', 'cleanupLeaseUntil'] });
  await updateItem(
    deps,
    {
      TableName: deps.tableName,
      Key: keys.volume(volumeId),
      UpdateExpression: expression,
      ConditionExpression: `#fenceHolder = :fenceHolder${from.length ? ` AND #fenceState IN (${from.map((_, i) => `:fenceFrom${i}`).join(', ')})` : ''}`,
      ExpressionAttributeNames: { ...names, '#fenceHolder': 'cleanupHolder', ...(from.length ? { '#fenceState': 'state' } : {}) },
      ExpressionAttributeValues: { ...values, ':fenceHolder': holder, ...Object.fromEntries(from.map((state, i) => [`:fenceFrom${i}`, state])) },
    },
    'NONE',
  );
}

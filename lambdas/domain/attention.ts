/**
 * The attention index: an item carries `attentionShard`/`attentionAt` only while a sweep must look
 * at it (an unresolved reservation, a claimed instance, a running instance's next drift check) and
 * `attentionAt` says when. The sweep reads only what is due, shard by shard in parallel — never a Scan,
 * so its cost grows with the number of due items, not with the table.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { attentionShardOf, attentionShards, type AttentionLane } from '../adapters/dynamo';
import { TABLE_KEYS } from '../adapters/table-definition';
import type { Deps } from '../shared/deps';

/** The attention attributes that make an item due at `at` (in the reconcile sweep's lane unless told). */
export function attentionAt(pk: string, at: Date, lane: AttentionLane = 'reconcile'): { attentionShard: string; attentionAt: string } {
  return { attentionShard: attentionShardOf(pk, lane), attentionAt: at.toISOString() };
}

/** `at` plus `seconds`. */
export function after(at: Date, seconds: number): Date {
  return new Date(at.getTime() + seconds * 1000);
}

/** A due item as the index returns it (projection ALL: the whole item). */
export type DueItem = Record<string, unknown> & { pk: string; sk: string; attentionAt: string };

/** What one read of the due items found, and what it cost. */
export interface DueItems {
  items: DueItem[];
  /** Items the index returned (before any filtering), for the sweep's cost figures. */
  itemsRead: number;
  /** Index query calls made. */
  queries: number;
}

/**
 * Query every shard of a lane in parallel, soonest first within each, at most `limitPerShard` each:
 * the items due by `until` when given, else every item on the lane. Never a Scan.
 */
export async function queryLane(deps: Deps, lane: AttentionLane, options: { until?: Date; limitPerShard: number }): Promise<{ items: DueItem[]; queries: number }> {
  const index = TABLE_KEYS.attentionIndex;
  const pages = await Promise.all(
    attentionShards(lane).map(async (shard) => {
      const items: DueItem[] = [];
      let queries = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const out = await deps.db.send(
          new QueryCommand({
            TableName: deps.tableName,
            IndexName: index.name,
            KeyConditionExpression: options.until ? '#shard = :shard AND #at <= :until' : '#shard = :shard',
            ExpressionAttributeNames: { '#shard': index.partitionKey, ...(options.until ? { '#at': index.sortKey } : {}) },
            ExpressionAttributeValues: { ':shard': shard, ...(options.until ? { ':until': options.until.toISOString() } : {}) },
            Limit: options.limitPerShard - items.length,
            ExclusiveStartKey: start,
          }),
        );
        queries += 1;
        items.push(...((out.Items ?? []) as DueItem[]));
        start = out.LastEvaluatedKey;
      } while (start && items.length < options.limitPerShard);
      return { items, queries };
    }),
  );
  return { items: pages.flatMap((page) => page.items), queries: pages.reduce((sum, page) => sum + page.queries, 0) };
}

/** Every item of a lane due at `now`, oldest first; at most `limit` per shard. */
export async function dueItems(deps: Deps, now: Date, limit: number, lane: AttentionLane = 'reconcile'): Promise<DueItems> {
  const { items, queries } = await queryLane(deps, lane, { until: now, limitPerShard: limit });
  items.sort((a, b) => a.attentionAt.localeCompare(b.attentionAt));
  return { items, itemsRead: items.length, queries };
}

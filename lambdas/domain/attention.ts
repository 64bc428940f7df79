/**
 * The attention index: an item carries `attentionShard`/`attentionAt` only while a sweep must look
 * at it (an unresolved reservation, a claimed instance, a destroy to retry; never a healthy running
 * instance: the fleet inventory finds the running ones that drifted) and
 * `attentionAt` says when. The sweep reads only what is due, shard by shard in parallel — never a Scan,
 * so its cost grows with the number of due items, not with the table.
 *
 * Items left for an operator (a cleanup that exhausted its tries) stay on the index, *parked*:
 * their `attentionAt` is `parked#<when>`, which sorts after every ISO date, so no sweep ever reads
 * them as due, while the operator console still finds them with one Query per shard.
 */
import { attentionShardOf, attentionShards, type AttentionLane } from '../store/keys';
import { TABLE_KEYS } from '../adapters/table-definition';
import type { Deps } from '../composition/deps';
import { attentionIndexPage } from '../store/attention';

/** The attention attributes that make an item due at `at` (in the reconcile sweep's lane unless told). */
export function attentionAt(pk: string, at: Date, lane: AttentionLane = 'reconcile'): { attentionShard: string; attentionAt: string } {
  return { attentionShard: attentionShardOf(pk, lane), attentionAt: at.toISOString() };
}

/** Prefix of `attentionAt` for items parked for an operator (sorts after any ISO 8601 date). */
export const PARKED_PREFIX = 'parked#';

/** The attention attributes that park an item for an operator, since `at`. */
export function parkedAttention(pk: string, at: Date, lane: AttentionLane = 'reconcile'): { attentionShard: string; attentionAt: string } {
  return { attentionShard: attentionShardOf(pk, lane), attentionAt: `${PARKED_PREFIX}${at.toISOString()}` };
}

/** Which part of the index to read: what is due now, or what is parked for an operator. */
export type AttentionBand = 'due' | 'parked';

/**
 * One page of a band of one shard, oldest first, after `start`: at most `limit` items. The key
 * condition keeps the band exact, so a page never reads an item of the other band.
 */
export async function attentionShardPage(
  deps: Deps,
  shard: string,
  band: AttentionBand,
  now: Date,
  limit: number,
  start: Record<string, unknown> | undefined,
): Promise<{ items: DueItem[]; last: Record<string, unknown> | undefined }> {
  const out = await attentionIndexPage<DueItem>(deps, shard, band === 'due' ? { until: now.toISOString() } : { prefix: PARKED_PREFIX }, { limit, start });
  return { items: out.items, last: out.lastKey };
}

/** The index key of an item (what ExclusiveStartKey needs to continue after it). */
export function indexKeyOf(item: DueItem): Record<string, unknown> {
  const index = TABLE_KEYS.attentionIndex;
  return { pk: item.pk, sk: item.sk, [index.partitionKey]: item[index.partitionKey], [index.sortKey]: item.attentionAt };
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
export async function queryLane(deps: Deps, lane: AttentionLane, options: { until?: Date; limitPerShard: number; where?: Record<string, string> }): Promise<{ items: DueItem[]; queries: number }> {
  const pages = await Promise.all(
    attentionShards(lane).map(async (shard) => {
      const items: DueItem[] = [];
      let queries = 0;
      let start: Record<string, unknown> | undefined;
      do {
        // `where`: an equality filter on plain attributes (e.g. a retained volume's `state`), applied after the key condition.
        const out = await attentionIndexPage<DueItem>(deps, shard, options.until ? { until: options.until.toISOString() } : 'all', {
          limit: options.limitPerShard - items.length,
          start,
          where: options.where,
        });
        queries += 1;
        items.push(...out.items);
        start = out.lastKey;
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

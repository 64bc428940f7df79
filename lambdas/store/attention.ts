/**
 * The sparse attention index (`byAttention`: `attentionShard`, `attentionAt`) as the sweeps and the
 * operator views read it: one shard at a time, by a range of `attentionAt`, never a Scan. Which
 * shards a lane has and what counts as due or parked are the domain's (`domain/attention.ts`).
 */
import { TABLE_KEYS } from '../adapters/table-definition';
import { queryPage, type QueryPage, type TableDeps } from './table';

/** Which part of a shard to read: due by `until` (inclusive), starting with `prefix`, or all of it. */
export type AttentionRange = { until: string } | { prefix: string } | 'all';

/** One page of a shard of the attention index, soonest first, after `start`; `where` filters on plain attributes by equality. */
export function attentionIndexPage<T>(
  deps: TableDeps,
  shard: string,
  range: AttentionRange,
  options: { limit: number; start?: Record<string, unknown>; where?: Record<string, string> },
): Promise<QueryPage<T>> {
  const index = TABLE_KEYS.attentionIndex;
  const where = Object.entries(options.where ?? {});
  const bounded = range !== 'all';
  return queryPage<T>(deps, {
    IndexName: index.name,
    KeyConditionExpression: range === 'all' ? '#shard = :shard' : 'until' in range ? '#shard = :shard AND #at <= :until' : '#shard = :shard AND begins_with(#at, :prefix)',
    ...(where.length ? { FilterExpression: where.map((_, i) => `#w${i} = :w${i}`).join(' AND ') } : {}),
    ExpressionAttributeNames: { '#shard': index.partitionKey, ...(bounded ? { '#at': index.sortKey } : {}), ...Object.fromEntries(where.map(([name], i) => [`#w${i}`, name])) },
    ExpressionAttributeValues: {
      ':shard': shard,
      ...(range === 'all' ? {} : 'until' in range ? { ':until': range.until } : { ':prefix': range.prefix }),
      ...Object.fromEntries(where.map(([, value], i) => [`:w${i}`, value])),
    },
    Limit: options.limit,
    ExclusiveStartKey: options.start,
  });
}

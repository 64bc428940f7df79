/** How every item of the one table is addressed: keys, index attributes, attention shards, TTL. */
import { TABLE_KEYS } from '../adapters/table-definition';

/** Key builders: the only place that knows how items are addressed. */
export const keys = {
  instance: (instanceId: string) => ({ pk: `INSTANCE#${instanceId}`, sk: 'INSTANCE' }),
  /** The owner's partition: its reservation item (gate and quota counters) and its audit records. */
  ownerPartition: (owner: string) => `OWNER#${owner}`,
  /** The owner reservation item: the admission gate, the fencing token and the quota counters. */
  reservation: (owner: string) => ({ pk: `OWNER#${owner}`, sk: 'RESERVATION' }),
  /** The claim of an instance name in the owner's partition (names are unique among an owner's live instances). */
  instanceName: (owner: string, name: string) => ({ pk: `OWNER#${owner}`, sk: `NAME#${name}` }),
  /** A retained volume (provider volume ids are unique: Fly's and the local provider's carry a random part). */
  volume: (volumeId: string) => ({ pk: `VOLUME#${volumeId}`, sk: 'VOLUME' }),
  /** Sort-key prefix of an owner's audit records. */
  auditPrefix: 'AUDIT#',
  /** An audit record: under the owner, sorted by time (the id breaks ties). */
  audit: (owner: string, at: string, id: string) => ({ pk: `OWNER#${owner}`, sk: `AUDIT#${at}#${id}` }),
  /** Owner-index attributes of an instance: newest first when queried in reverse. */
  ownerIndex: (owner: string, createdAt: string, instanceId: string) => ({
    [TABLE_KEYS.ownerIndex.partitionKey]: `OWNER#${owner}`,
    [TABLE_KEYS.ownerIndex.sortKey]: `${createdAt}#${instanceId}`,
  }),
};

/**
 * How many partitions the attention index spreads over, per lane. One partition caps writes at
 * ~1,000 WCU/s (about 90 provisions a second with their index writes); sixteen, queried in parallel
 * by the sweep, lift that cap well past what the table itself sustains.
 */
export const ATTENTION_SHARDS = 16;

/**
 * The attention index's lanes, one per sweep, so each sweep reads only its own due items: the
 * reconcile sweep's (`A0`…`A15`: reservations, claims, drift checks, cleanups) and the
 * volume-cleanup sweep's (`V0`…`V15`: retained volumes, due at their `retainUntil`).
 */
export const ATTENTION_LANES = { reconcile: 'A', volumes: 'V' } as const;
export type AttentionLane = keyof typeof ATTENTION_LANES;

/** The attention shard of an item: a stable hash of its partition key, so its entries always land together. */
export function attentionShardOf(pk: string, lane: AttentionLane = 'reconcile'): string {
  let hash = 2166136261;
  for (let i = 0; i < pk.length; i++) hash = Math.imul(hash ^ pk.charCodeAt(i), 16777619) >>> 0;
  return `${ATTENTION_LANES[lane]}${hash % ATTENTION_SHARDS}`;
}

/** Every shard of a lane. */
export function attentionShards(lane: AttentionLane): string[] {
  return Array.from({ length: ATTENTION_SHARDS }, (_, i) => `${ATTENTION_LANES[lane]}${i}`);
}

/** Epoch seconds for the TTL attribute. */
export function ttlAfter(now: Date, seconds: number): number {
  return Math.floor(now.getTime() / 1000) + seconds;
}

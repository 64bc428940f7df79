/**
 * The retained-volume item: a volume slipway keeps after it stopped using it (the old volume of a
 * recovery or a provider switch) until `retainUntil`, when the volume-cleanup sweep deletes it after
 * proving it is still this instance's. This module owns its shape, its states, the rules between
 * them and every write to it. While `retained` the item waits on the attention index's `volumes`
 * lane, due at `retainUntil`; nothing else reads that lane.
 */
import * as z from 'zod';
import { batchGetItems, keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { attentionAt, queryLane } from './attention';
import type { TransactItem } from './fence';

/** Where a retained volume is in its life. */
export const RETAINED_VOLUME_STATES = ['retained', 'deleted', 'ownership_unverified', 'cleanup_exhausted'] as const;
export type RetainedVolumeState = (typeof RETAINED_VOLUME_STATES)[number];

/** Why a volume was kept. */
export const RETENTION_REASONS = ['recovery', 'switch'] as const;
export type RetentionReason = (typeof RETENTION_REASONS)[number];

/**
 * The rules, in one table: from which states each transition may move a retained volume. Every
 * write to the item takes its condition from here.
 */
export const RETAINED_VOLUME_RULES = {
  /** A recovery or a switch stopped using the volume. */
  retain: { from: [], to: 'retained' },
  /** The volume-cleanup sweep or an operator deleted it (ownership proven). */
  delete: { from: ['retained', 'ownership_unverified', 'cleanup_exhausted'], to: 'deleted' },
  /** A delete failed; it is tried again later. */
  retry: { from: ['retained'], to: 'retained' },
  /** The tries ran out: an operator decides (alarm). */
  exhaust: { from: ['retained'], to: 'cleanup_exhausted' },
  /** Its ownership could not be proven: never deleted automatically (alarm). */
  refuse: { from: ['retained'], to: 'ownership_unverified' },
} as const satisfies Record<string, { from: readonly RetainedVolumeState[]; to: RetainedVolumeState }>;

/** The retained-volume item as stored (and as operators see it). */
export const retainedVolumeSchema = z
  .looseObject({
    volumeId: z.string(),
    volumeName: z.string(),
    provider: z.string(),
    region: z.string(),
    instanceId: z.string(),
    owner: z.string(),
    reason: z.enum(RETENTION_REASONS),
    snapshotCount: z.number().int(),
    retainUntil: z.string(),
    state: z.enum(RETAINED_VOLUME_STATES),
    /** Failed delete tries so far. */
    tries: z.number().int(),
    lastError: z.object({ message: z.string(), code: z.string().optional(), at: z.string() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deletedAt: z.string().optional(),
    deletedBy: z.string().optional(),
  })
  .meta({ id: 'RetainedVolume', description: 'A volume kept after a recovery or a provider switch, until retainUntil' });
export type RetainedVolume = z.infer<typeof retainedVolumeSchema>;

/** What a recovery or a switch retains. */
export interface RetainRequest {
  volumeId: string;
  volumeName: string;
  provider: string;
  region: string;
  instanceId: string;
  owner: string;
  reason: RetentionReason;
  snapshotCount: number;
  retainUntil: Date;
}

/**
 * The retention of a volume, as a transaction item for the commit that stops using it (so the
 * volume is never unaccounted for between the cut-over and its record). Due on the volumes lane at
 * `retainUntil`. A replay of the same retention (same instance) writes it again unchanged in meaning.
 */
export function retainVolumeItem(deps: Deps, request: RetainRequest): TransactItem {
  const now = deps.now().toISOString();
  const key = keys.volume(request.volumeId);
  return {
    Put: {
      TableName: deps.tableName,
      Item: {
        ...key,
        type: 'volume',
        volumeId: request.volumeId,
        volumeName: request.volumeName,
        provider: request.provider,
        region: request.region,
        instanceId: request.instanceId,
        owner: request.owner,
        reason: request.reason,
        snapshotCount: request.snapshotCount,
        retainUntil: request.retainUntil.toISOString(),
        state: RETAINED_VOLUME_RULES.retain.to,
        tries: 0,
        createdAt: now,
        updatedAt: now,
        ...attentionAt(key.pk, request.retainUntil, 'volumes'),
      },
      // A volume id is retained once; only the same instance's replay may write it again.
      ConditionExpression: 'attribute_not_exists(pk) OR instanceId = :instanceId',
      ExpressionAttributeValues: { ':instanceId': request.instanceId },
    },
  };
}

/** Retained-volume items by volume id (BatchGetItem); absent ids are not in the map. */
export async function retainedVolumesById(deps: Deps, volumeIds: readonly string[]): Promise<Map<string, RetainedVolume>> {
  const items = await batchGetItems<RetainedVolume>(deps.db, deps.tableName, [...new Set(volumeIds)].map((id) => keys.volume(id)));
  return new Map(items.map((item) => [item.volumeId, item]));
}

/** The volume ids among `volumeIds` that slipway keeps on purpose (not deleted yet): never orphans, never a destroy's to delete. */
export async function keptVolumeIds(deps: Deps, volumeIds: readonly string[]): Promise<Set<string>> {
  if (volumeIds.length === 0) return new Set();
  const items = await retainedVolumesById(deps, volumeIds);
  return new Set([...items.values()].filter((item) => item.state !== 'deleted').map((item) => item.volumeId));
}

/** The kept-volume lookup the provider cleanups and adoptions take (`provider-resources.ts`). */
export function keptVolumesOf(deps: Deps): (volumeIds: string[]) => Promise<ReadonlySet<string>> {
  return (volumeIds) => keptVolumeIds(deps, volumeIds);
}

/**
 * Volumes waiting on the volumes lane (state `retained`), soonest `retainUntil` first: at most
 * `limit`, those due by `until` when given. Reads the 16 shards in parallel; never a Scan.
 */
export async function waitingRetainedVolumes(deps: Deps, options: { limit: number; until?: Date }): Promise<RetainedVolume[]> {
  const { items } = await queryLane(deps, 'volumes', { until: options.until, limitPerShard: options.limit });
  return (items as unknown as RetainedVolume[])
    .sort((a, b) => a.retainUntil.localeCompare(b.retainUntil) || a.volumeId.localeCompare(b.volumeId))
    .slice(0, options.limit);
}

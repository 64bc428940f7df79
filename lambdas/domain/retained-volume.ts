/**
 * The retained-volume item: a volume slipway keeps after it stopped using it (the old volume of a
 * recovery or a provider switch) until `retainUntil`, when the volume-cleanup sweep deletes it after
 * proving it is still this instance's. This module owns its shape, its states, the rules between
 * them and every write to it. While `retained` the item waits on the attention index's `volumes`
 * lane, due at `retainUntil`; parked there for an operator while `ownership_unverified` or
 * `cleanup_exhausted`; off it once `deleted`. Only the volume-cleanup sweep and the operator's
 * listing read that lane. Every cleanup write is fenced by a per-item lease (`beginVolumeCleanup`).
 */
import * as z from 'zod';
import { keys, ttlAfter } from '../store/keys';
import type { Deps } from '../composition/deps';
import { after, attentionAt, parkedAttention } from './attention';
import { type InstanceUpdate, type TransactItem } from './fence';
import { ConditionFailedError } from '../store/errors';
import { getRetainedVolume, getRetainedVolumes, retainedVolumePut, takeCleanupLease, updateHeldVolume } from '../store/retained-volume';

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
  /** Its instance is held by an operation (a recovery or switch in flight): looked at again later, no try counted. */
  postpone: { from: ['retained'], to: 'retained' },
  /** The tries ran out: an operator decides (alarm). */
  exhaust: { from: ['retained'], to: 'cleanup_exhausted' },
  /** Its ownership could not be proven: never deleted automatically (alarm). */
  refuse: { from: ['retained'], to: 'ownership_unverified' },
} as const satisfies Record<string, { from: readonly RetainedVolumeState[]; to: RetainedVolumeState }>;

/**
 * The retained-volume item as stored (and as operators see it). Pure: a bundle that never parses it
 * drops it (its only side effect, the OpenAPI registry entry, is used at build time).
 */
export const retainedVolumeSchema = /* @__PURE__ */ z
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
    /** The cleanup (a sweep run or an operator's request) holding the volume now, and until when. */
    cleanupHolder: z.string().optional(),
    cleanupLeaseUntil: z.string().optional(),
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
  return retainedVolumePut(deps, {
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
    ...attentionAt(keys.volume(request.volumeId).pk, request.retainUntil, 'volumes'),
  });
}

/** Retained-volume items by volume id (BatchGetItem); absent ids are not in the map. */
export async function retainedVolumesById(deps: Deps, volumeIds: readonly string[]): Promise<Map<string, RetainedVolume>> {
  const items = await getRetainedVolumes<RetainedVolume>(deps, volumeIds);
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

/** How long a cleanup holds one volume: longer than destroying its machine and deleting it can take. */
export const CLEANUP_LEASE_SECONDS = 300;

/** How long a deleted volume's item stays readable (its history) before its TTL removes it. */
const DELETED_ITEM_SECONDS = 30 * 24 * 3600;

/**
 * Items that wait for an operator (`ownership_unverified`, `cleanup_exhausted`) stay on the volumes
 * lane parked (`parked#<since>`, which sorts after every date): `GET /v1/admin/volumes?state=…` and
 * the attention view's parked band list them, and the sweep, which reads only what is due, never
 * reaches them.
 */
const parked = (deps: Deps, volumeId: string) => parkedAttention(keys.volume(volumeId).pk, deps.now(), 'volumes');

/** One retained volume's item (strongly consistent), or null. */
export async function readRetainedVolume(deps: Deps, volumeId: string): Promise<RetainedVolume | null> {
  return getRetainedVolume<RetainedVolume>(deps, volumeId);
}

/**
 * Take a volume for a cleanup (one sweep run's, or one operator request's): only a volume in a state
 * it may be deleted from, and only when no other cleanup holds it. The item fence of every write the
 * cleanup then makes, so two cleanups never act on one volume at once. Null when not taken.
 */
export async function beginVolumeCleanup(deps: Deps, volumeId: string, holder: string): Promise<RetainedVolume | null> {
  const now = deps.now();
  const from = RETAINED_VOLUME_RULES.delete.from;
  try {
    return await takeCleanupLease<RetainedVolume>(deps, volumeId, holder, from, now, after(now, CLEANUP_LEASE_SECONDS));
  } catch (error) {
    if (error instanceof ConditionFailedError) return null;
    throw error;
  }
}

/**
 * Apply one write of a cleanup that holds the volume: conditional on the holder and on the rule's
 * source states (none for a lease release), and giving the lease back. False when the fence failed.
 */
async function cleanupWrite(deps: Deps, volumeId: string, holder: string, rule: keyof typeof RETAINED_VOLUME_RULES | null, update: InstanceUpdate): Promise<boolean> {
  const from: readonly RetainedVolumeState[] = rule ? RETAINED_VOLUME_RULES[rule].from : [];
  const set = { ...update.set, ...(rule ? { state: RETAINED_VOLUME_RULES[rule].to } : {}), updatedAt: deps.now().toISOString() };
  try {
    await updateHeldVolume(deps, volumeId, holder, from, { set, remove: update.remove });
    return true;
  } catch (error) {
    if (error instanceof ConditionFailedError) return false;
    throw error;
  }
}

/** The volume is gone (deleted now, or found gone): `deleted`, off the lane, kept a while as history. */
export function markVolumeDeleted(deps: Deps, volumeId: string, holder: string, by: string): Promise<boolean> {
  const now = deps.now();
  return cleanupWrite(deps, volumeId, holder, 'delete', {
    set: { deletedAt: now.toISOString(), deletedBy: by, expiresAt: ttlAfter(now, DELETED_ITEM_SECONDS) },
    remove: ['attentionShard', 'attentionAt'],
  });
}

/** A delete failed: count it and look again at `next`. */
export function recordVolumeCleanupTry(deps: Deps, volumeId: string, holder: string, tries: number, error: { message: string; code?: string }, next: Date): Promise<boolean> {
  return cleanupWrite(deps, volumeId, holder, 'retry', { set: { tries, lastError: { ...error, at: deps.now().toISOString() }, ...attentionAt(keys.volume(volumeId).pk, next, 'volumes') } });
}

/** The tries ran out: `cleanup_exhausted`, parked for an operator. */
export function exhaustVolumeCleanup(deps: Deps, volumeId: string, holder: string, tries: number, error: { message: string; code?: string }): Promise<boolean> {
  return cleanupWrite(deps, volumeId, holder, 'exhaust', { set: { tries, lastError: { ...error, at: deps.now().toISOString() }, ...parked(deps, volumeId) } });
}

/** Its ownership could not be proven: `ownership_unverified`, parked for an operator, never deleted automatically. */
export function refuseVolumeCleanup(deps: Deps, volumeId: string, holder: string, why: string): Promise<boolean> {
  return cleanupWrite(deps, volumeId, holder, 'refuse', {
    set: { lastError: { code: 'OwnershipUnverified', message: why, at: deps.now().toISOString() }, ...parked(deps, volumeId) },
  });
}

/** Its instance is busy: look again at `next`, no try counted. */
export function postponeVolumeCleanup(deps: Deps, volumeId: string, holder: string, next: Date): Promise<boolean> {
  return cleanupWrite(deps, volumeId, holder, 'postpone', { set: attentionAt(keys.volume(volumeId).pk, next, 'volumes') });
}

/** Give the volume back unchanged in state (an operator's attempt on a parked volume that did not succeed), noting why. */
export function releaseVolumeCleanup(deps: Deps, volumeId: string, holder: string, error?: { message: string; code?: string }): Promise<boolean> {
  return cleanupWrite(deps, volumeId, holder, null, error ? { set: { lastError: { ...error, at: deps.now().toISOString() } } } : {});
}

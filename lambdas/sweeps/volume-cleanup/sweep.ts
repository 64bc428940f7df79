/**
 * Volume cleanup: a retained volume past its `retainUntil` is deleted — but only after its ownership
 * is proven again, at the moment of the delete: the provider's volume carries the name and instance
 * the item recorded (and the owner, where the provider keeps one), its instance does not use it, and
 * any machine attached to it carries that instance's ownership tags (and is not the instance's own
 * machine). What it cannot prove it owns it never touches: the volume is marked
 * `ownership_unverified` and an alarm fires. A volume whose instance is held by an operation (a
 * recovery or a switch in flight) is left for later. Failed deletes are capped
 * (`volumeCleanupMaxTries`, backoff 15 min doubling to a day), then left for an operator with an
 * alarm — never KiloClaw's 12,000 retries.
 *
 * The same use case serves the hourly sweep (`runVolumeCleanup`) and the operator's early delete
 * (`deleteRetainedVolumeByOperator`); each takes the volume's per-item lease first, so two cleanups
 * never act on one volume at once.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { pageLimit } from '../../shared/query-params';
import { backoff } from '../../shared/retry';
import type { Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import { VolumeDeleteFailedError, VolumeInUseError, VolumeNotFoundError, VolumeOwnershipUnverifiedError } from '../../shared/errors/refusals';
import { after, dueItems } from '../../domain/attention';
import { auditRecord, auditRecordSchema } from '../../domain/audit';
import { putAudit } from '../../store/audit';
import type { InstanceItem } from '../../domain/instance';
import { readInstance } from '../../views/instance-queries';
import { emitLifecycleEvent } from '../../domain/lifecycle-events';
import { mapWithConcurrency } from '../../views/operations-history';
import type { TransactItem } from '../../domain/fence';
import { pageRetainedVolumes } from '../../views/volume-listing';
import { acquireLease, holderFor, leaseTiming, releaseLease, startHeartbeat } from '../lease';
import { newSweepReport, type SweepReport } from '../report';
import type { SweepPeriodSetting } from '../spec';
import type { AttentionLane } from '../../store/keys';
import {
  beginVolumeCleanup,
  exhaustVolumeCleanup,
  markVolumeDeleted,
  postponeVolumeCleanup,
  readRetainedVolume,
  recordVolumeCleanupTry,
  refuseVolumeCleanup,
  releaseVolumeCleanup,
  retainedVolumeSchema,
  RETAINED_VOLUME_STATES,
  type RetainedVolume,
} from '../../domain/retained-volume';

/** The sweep's name (its lease, its metrics dimension, `POST /v1/admin/sweeps/volume-cleanup`). */
export const VOLUME_CLEANUP = 'volume-cleanup';
/** The attention lane it reads (retained volumes, due at their `retainUntil`). */
export const VOLUME_CLEANUP_LANE = 'volumes' satisfies AttentionLane;
/** The setting that gives its period (and its lease's). */
export const VOLUME_CLEANUP_PERIOD = 'volumeCleanupPeriodSeconds' satisfies SweepPeriodSetting;

/** Due volumes read per shard per run (16 shards); the rest wait for the next run. */
const BATCH_PER_SHARD = 10;
/** Volumes cleaned up at once. */
const CONCURRENCY = 4;
/** Backoff of the next try after a failed delete: 15 min, doubling, at most a day. */
function backoffSeconds(tries: number): number {
  return backoff(tries - 1, { base: 900, cap: 24 * 3600 });
}

/** What one cleanup of one volume did. */
export type CleanupOutcome = 'deleted' | 'already-gone' | 'refused' | 'retry' | 'exhausted' | 'postponed' | 'busy' | 'not-deletable';

/** Who cleans up: a sweep run, or an operator's request. */
interface Cleaner {
  kind: 'sweep' | 'operator';
  /** The run id, or the operator's identity. */
  id: string;
}

/** The outcome of one cleanup, with the item as it was taken and why. */
interface CleanupResult {
  outcome: CleanupOutcome;
  item: RetainedVolume | null;
  detail: string;
}

/** Either proof of ownership (and the machine to destroy first, if any), or why not. */
type Ownership = { gone: true } | { gone: false; owned: true; attachedMachineId: string | null } | { gone: false; owned: false; why: string };

/**
 * Prove again that the volume is the item's instance's, right before deleting it: the provider's
 * volume carries the recorded name and instance (and owner, where kept); its instance (when it still
 * exists) has that owner and does not use it; an attached machine carries the instance's tags and
 * is not the instance's own machine.
 */
async function proveOwnership(deps: Deps, item: RetainedVolume, instance: InstanceItem | null): Promise<Ownership> {
  let provider;
  try {
    provider = deps.providers.get(item.provider);
  } catch (error) {
    return { gone: false, owned: false, why: `its provider ${item.provider} is not configured (${messageOf(error)})` };
  }
  const volume = await provider.getVolume(item.volumeId);
  if (!volume || volume.state === 'destroyed') return { gone: true };
  const problems: string[] = [];
  if (volume.name !== item.volumeName) problems.push(`the volume is named ${volume.name}, not ${item.volumeName}`);
  if (volume.tags.instance !== item.instanceId) problems.push(`the volume belongs to instance ${volume.tags.instance || 'none'}, not ${item.instanceId}`);
  if (volume.tags.owner !== undefined && volume.tags.owner !== item.owner) problems.push(`the volume is tagged for owner ${volume.tags.owner}, not ${item.owner}`);
  const live = instance && instance.status !== 'destroyed' && instance.provider === item.provider;
  if (instance && instance.owner !== item.owner) problems.push(`instance ${item.instanceId} belongs to ${instance.owner}, not ${item.owner}`);
  if (live && instance.volumeId === item.volumeId) problems.push(`instance ${item.instanceId} uses it as its volume`);
  let attachedMachineId: string | null = null;
  if (volume.attachedMachineId) {
    const machine = await provider.getMachine(volume.attachedMachineId);
    if (machine && machine.state !== 'destroyed') {
      if (machine.tags.instance !== item.instanceId || machine.tags.owner !== item.owner) {
        problems.push(`the attached machine ${machine.id} carries the tags of ${machine.tags.owner || 'no owner'}/${machine.tags.instance || 'no instance'}, not ${item.owner}/${item.instanceId}`);
      } else if (live && instance.machineId === machine.id) {
        problems.push(`the attached machine ${machine.id} is instance ${item.instanceId}'s own machine`);
      } else {
        attachedMachineId = machine.id;
      }
    }
  }
  return problems.length > 0 ? { gone: false, owned: false, why: problems.join('; ') } : { gone: false, owned: true, attachedMachineId };
}

/** Event subject of a retained volume. */
function subjectOf(item: RetainedVolume) {
  return { instanceId: item.instanceId, owner: item.owner, provider: item.provider };
}

/**
 * Clean up one retained volume under its per-item lease: postponed while its instance is held by an
 * operation; refused (never touched) when ownership is not proven; else the attached machine is
 * destroyed, the volume deleted and the item marked `deleted`. A failed delete is counted, and after
 * the cap the volume is left for an operator.
 */
async function cleanUpRetainedVolume(deps: Deps, volumeId: string, cleaner: Cleaner): Promise<CleanupResult> {
  const holder = `${cleaner.kind}:${cleaner.id}:${randomUUID()}`;
  const taken = await beginVolumeCleanup(deps, volumeId, holder);
  if (!taken) {
    const current = await readRetainedVolume(deps, volumeId);
    if (!current) return { outcome: 'not-deletable', item: null, detail: 'no such retained volume' };
    if (current.state === 'deleted') return { outcome: 'not-deletable', item: current, detail: `already deleted at ${current.deletedAt ?? '?'}` };
    return { outcome: 'busy', item: current, detail: `another cleanup holds it (${current.cleanupHolder ?? '?'})` };
  }
  const by = `${cleaner.kind}:${cleaner.id}`;
  const instance = await readInstance(deps, taken.instanceId);
  if (instance?.claim) {
    // A recovery or switch in flight may still use it; its claim's own timeout is a fair time to look again.
    const operation = instance.operation ?? 'recover';
    if (cleaner.kind === 'sweep' && taken.state === 'retained') await postponeVolumeCleanup(deps, volumeId, holder, after(deps.now(), Math.max(300, deps.settings.claimTimeoutSeconds[operation])));
    else await releaseVolumeCleanup(deps, volumeId, holder);
    return { outcome: 'postponed', item: taken, detail: `instance ${taken.instanceId} is held by ${instance.claim}` };
  }
  let failure: string;
  try {
    const ownership = await proveOwnership(deps, taken, instance);
    if (ownership.gone) {
      await markVolumeDeleted(deps, volumeId, holder, by);
      await emitLifecycleEvent(deps, 'volume.deleted', subjectOf(taken), { volumeId, reason: 'it was already gone at the provider', by, retainUntil: taken.retainUntil });
      return { outcome: 'already-gone', item: taken, detail: 'the provider no longer has it' };
    }
    if (!ownership.owned) {
      // Never delete what we cannot prove we own; an operator looks (alarm).
      if (taken.state === 'retained') await refuseVolumeCleanup(deps, volumeId, holder, ownership.why);
      else await releaseVolumeCleanup(deps, volumeId, holder, { code: 'OwnershipUnverified', message: ownership.why });
      deps.metrics.count('VolumeOwnershipUnverified');
      deps.logger.error('retained volume not deleted: ownership not proven', { volumeId, instanceId: taken.instanceId, owner: taken.owner, why: ownership.why });
      return { outcome: 'refused', item: taken, detail: ownership.why };
    }
    const provider = deps.providers.get(taken.provider);
    if (ownership.attachedMachineId) await provider.destroyMachine(ownership.attachedMachineId);
    await provider.deleteVolume(volumeId);
    await markVolumeDeleted(deps, volumeId, holder, by);
    await emitLifecycleEvent(deps, 'volume.deleted', subjectOf(taken), {
      volumeId,
      reason: cleaner.kind === 'sweep' ? 'its retention ended' : 'an operator deleted it early',
      by,
      retainUntil: taken.retainUntil,
      destroyedMachineId: ownership.attachedMachineId,
    });
    return { outcome: 'deleted', item: taken, detail: ownership.attachedMachineId ? `destroyed attached machine ${ownership.attachedMachineId}, deleted the volume` : 'deleted the volume' };
  } catch (error) {
    failure = messageOf(error);
  }
  const tries = taken.tries + 1;
  const lastError = { code: 'DeleteFailed', message: `Delete try ${tries}: ${failure}` };
  if (taken.state !== 'retained') {
    await releaseVolumeCleanup(deps, volumeId, holder, lastError);
    return { outcome: 'retry', item: taken, detail: failure };
  }
  if (tries >= deps.settings.volumeCleanupMaxTries) {
    await exhaustVolumeCleanup(deps, volumeId, holder, tries, lastError);
    deps.metrics.count('VolumeCleanupExhausted');
    deps.logger.error('volume cleanup exhausted: left for an operator', { volumeId, instanceId: taken.instanceId, owner: taken.owner, tries, failure });
    return { outcome: 'exhausted', item: taken, detail: `${tries} tries: ${failure}` };
  }
  await recordVolumeCleanupTry(deps, volumeId, holder, tries, lastError, after(deps.now(), backoffSeconds(tries)));
  return { outcome: 'retry', item: taken, detail: `try ${tries}: ${failure}` };
}

/** Run the volume-cleanup sweep once: under its lease, every retained volume due on the volumes lane. */
export async function runVolumeCleanup(deps: Deps, options: { alsoWrite?: TransactItem[] } = {}): Promise<SweepReport> {
  const runId = randomUUID();
  const startedAt = deps.now();
  const report = newSweepReport(VOLUME_CLEANUP, runId, startedAt);
  // The same short, heartbeat-renewed lease as the reconcile sweep's: a dead run blocks nobody for long.
  const holder = holderFor(deps, runId);
  const timing = leaseTiming(deps.settings[VOLUME_CLEANUP_PERIOD]);
  const lease = await acquireLease(deps, VOLUME_CLEANUP, holder, timing.seconds, { alsoWrite: options.alsoWrite });
  if (!lease.taken) {
    report.heldBy = lease.heldBy.holder ?? null;
    deps.logger.info('volume-cleanup sweep: lease held by another run', { runId, heldBy: report.heldBy });
    deps.metrics.count('SweepLeaseHeld', { sweep: VOLUME_CLEANUP });
    report.finishedAt = deps.now().toISOString();
    return report;
  }
  report.ran = true;
  const heartbeat = startHeartbeat(deps, VOLUME_CLEANUP, holder, timing);
  try {
    const due = await dueItems(deps, startedAt, BATCH_PER_SHARD, VOLUME_CLEANUP_LANE);
    report.due = due.items.length;
    report.itemsRead = due.itemsRead;
    const oldest = due.items[0];
    report.oldestDueAgeSeconds = oldest ? Math.max(0, (startedAt.getTime() - Date.parse(oldest.attentionAt)) / 1000) : null;
    await mapWithConcurrency(due.items, CONCURRENCY, async (item) => {
      const volumeId = String(item.volumeId);
      try {
        const result = await cleanUpRetainedVolume(deps, volumeId, { kind: 'sweep', id: runId });
        report.actions.push({ target: `volume:${volumeId}`, action: result.outcome, detail: result.detail });
      } catch (error) {
        report.errors.push({ target: `volume:${volumeId}`, error: messageOf(error) });
      }
    });
  } catch (error) {
    report.errors.push({ target: 'sweep', error: messageOf(error) });
  } finally {
    heartbeat.stop();
    await releaseLease(deps, VOLUME_CLEANUP, holder, {}).catch(() => undefined);
  }
  report.finishedAt = deps.now().toISOString();
  const dimensions = { sweep: VOLUME_CLEANUP };
  deps.metrics.duration('SweepDuration', Date.parse(report.finishedAt) - Date.parse(report.startedAt), dimensions);
  deps.metrics.gauge('DueItems', report.due, dimensions);
  deps.metrics.gauge('OldestDueAgeSeconds', report.oldestDueAgeSeconds ?? 0, dimensions);
  deps.metrics.gauge('SweepErrors', report.errors.length, dimensions);
  deps.logger.info('volume-cleanup sweep ran', { runId, due: report.due, actions: report.actions.map((a) => `${a.target}: ${a.action}`), errors: report.errors.length });
  return report;
}

/** The query of `DELETE /v1/admin/volumes/{volumeId}`: why (audited). */
export const deleteVolumeQuerySchema = z.strictObject({ reason: z.string().trim().min(3).max(500) });
export type DeleteVolumeQuery = z.infer<typeof deleteVolumeQuerySchema>;

/** What an early delete answers: the volume's item as it is now, and the audit record (null when it was already deleted). */
export const volumeDeletedSchema = z.object({ volume: retainedVolumeSchema, audit: auditRecordSchema.nullable() }).meta({ id: 'VolumeDeleted' });
export type VolumeDeleted = z.infer<typeof volumeDeletedSchema>;

/**
 * An operator deletes a retained volume before its date (`retained`, or parked for an operator):
 * the same cleanup as the sweep's, ownership proven the same way, audited under the owner. 409 while
 * an operation holds its instance or another cleanup holds the volume, or when ownership is not proven.
 */
export async function deleteRetainedVolumeByOperator(deps: Deps, volumeId: string, actor: string, query: DeleteVolumeQuery): Promise<VolumeDeleted> {
  const before = await readRetainedVolume(deps, volumeId);
  if (!before) throw new VolumeNotFoundError(volumeId);
  if (before.state === 'deleted') return { volume: before, audit: null };
  const result = await cleanUpRetainedVolume(deps, volumeId, { kind: 'operator', id: actor });
  switch (result.outcome) {
    case 'deleted':
    case 'already-gone': {
      const audit = auditRecord(deps, {
        owner: before.owner,
        action: 'volume.delete',
        actor,
        reason: query.reason,
        before: { volumeId, instanceId: before.instanceId, provider: before.provider, state: before.state, retainUntil: before.retainUntil, outcome: result.detail },
      });
      await putAudit(deps, audit);
      deps.logger.info('audit: retained volume deleted by operator', { audit });
      return { volume: (await readRetainedVolume(deps, volumeId)) ?? before, audit };
    }
    case 'not-deletable':
      if (result.item?.state === 'deleted') return { volume: result.item, audit: null };
      throw new VolumeNotFoundError(volumeId);
    case 'postponed':
    case 'busy':
      throw new VolumeInUseError(volumeId, result.detail);
    case 'refused':
      throw new VolumeOwnershipUnverifiedError(volumeId, result.detail);
    case 'retry':
    case 'exhausted':
      throw new VolumeDeleteFailedError(volumeId, result.detail);
  }
}

/** The query of `GET /v1/admin/volumes`. */
export const listVolumesQuerySchema = z.strictObject({
  state: z.enum(RETAINED_VOLUME_STATES.filter((state) => state !== 'deleted') as ['retained', 'ownership_unverified', 'cleanup_exhausted']).default('retained'),
  limit: pageLimit(50, 200),
  cursor: z.string().max(8192).optional(),
});
export type ListVolumesQuery = z.infer<typeof listVolumesQuerySchema>;

/** `GET /v1/admin/volumes`: kept volumes in one state, soonest `retainUntil` first. */
export const volumesPageSchema = z
  .object({ state: z.string(), items: z.array(retainedVolumeSchema), nextCursor: z.string().nullable().meta({ description: 'More follow: pass it as ?cursor=; null on the last page' }) })
  .meta({ id: 'RetainedVolumes' });
export type VolumesPage = z.infer<typeof volumesPageSchema>;

/** Kept volumes in one state, soonest due first, a page at a time (from the volumes lane: never a Scan). */
export async function listRetainedVolumes(deps: Deps, query: ListVolumesQuery): Promise<VolumesPage> {
  const page = await pageRetainedVolumes(deps, { state: query.state, limit: query.limit, cursor: query.cursor });
  return { state: query.state, ...page };
}

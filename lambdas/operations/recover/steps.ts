/**
 * Unexpected-stop recovery: a running instance whose machine died without being asked is moved onto
 * a replacement — a volume forked from its own and a new machine on it — in one shot.
 *
 * `running → recovering` (the claim) → stop the old machine if it runs → persist the pending
 * replacement volume's name, then fork it, then record its id → new machine on it (the old machine
 * spared) → healthy → cut over in one fenced transaction (the instance points at the new machine and
 * volume; the old volume's retention recorded with it when it has snapshots) → old machine destroyed
 * and, without snapshots, old volume deleted (ownership verified) → claim released as `running`.
 *
 * Failure before the cut-over destroys what the recovery made (never the old volume or machine) and
 * leaves `stopped` (or `running`, when the old machine still answers) with `lastRecoveryError`;
 * failure after it rolls forward. Either outcome sets `recoveryCooldownUntil`, so a machine that dies
 * again at once is shown stopped instead of recovered in a loop.
 *
 * This module holds the workflow's steps and the sweep's settle rule; what starts a recovery (the
 * sweep's drift check, an operator) is in `recovery-requests.ts`, so step bundles stay small.
 */
import { TransactionConditionFailedError } from '../../store/errors';
import { transactWrite } from '../../store/table';
import { machineNameOf, type ResourceTags } from '../../providers/compute-provider';
import type { Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import { OwnershipMismatchError, ProviderResourceNotFoundError } from '../../shared/errors/provider';
import { ClaimLostError, InvalidStepInputError } from '../../shared/errors/workflow';
import { recordOutcome } from '../../shared/telemetry';
import { after } from '../../domain/attention';
import { releaseClaim } from '../../domain/claims';
import { alreadyFinishedBy, fencedInstanceUpdate, fencedUpdateItem, requireClaim, type InstanceUpdate } from '../../domain/fence';
import type { InstanceItem, PendingRecovery, RecoveryTrigger } from '../../domain/instance';
import { readInstance } from '../../views/instance-queries';
import { emitLifecycleEvent } from '../../domain/lifecycle-events';
import { MOUNT_PATH } from '../machine/mount-repair';
import { assertOwned, createOrAdoptMachine, createOrAdoptVolume, destroyTaggedResources } from '../../domain/provider-resources';
import { probeMachine } from '../../domain/machine-health';
import { keptVolumeIds, keptVolumesOf, retainVolumeItem } from '../../domain/retained-volume';
import type { ProviderStepInput } from '../step-schemas';

/** Who an event about an instance concerns. */
export function subjectOf(instance: Pick<InstanceItem, 'instanceId' | 'owner' | 'provider'>) {
  return { instanceId: instance.instanceId, owner: instance.owner, provider: instance.provider };
}

/** Whether an automatic recovery of this instance must wait (its last recovery was too recent). */
export function inRecoveryCooldown(deps: Deps, instance: InstanceItem): boolean {
  return instance.recoveryCooldownUntil !== undefined && Date.parse(instance.recoveryCooldownUntil) > deps.now().getTime();
}

/** Tags of what a recovery makes: the instance's, marked with the claim's version (`recover-v<N>`), so an operator can tell them apart. */
function recoveryTags(instance: InstanceItem): ResourceTags {
  return { owner: instance.owner, instance: instance.instanceId, reservation: `recover-v${instance.version}` };
}

/** The instance's pending recovery, or a wiring error (a step that needs it ran before the one that records it). */
function pendingOf(instance: InstanceItem, step: string): PendingRecovery {
  if (!instance.recovery) throw new InvalidStepInputError(`${step}: instance ${instance.instanceId} has no recovery in flight`);
  return instance.recovery;
}

// ---- the workflow's steps -------------------------------------------------------------------

/**
 * Fork the replacement volume (ForkVolume). The pending name (and the tagged volumes that already
 * exist, which are never adopted) is written on the instance before anything is created; a retry
 * reuses the volume whose id is recorded, or adopts the one an ambiguous create made.
 */
export async function forkRecoveryVolume(deps: Deps, input: ProviderStepInput & { trigger: RecoveryTrigger; reason: string }): Promise<{ volumeId: string; adopted: boolean }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const provider = deps.providers.get(input.provider);
  let pending = instance.recovery;
  // A pending record without a volume id: an earlier attempt may have forked one that a lagging list hides.
  const retried = pending !== undefined;
  if (pending?.volumeId) {
    const recorded = await provider.getVolume(pending.volumeId);
    if (recorded && recorded.state !== 'destroyed') return { volumeId: recorded.id, adopted: true };
  }
  if (!pending) {
    if (!instance.volumeId) throw new ProviderResourceNotFoundError(`Instance ${instance.instanceId} has no volume to recover from.`);
    const tagged = await provider.findVolumes({ owner: instance.owner, instance: instance.instanceId });
    const source = tagged.find((volume) => volume.id === instance.volumeId) ?? (await provider.getVolume(instance.volumeId));
    if (!source || source.state === 'destroyed') throw new ProviderResourceNotFoundError(`Volume ${instance.volumeId} of ${instance.instanceId} no longer exists; there is nothing to recover from.`);
    assertOwned(source, instance.owner, instance.instanceId);
    const kept = await keptVolumeIds(deps, tagged.map((volume) => volume.id));
    pending = {
      trigger: input.trigger,
      reason: input.reason,
      sourceMachineId: instance.machineId ?? null,
      sourceVolumeId: source.id,
      sourceVolumeName: source.name,
      // A fork carries its instance's volume name: Fly tells a volume's instance by its name alone.
      volumeName: source.name,
      excludedVolumeIds: tagged.filter((volume) => volume.id !== source.id && !kept.has(volume.id)).map((volume) => volume.id),
      startedAt: deps.now().toISOString(),
    };
    // Persisted before the create: whatever happens next, the sweep and a retry know this volume is the recovery's.
    await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { recovery: pending } });
  }
  const excluded = new Set(pending.excludedVolumeIds);
  const { volume, adopted } = await createOrAdoptVolume(
    provider,
    { name: pending.volumeName, region: instance.region, sizeGb: instance.volumeSizeGb, tags: recoveryTags(instance), machineSize: instance.size },
    { origin: { kind: 'fork', sourceVolumeId: pending.sourceVolumeId }, earlierAttemptMayHaveCreated: retried, kept: async (ids) => new Set([...(await keptVolumeIds(deps, ids)), ...ids.filter((id) => excluded.has(id))]) },
  );
  await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { recovery: { ...pending, volumeId: volume.id } } });
  deps.logger.info('replacement volume ready', { volumeId: volume.id, sourceVolumeId: pending.sourceVolumeId, adopted });
  return { volumeId: volume.id, adopted };
}

/** Create (or adopt) the replacement machine on the replacement volume (CreateMachine, purpose recovery); the old machine is spared. */
export async function createRecoveryMachine(deps: Deps, input: ProviderStepInput & { volumeId: string }): Promise<{ machineId: string; adopted: boolean }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const pending = pendingOf(instance, 'CreateMachine');
  if (pending.volumeId !== input.volumeId) throw new InvalidStepInputError(`CreateMachine: volume ${input.volumeId} is not the recovery's (${pending.volumeId ?? 'none yet'})`);
  const { machine, adopted } = await createOrAdoptMachine(
    deps.providers.get(input.provider),
    {
      // The machine it replaces keeps its name until the cut-over: the replacement needs its own.
      name: machineNameOf(instance.instanceId, `recover-v${instance.version}`),
      region: instance.region,
      size: instance.size,
      image: instance.image,
      volumeId: input.volumeId,
      mountPath: MOUNT_PATH,
      tags: recoveryTags(instance),
      env: { SLIPWAY_INSTANCE_ID: instance.instanceId },
    },
    { spareMachines: pending.sourceMachineId ? [pending.sourceMachineId] : [] },
  );
  await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { recovery: { ...pending, machineId: machine.id } } });
  deps.logger.info('replacement machine ready', { machineId: machine.id, volumeId: input.volumeId, adopted });
  return { machineId: machine.id, adopted };
}

/** What the cut-over decided. */
export interface CutOver {
  machineId: string;
  volumeId: string;
  retained: boolean;
  snapshotCount: number;
}

/**
 * The cut-over (CutOverRecovery), one fenced transaction: the instance now points at the new
 * machine and volume (`lastRecoveredAt`), and — when the old volume has snapshots — the old volume
 * is retained until now + the retention period, recorded in the same transaction so it is never
 * unaccounted for. The claim stays: the old resources are retired under it.
 */
export async function cutOverRecovery(deps: Deps, input: ProviderStepInput & { endpoint: string | null }): Promise<CutOver> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const pending = pendingOf(instance, 'CutOverRecovery');
  if (!pending.volumeId || !pending.machineId) throw new InvalidStepInputError(`CutOverRecovery: the recovery of ${instance.instanceId} has no replacement yet`);
  if (pending.cutOverAt) return { machineId: pending.machineId, volumeId: pending.volumeId, retained: pending.retained ?? false, snapshotCount: pending.snapshotCount ?? 0 };
  const provider = deps.providers.get(input.provider);
  const snapshots = await provider.listSnapshots(pending.sourceVolumeId).catch((error: unknown) => {
    if (error instanceof ProviderResourceNotFoundError) return [];
    throw error;
  });
  const retained = snapshots.length > 0;
  const now = deps.now();
  const update: InstanceUpdate = {
    set: {
      machineId: pending.machineId,
      volumeId: pending.volumeId,
      lastRecoveredAt: now.toISOString(),
      recovery: { ...pending, cutOverAt: now.toISOString(), retained, snapshotCount: snapshots.length },
      ...(input.endpoint ? { endpoint: input.endpoint } : {}),
    },
    remove: input.endpoint ? [] : ['endpoint'],
  };
  const items = [fencedUpdateItem(deps, input.instanceId, input.claim, update)];
  const retainUntil = after(now, deps.settings.volumeRetentionSeconds);
  if (retained) {
    items.push(
      retainVolumeItem(deps, {
        volumeId: pending.sourceVolumeId,
        volumeName: pending.sourceVolumeName,
        provider: instance.provider,
        region: instance.region,
        instanceId: instance.instanceId,
        owner: instance.owner,
        reason: 'recovery',
        snapshotCount: snapshots.length,
        retainUntil,
      }),
    );
  }
  try {
    await transactWrite(deps, items);
  } catch (error) {
    if (!(error instanceof TransactionConditionFailedError)) throw error;
    // A replay after the transaction committed finds the cut-over done; anything else lost the claim.
    const current = await readInstance(deps, input.instanceId);
    if (current?.claim === input.claim && current.recovery?.cutOverAt) return { machineId: pending.machineId, volumeId: pending.volumeId, retained: current.recovery.retained ?? false, snapshotCount: current.recovery.snapshotCount ?? 0 };
    throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
  }
  if (retained) {
    await emitLifecycleEvent(deps, 'volume.retained', subjectOf(instance), {
      volumeId: pending.sourceVolumeId,
      reason: 'recovery',
      snapshotCount: snapshots.length,
      retainUntil: retainUntil.toISOString(),
      executionName: input.claim,
    });
  }
  deps.logger.info('recovery cut over', { machineId: pending.machineId, volumeId: pending.volumeId, oldVolumeId: pending.sourceVolumeId, retained });
  return { machineId: pending.machineId, volumeId: pending.volumeId, retained, snapshotCount: snapshots.length };
}

/** What retiring the replaced resources did. */
export interface Retirement {
  destroyedMachine: string | null;
  deletedVolume: string | null;
  retainedVolume: string | null;
}

/** Destroy the replaced machine and, when it was not retained, delete the replaced volume — each only after its tags prove it is this instance's. */
async function retire(deps: Deps, instance: InstanceItem, pending: PendingRecovery, claim: string): Promise<Retirement> {
  const provider = deps.providers.get(instance.provider);
  let destroyedMachine: string | null = null;
  let deletedVolume: string | null = null;
  if (pending.sourceMachineId && pending.sourceMachineId !== pending.machineId) {
    const machine = await provider.getMachine(pending.sourceMachineId);
    if (machine && machine.state !== 'destroyed') {
      assertOwned(machine, instance.owner, instance.instanceId);
      await provider.destroyMachine(machine.id);
      destroyedMachine = machine.id;
    }
  }
  if (!pending.retained) {
    const volume = await provider.getVolume(pending.sourceVolumeId);
    if (volume && volume.state !== 'destroyed') {
      assertOwned(volume, instance.owner, instance.instanceId);
      if (volume.name !== pending.sourceVolumeName) {
        throw new OwnershipMismatchError(`Volume ${volume.id} is named ${volume.name}, not ${pending.sourceVolumeName}; refusing to delete it.`, { context: { volumeId: volume.id } });
      }
      await provider.deleteVolume(volume.id);
      deletedVolume = volume.id;
      await emitLifecycleEvent(deps, 'volume.deleted', subjectOf(instance), { volumeId: volume.id, reason: 'replaced by a recovery; it had no snapshots', executionName: claim });
    }
  }
  return { destroyedMachine, deletedVolume, retainedVolume: pending.retained ? pending.sourceVolumeId : null };
}

/** Retire the replaced resources, under the claim (RetireOldResources). */
export async function retireReplacedResources(deps: Deps, input: ProviderStepInput): Promise<Retirement> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const pending = pendingOf(instance, 'RetireOldResources');
  if (!pending.cutOverAt) throw new InvalidStepInputError(`RetireOldResources: the recovery of ${instance.instanceId} has not cut over`);
  return retire(deps, instance, pending, input.claim);
}

/** The outcome every finished recovery shares: the cooldown starts, the pending record goes. */
function cooldownFrom(deps: Deps): string {
  return after(deps.now(), deps.settings.recoveryCooldownSeconds).toISOString();
}

/**
 * Release the claim of a recovery that cut over: `running` when its machine runs, else `stopped`
 * with why; lifecycle event and outcome metric. Shared by FinishRecovery and every roll-forward.
 */
async function completeAfterCutOver(
  deps: Deps,
  instance: InstanceItem,
  claim: string,
  options: { machineRuns: boolean; problem?: string; executionStartedAt?: string },
): Promise<{ status: 'running' | 'stopped' }> {
  const pending = instance.recovery;
  const now = deps.now().toISOString();
  const status = options.machineRuns ? 'running' : 'stopped';
  const outcome: InstanceUpdate = options.machineRuns
    ? { set: { status, recoveryCooldownUntil: cooldownFrom(deps) }, remove: ['recovery', 'lastRecoveryError'] }
    : {
        set: { status, recoveryCooldownUntil: cooldownFrom(deps), lastRecoveryError: { code: 'RecoveryIncomplete', message: options.problem ?? 'The replacement machine does not run.', at: now } },
        remove: ['recovery', 'endpoint'],
      };
  const released = await releaseClaim(deps, instance.instanceId, claim, outcome);
  if (released === null) return { status }; // a replay: this very step already finished it
  if (options.problem) deps.logger.warn('recovery finished with a problem', { problem: options.problem });
  const detail = {
    executionName: claim,
    machineId: instance.machineId ?? null,
    volumeId: instance.volumeId ?? null,
    replacedMachineId: pending?.sourceMachineId ?? null,
    replacedVolumeId: pending?.sourceVolumeId ?? null,
    retainedVolumeId: pending?.retained ? pending.sourceVolumeId : null,
    ...(options.problem ? { problem: options.problem } : {}),
  };
  if (options.machineRuns) {
    await emitLifecycleEvent(deps, 'instance.recovery_succeeded', subjectOf(instance), detail);
    recordOutcome(deps.metrics, 'Succeeded', 'recover', options.executionStartedAt, deps.now());
  } else {
    await emitLifecycleEvent(deps, 'instance.recovery_failed', subjectOf(instance), { ...detail, error: outcome.set?.lastRecoveryError });
    recordOutcome(deps.metrics, 'Failed', 'recover', options.executionStartedAt, deps.now());
  }
  return { status };
}

/** A caught failure as Step Functions hands it over. */
type CaughtFailure = { Error?: string; Cause?: string };

/**
 * Finish a recovery (FinishRecovery): release the claim as `running`. A retirement that failed for
 * good (`retired` is then the caught error) is logged; its leftovers carry the instance's tags and
 * are no longer recorded anywhere, so the reconcile sweep's orphan collection removes them.
 */
export async function finishRecovery(deps: Deps, input: ProviderStepInput & { retired: Record<string, unknown>; executionStartedAt?: string }): Promise<{ status: string }> {
  let instance: InstanceItem;
  try {
    instance = await requireClaim(deps, input.instanceId, input.claim);
  } catch (error) {
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return { status: 'running' };
    throw error;
  }
  const failure = input.retired as CaughtFailure;
  const problem = typeof failure.Error === 'string' ? `retiring the replaced machine and volume failed (${failure.Error}); the orphan collection removes what is left` : undefined;
  if (problem) {
    deps.metrics.count('RecoveryRetireFailed');
    deps.logger.warn('replaced resources left for the orphan collection', { cause: failure.Cause?.slice(0, 500) });
  }
  return completeAfterCutOver(deps, instance, input.claim, { machineRuns: true, executionStartedAt: input.executionStartedAt, problem });
}

/** Roll a recovery that cut over forward: retire what it replaced (best effort), then finish by what the new machine does now. */
async function rollForward(deps: Deps, instance: InstanceItem, claim: string, why: string, executionStartedAt?: string): Promise<{ status: 'running' | 'stopped' }> {
  const pending = instance.recovery!;
  let problem: string | undefined;
  try {
    await retire(deps, instance, pending, claim);
  } catch (error) {
    problem = `retiring the replaced resources failed (${messageOf(error)}); the orphan collection removes what is left`;
  }
  const machine = instance.machineId ? await deps.providers.get(instance.provider).getMachine(instance.machineId).catch(() => null) : null;
  const runs = machine?.state === 'started' || machine?.state === 'starting';
  if (runs && machine.endpoint && machine.endpoint !== instance.endpoint) await fencedInstanceUpdate(deps, instance.instanceId, claim, { set: { endpoint: machine.endpoint } });
  const notRunning = runs ? undefined : `${why}; the replacement machine ${instance.machineId ?? ''} is ${machine?.state ?? 'gone'}`;
  return completeAfterCutOver(deps, instance, claim, { machineRuns: runs, executionStartedAt, problem: notRunning ?? problem });
}

/**
 * A recovery failed (FailRecovery, the Catch target of every step; also the sweep's rule for a lost
 * one). Before the cut-over: destroy everything the recovery made — found by the instance's tags,
 * sparing the machine and volume it meant to replace, retained volumes and volumes that existed
 * before it — and release the claim with the old machine's real state (`stopped`, or `running` when
 * it still answers), `lastRecoveryError` and the cooldown. After the cut-over: roll forward.
 */
export async function failRecovery(
  deps: Deps,
  input: ProviderStepInput & { error: { message: string; code: string }; executionStartedAt?: string },
): Promise<{ status: string; cleanup: string }> {
  let instance: InstanceItem;
  try {
    instance = await requireClaim(deps, input.instanceId, input.claim);
  } catch (error) {
    const current = await readInstance(deps, input.instanceId);
    if (alreadyFinishedBy(current, input.claim)) return { status: current!.status, cleanup: 'already recorded' };
    throw error;
  }
  if (instance.recovery?.cutOverAt) {
    const { status } = await rollForward(deps, instance, input.claim, `the recovery failed after its cut-over (${input.error.message})`, input.executionStartedAt);
    return { status, cleanup: 'rolled forward' };
  }
  const provider = deps.providers.get(instance.provider);
  const pending = instance.recovery;
  let cleanup = 'nothing was made';
  if (pending) {
    try {
      const report = await destroyTaggedResources(provider, instance.owner, instance.instanceId, {
        kept: keptVolumesOf(deps),
        spareVolumes: [pending.sourceVolumeId, ...pending.excludedVolumeIds],
        spareMachines: pending.sourceMachineId ? [pending.sourceMachineId] : [],
        knownMachines: [pending.machineId],
        knownVolumes: [pending.volumeId],
        recentCreates: true,
      });
      cleanup = report.verified
        ? `destroyed machines [${report.destroyedMachines.join(', ')}] and volumes [${report.deletedVolumes.join(', ')}]`
        : `left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}] for the orphan collection`;
    } catch (error) {
      cleanup = `cleanup failed (${messageOf(error)}); the orphan collection removes what is left`;
    }
  }
  // The real state of the machine it meant to replace: a forced recovery's StopMachine may have failed.
  const { machine: old, healthy: runs } = await probeMachine(provider, instance.machineId);
  if (old && old.state === 'starting') await provider.stopMachine(old.id).catch(() => undefined);
  const why = pending?.reason ? ` (after: ${pending.reason})` : '';
  const error = { code: input.error.code, message: `Recovery failed${why}: ${input.error.message}. Cleanup: ${cleanup}. The old volume ${instance.volumeId ?? ''} is untouched.`, at: deps.now().toISOString() };
  const outcome: InstanceUpdate = runs
    ? { set: { status: 'running', lastRecoveryError: error, recoveryCooldownUntil: cooldownFrom(deps), ...(old?.endpoint ? { endpoint: old.endpoint } : {}) }, remove: ['recovery'] }
    : { set: { status: 'stopped', lastRecoveryError: error, recoveryCooldownUntil: cooldownFrom(deps) }, remove: ['recovery', 'endpoint'] };
  const released = await releaseClaim(deps, instance.instanceId, input.claim, outcome);
  if (released !== null) {
    await emitLifecycleEvent(deps, 'instance.recovery_failed', subjectOf(instance), { executionName: input.claim, error, cleanup, status: outcome.set?.status });
    recordOutcome(deps.metrics, 'Failed', 'recover', input.executionStartedAt, deps.now());
    deps.logger.warn('recovery failed', { error, cleanup });
  }
  return { status: String(outcome.set?.status), cleanup };
}

/**
 * The reconcile sweep's rule for a recovery whose execution closed without releasing its claim, or
 * was lost: roll forward when it had cut over, else fail it (destroy what it made, old volume kept).
 */
export async function settleLostRecovery(deps: Deps, instance: InstanceItem, error: { code: string; message: string }): Promise<{ status: string; detail: string }> {
  const { status, cleanup } = await failRecovery(deps, { instanceId: instance.instanceId, owner: instance.owner, claim: instance.claim!, provider: instance.provider, error });
  return { status, detail: `${cleanup} → ${status}` };
}

/**
 * The steps of the `switch` workflow that are its own (stop, volume, machine and wait are the
 * provision's and lifecycle's steps): the provider write, retiring the old machine, the commit, the
 * rollback and the failure record. Every one acts only while the switch's claim holds the instance
 * and may run twice. The reconcile sweep settles a lost switch with the same rollback.
 */
import { TransactionConditionFailedError } from '../../store/errors';
import { transactWrite } from '../../store/table';
import type { Deps } from '../../composition/deps';
import { ProviderResourceNotFoundError } from '../../shared/errors/provider';
import { ClaimLostError, CleanupUnverifiedError } from '../../shared/errors/workflow';
import { recordOutcome } from '../../shared/telemetry';
import { after } from '../../domain/attention';
import { releaseClaim } from '../../domain/claims';
import { alreadyFinishedBy, claimReleaseItem, fencedInstanceUpdate, requireClaim, type InstanceUpdate } from '../../domain/fence';
import type { ErrorRecord, InstanceItem, SwitchedFrom } from '../../domain/instance';
import { readInstance } from '../../views/instance-queries';
import { assertOwned, destroyTaggedResources, type CleanupReport } from '../../domain/provider-resources';
import { healthyEndpoint } from '../../domain/machine-health';
import { keptVolumesOf, retainVolumeItem } from '../../domain/retained-volume';
import type { FencedStepInput } from '../step-schemas';


/** The old volume as the commit retains it. */
export interface RetiredVolume {
  volumeId: string;
  volumeName: string;
  region: string;
  snapshotCount: number;
}

/** The claimed instance and where its switch came from (its provider write has happened). */
async function switchedInstance(deps: Deps, input: FencedStepInput): Promise<{ instance: InstanceItem; from: SwitchedFrom }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  if (!instance.switchingFrom) throw new ClaimLostError(`Instance ${input.instanceId} has no provider write of ${input.claim} to work from.`, { context: { ...input } });
  return { instance, from: instance.switchingFrom };
}

/**
 * The provider write, fenced by the claim: the instance now names the target provider, region and
 * size, and remembers in `switchingFrom` where it came from (what a rollback restores). Its machine
 * and volume ids are the old ones' until the provisioning steps record the new ones. A replay finds
 * it done and answers the same.
 */
export async function writeSwitchTarget(deps: Deps, input: FencedStepInput & { status: 'running' | 'stopped' }): Promise<{ volumeId: string | null; machineId: string | null }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  if (instance.switchingFrom) return { volumeId: instance.switchingFrom.volumeId ?? null, machineId: instance.switchingFrom.machineId ?? null };
  const target = instance.switchTarget;
  if (!target) throw new ClaimLostError(`Instance ${input.instanceId} records no switch target for ${input.claim}.`);
  const from: SwitchedFrom = {
    provider: instance.provider,
    region: instance.region,
    size: instance.size,
    ...(instance.machineId ? { machineId: instance.machineId } : {}),
    ...(instance.volumeId ? { volumeId: instance.volumeId } : {}),
    status: input.status,
  };
  await fencedInstanceUpdate(deps, input.instanceId, input.claim, {
    set: { provider: target.provider, region: target.region, size: target.size, switchingFrom: from },
    remove: ['machineId', 'volumeId', 'endpoint'],
  });
  deps.logger.info('switch: provider written', { from: from.provider, to: target.provider });
  return { volumeId: from.volumeId ?? null, machineId: from.machineId ?? null };
}

/**
 * The new machine runs (or is made, for a stopped instance): destroy the old machine on the old
 * provider, its ownership tags checked first. The old volume stays, for the commit to retain.
 */
export async function retireSwitchedFrom(deps: Deps, input: FencedStepInput): Promise<{ oldVolume: RetiredVolume | null; destroyedMachine: string | null }> {
  const { instance, from } = await switchedInstance(deps, input);
  const provider = deps.providers.get(from.provider);
  let destroyedMachine: string | null = null;
  const machine = from.machineId ? await provider.getMachine(from.machineId) : null;
  if (machine && machine.state !== 'destroyed') {
    assertOwned(machine, instance.owner, instance.instanceId);
    await provider.destroyMachine(machine.id);
    destroyedMachine = machine.id;
  }
  if (!from.volumeId) return { oldVolume: null, destroyedMachine };
  const volume = await provider.getVolume(from.volumeId);
  if (!volume || volume.state === 'destroyed') throw new ProviderResourceNotFoundError(`The volume ${from.volumeId} the switch moved away from is gone; refusing to commit without it.`);
  assertOwned(volume, instance.owner, instance.instanceId);
  const snapshots = await provider.listSnapshots(volume.id);
  return { oldVolume: { volumeId: volume.id, volumeName: volume.name, region: volume.region, snapshotCount: snapshots.length }, destroyedMachine };
}

/**
 * The commit, one transaction: the instance on its new provider (running with its new endpoint, or
 * stopped, as it was), the claim released — and the old volume recorded as retained for
 * `volumeRetentionSeconds` (like a recovery's), so it is never unaccounted for. A replay after it committed is a no-op.
 */
export async function commitSwitch(deps: Deps, input: FencedStepInput & { oldVolume: RetiredVolume | null; endpoint?: string | null }): Promise<{ status: string }> {
  // A replay of this very step after it committed: nothing to do.
  const current = await readInstance(deps, input.instanceId);
  if (alreadyFinishedBy(current, input.claim)) return { status: current!.status };
  const { instance, from } = await switchedInstance(deps, input);
  const now = deps.now();
  const outcome: InstanceUpdate =
    from.status === 'running' && input.endpoint
      ? { set: { status: 'running', endpoint: input.endpoint, lastSwitchedAt: now.toISOString() }, remove: ['switchingFrom', 'switchTarget', 'lastSwitchError'] }
      : { set: { status: from.status, lastSwitchedAt: now.toISOString() }, remove: ['switchingFrom', 'switchTarget', 'lastSwitchError', 'endpoint'] };
  const retained = input.oldVolume
    ? [
        retainVolumeItem(deps, {
          ...input.oldVolume,
          provider: from.provider,
          instanceId: instance.instanceId,
          owner: instance.owner,
          reason: 'switch',
          retainUntil: after(now, deps.settings.volumeRetentionSeconds),
        }),
      ]
    : [];
  try {
    await transactWrite(deps, [claimReleaseItem(deps, input.instanceId, input.claim, outcome), ...retained]);
  } catch (error) {
    if (!(error instanceof TransactionConditionFailedError)) throw error;
    if (alreadyFinishedBy(await readInstance(deps, input.instanceId), input.claim)) return { status: from.status };
    throw new ClaimLostError(`Instance ${input.instanceId} is no longer claimed by ${input.claim}.`, { cause: error });
  }
  recordOutcome(deps.metrics, 'Succeeded', 'switch', input.executionStartedAt, now);
  deps.logger.info('switch committed', { from: from.provider, to: instance.provider, retainedVolume: input.oldVolume?.volumeId ?? null });
  return { status: from.status };
}

/**
 * Undo a switch while its claim is still ours: destroy whatever carries the instance's tags on the
 * target (retained volumes spared), verify it is gone, and point the instance at its old provider,
 * machine and volume again. Before the provider write there is nothing to undo. Throws
 * CleanupUnverified when the target cannot be proven clean: the instance then stays claimed and
 * `switching`, for the reconcile sweep to try again — never silently half-switched.
 */
export async function rollbackSwitch(deps: Deps, input: FencedStepInput): Promise<{ restartOld: boolean; provider: string; cleanup: CleanupReport | null }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const from = instance.switchingFrom;
  // Before the provider write nothing reached the target; the old machine may have been stopped.
  if (!from) return { restartOld: instance.switchTarget?.fromStatus === 'running', provider: instance.provider, cleanup: null };
  const cleanup = await destroyTaggedResources(deps.providers.get(instance.provider), instance.owner, instance.instanceId, {
    kept: keptVolumesOf(deps),
    // Ids the target's creates recorded (not the old provider's, which the instance may still name).
    knownMachines: [instance.machineId !== from.machineId ? instance.machineId : null],
    knownVolumes: [instance.volumeId !== from.volumeId ? instance.volumeId : null],
    recentCreates: true,
  });
  if (!cleanup.verified) {
    throw new CleanupUnverifiedError(`Rolling back the switch of ${input.instanceId} left machines [${cleanup.remaining.machines.join(', ')}] and volumes [${cleanup.remaining.volumes.join(', ')}] on ${instance.provider}.`, {
      context: { ...cleanup },
    });
  }
  await fencedInstanceUpdate(deps, input.instanceId, input.claim, {
    set: { provider: from.provider, region: from.region, size: from.size, ...(from.machineId ? { machineId: from.machineId } : {}), ...(from.volumeId ? { volumeId: from.volumeId } : {}) },
    remove: ['switchingFrom', 'endpoint', ...(from.machineId ? [] : ['machineId']), ...(from.volumeId ? [] : ['volumeId'])],
  });
  deps.logger.warn('switch rolled back', { from: instance.provider, to: from.provider, destroyedMachines: cleanup.destroyedMachines, deletedVolumes: cleanup.deletedVolumes });
  return { restartOld: from.status === 'running', provider: from.provider, cleanup };
}

/**
 * After a rollback: release the claim showing the real state of the old machine (running and
 * healthy, or stopped) plus `lastSwitchError`, fenced by the claim. A replay after it ran is a no-op.
 */
export async function recordSwitchFailure(deps: Deps, input: FencedStepInput & { error: { message: string; code: string } }): Promise<{ status: string }> {
  const current = await readInstance(deps, input.instanceId);
  if (alreadyFinishedBy(current, input.claim)) return { status: current!.status };
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const lastSwitchError: ErrorRecord = { ...input.error, at: deps.now().toISOString() };
  // Not rolled back (`switchingFrom` still set): the machine it names is the target's, never the instance's yet.
  const endpoint = instance.switchingFrom || !instance.machineId ? null : await healthyEndpoint(deps.providers.get(instance.provider), instance.machineId);
  const outcome: InstanceUpdate = endpoint
    ? { set: { status: 'running', endpoint, lastSwitchError }, remove: ['switchTarget', 'switchingFrom', 'reconcileTries', 'cleanupExhaustedAt'] }
    : { set: { status: 'stopped', lastSwitchError }, remove: ['switchTarget', 'switchingFrom', 'endpoint', 'reconcileTries', 'cleanupExhaustedAt'] };
  await releaseClaim(deps, input.instanceId, input.claim, outcome);
  recordOutcome(deps.metrics, 'Failed', 'switch', input.executionStartedAt, deps.now());
  return { status: String(outcome.set?.status) };
}


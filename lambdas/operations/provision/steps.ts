/**
 * The provider work of a provision, step by step: create (or adopt) the volume, create (or adopt)
 * the machine on it, and compensate by destroying whatever carries the instance's tags. Each is
 * idempotent and checks the claim before its side effect, so a stale execution makes nothing.
 */
import { machineNameOf, volumeNameOf } from '../../providers/compute-provider';
import type { Deps } from '../../composition/deps';
import { keptVolumesOf } from '../../domain/retained-volume';
import { ProviderResourceNotFoundError } from '../../shared/errors/provider';
import { ClaimLostError, CleanupUnverifiedError } from '../../shared/errors/workflow';
import { messageOf } from '../../shared/errors/core';
import { fencedInstanceUpdate, requireClaim } from '../../domain/fence';
import { MOUNT_PATH } from '../machine/mount-repair';
import { createOrAdoptMachine, createOrAdoptVolume, destroyTaggedResources, provisionTags, type CleanupReport, type VolumeOrigin } from '../../domain/provider-resources';
import type { ProviderStepInput } from '../step-schemas';

/** Where a switch's new volume takes its data from: the old volume on the old provider. */
export interface SeedSource {
  provider: string;
  volumeId: string | null;
}

/**
 * Create (or adopt) the instance's volume and record its id, fenced by the claim. `generation` tags
 * it (the provision's reservation version, a switch's claim version). A switch that carries the
 * data (`data: 'copy'`) seeds it from `seedFrom`, handed over by the old provider.
 */
export async function createVolume(
  deps: Deps,
  input: ProviderStepInput & { region: string; sizeGb: number; generation: number; seedFrom?: SeedSource; data?: 'copy' | 'fresh' },
): Promise<{ volumeId: string; adopted: boolean }> {
  // Check the claim before the side effect: a stale execution must not create anything.
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const origin = input.data === 'copy' ? await seedOrigin(deps, input.seedFrom) : undefined;
  const provider = deps.providers.get(input.provider);
  // Where lists lag (Fly), an ambiguous create is adopted only after the lag: record the attempt before sending it.
  const attempt = `${input.provider}:v${input.generation}`;
  const retried = instance.volumeCreateAttempt === attempt;
  if (!retried && (provider.listLagMs ?? 0) > 0) await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { volumeCreateAttempt: attempt } });
  const { volume, adopted } = await createOrAdoptVolume(
    provider,
    {
      name: volumeNameOf(input.instanceId),
      region: input.region,
      sizeGb: input.sizeGb,
      tags: provisionTags(input.owner, input.instanceId, input.generation),
      // A switch's target size is the instance's once the switch wrote it; either way the machine that will mount it.
      machineSize: instance.switchTarget?.size ?? instance.size,
    },
    { kept: keptVolumesOf(deps), origin, earlierAttemptMayHaveCreated: retried },
  );
  await recordCreated(deps, input, { volumeId: volume.id }, adopted ? null : () => provider.deleteVolume(volume.id));
  deps.logger.info('volume ready', { volumeId: volume.id, adopted, seededFrom: origin ? input.seedFrom : null });
  return { volumeId: volume.id, adopted };
}

/** The old provider's hand-over of the volume a switch copies. */
async function seedOrigin(deps: Deps, from: SeedSource | undefined): Promise<VolumeOrigin> {
  if (!from?.volumeId) throw new ProviderResourceNotFoundError('The switch has no old volume to copy the data from.');
  return { kind: 'import', seed: await deps.providers.get(from.provider).seedOf(from.volumeId) };
}

/** Create (or adopt) the instance's machine on its volume and record its id, fenced by the claim. */
export async function createMachine(
  deps: Deps,
  input: ProviderStepInput & { region: string; size: string; image: string; volumeId: string; generation: number; start?: boolean },
): Promise<{ machineId: string; adopted: boolean }> {
  await requireClaim(deps, input.instanceId, input.claim);
  const provider = deps.providers.get(input.provider);
  const { machine, adopted } = await createOrAdoptMachine(provider, {
    // Unique per incarnation: a retry of this step meets its own name (adopted by id and tags), never another attempt's.
    name: machineNameOf(input.instanceId, `v${input.generation}`),
    region: input.region,
    size: input.size,
    image: input.image,
    volumeId: input.volumeId,
    mountPath: MOUNT_PATH,
    tags: provisionTags(input.owner, input.instanceId, input.generation),
    env: { SLIPWAY_INSTANCE_ID: input.instanceId },
    // A switch of a stopped instance makes its new machine without starting it.
    start: input.start ?? true,
  });
  await recordCreated(deps, input, { machineId: machine.id }, adopted ? null : () => provider.destroyMachine(machine.id));
  deps.logger.info('machine ready', { machineId: machine.id, adopted });
  return { machineId: machine.id, adopted };
}

/**
 * Record the id of what a create made, fenced by the claim. Step Functions does not interrupt a
 * Task in flight when its execution is stopped (a cancel) or settled as lost, so the claim may be
 * gone by the time a slow create answers: nobody accounts for what this very call made, and it is
 * destroyed here before the ClaimLost goes on (the settle's cleanup ran before it existed; the
 * orphan collector stays the backstop if this fails). An adopted one existed before the settle,
 * whose cleanup covers it.
 */
async function recordCreated(deps: Deps, input: ProviderStepInput, ids: Record<string, string>, undo: (() => Promise<void>) | null): Promise<void> {
  try {
    await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: ids });
  } catch (error) {
    if (!(error instanceof ClaimLostError) || !undo) throw error;
    deps.logger.warn('claim lost while creating: destroying what was made', { instanceId: input.instanceId, claim: input.claim, ...ids });
    await undo().catch((undoError: unknown) => deps.logger.error('could not destroy what a stale create made; the orphan collector will', { ...ids, error: messageOf(undoError) }));
    throw error;
  }
}

/**
 * Destroy everything a failed provision made — what the instance recorded by id, and what a list
 * finds by its ownership tags (an ambiguous create whose id was never learnt) — and prove it by a
 * GET of each by id. A create may have been sent until now, so the list is trusted only after the
 * provider's list lag. Armed only while the claim is ours.
 */
export async function compensateProvision(deps: Deps, input: ProviderStepInput): Promise<CleanupReport> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const report = await destroyTaggedResources(deps.providers.get(input.provider), input.owner, input.instanceId, {
    kept: keptVolumesOf(deps),
    knownMachines: [instance.machineId],
    knownVolumes: [instance.volumeId],
    recentCreates: true,
  });
  if (!report.verified) {
    throw new CleanupUnverifiedError(`Cleanup of ${input.instanceId} left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}].`, {
      context: { ...report },
    });
  }
  return report;
}

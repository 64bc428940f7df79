/**
 * What the lifecycle workflows do to an instance's machine: make sure it mounts the volume, start
 * it, wait until it is healthy, stop it, destroy machine and volume. Each step is idempotent and,
 * where it changes something, acts only while the claim is the execution's own.
 */
import type { Deps } from '../../composition/deps';
import { keptVolumesOf } from '../../domain/retained-volume';
import { MachineNotReadyError } from '../../shared/errors/provider';
import { CleanupUnverifiedError } from '../../shared/errors/workflow';
import { fencedInstanceUpdate, requireClaim } from '../../domain/fence';
import { ensureMachineOnVolume } from './mount-repair';
import { assertOwned, destroyTaggedResources, type CleanupReport } from '../../domain/provider-resources';
import type { ProviderStepInput } from '../step-schemas';

/** One wait for `started` stays well under the Task timeout; the ASL retries MachineNotReady with backoff. */
const WAIT_STARTED_MS = 20_000;
/** One wait for `stopped` stays under the Task timeout; MachineNotReady is retried by the ASL. */
const WAIT_STOPPED_MS = 30_000;

/** Make sure the machine mounts the instance's volume, repairing it (the one mount-repair helper) when it does not. */
export async function ensureMachineMount(deps: Deps, input: ProviderStepInput): Promise<{ machineId: string; repaired: boolean }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const { machine, repaired } = await ensureMachineOnVolume(deps.providers.get(input.provider), instance);
  if (machine.id !== instance.machineId) await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { machineId: machine.id } });
  if (repaired) deps.logger.warn('machine mount repaired', { machineId: machine.id, previousMachineId: instance.machineId ?? null, volumeId: instance.volumeId });
  return { machineId: machine.id, repaired };
}

/** Start the machine (a started one is left as is), only while the claim is ours. */
export async function startMachine(deps: Deps, input: ProviderStepInput & { machineId: string }): Promise<{ machineId: string }> {
  await requireClaim(deps, input.instanceId, input.claim);
  const provider = deps.providers.get(input.provider);
  const machine = await provider.getMachine(input.machineId);
  if (machine?.state !== 'started' && machine?.state !== 'starting') await provider.startMachine(input.machineId);
  return { machineId: input.machineId };
}

/**
 * Wait until the machine is started and answers its health check. Not started yet, or not healthy
 * yet, is MachineNotReady (retried); a machine that stopped instead is MachineStartFailed.
 */
export async function waitMachineStarted(deps: Deps, input: ProviderStepInput & { machineId: string }): Promise<{ endpoint: string | null }> {
  const provider = deps.providers.get(input.provider);
  const machine = await provider.waitForState(input.machineId, 'started', WAIT_STARTED_MS);
  const health = await provider.probeHealth(input.machineId);
  if (!health.healthy) throw new MachineNotReadyError(`Machine ${input.machineId} is started but not healthy yet: ${health.error ?? health.status}`);
  return { endpoint: machine.endpoint };
}

/** Stop the instance's machine and wait until it is stopped (idempotent: a stopped one is fine). */
export async function stopMachine(deps: Deps, input: ProviderStepInput): Promise<{ machineId: string | null }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  if (!instance.machineId) return { machineId: null };
  const provider = deps.providers.get(input.provider);
  const machine = await provider.getMachine(instance.machineId);
  if (!machine || ['destroyed', 'stopped', 'created'].includes(machine.state)) return { machineId: instance.machineId };
  if (machine.state !== 'stopping') await provider.stopMachine(machine.id);
  await provider.waitForState(machine.id, 'stopped', WAIT_STOPPED_MS);
  return { machineId: instance.machineId };
}

/**
 * Destroy the instance's machine and volume. The recorded ones must carry this instance's tags
 * (never touch what we cannot prove we own); everything tagged with it goes, and a second
 * inventory must come back empty.
 */
export async function destroyResources(deps: Deps, input: ProviderStepInput): Promise<CleanupReport> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const provider = deps.providers.get(input.provider);
  const machine = instance.machineId ? await provider.getMachine(instance.machineId) : null;
  if (machine && machine.state !== 'destroyed') assertOwned(machine, instance.owner, instance.instanceId);
  const volume = instance.volumeId ? await provider.getVolume(instance.volumeId) : null;
  if (volume && volume.state !== 'destroyed') assertOwned(volume, instance.owner, instance.instanceId);

  // Known by id, verified by id; the list only finds what was never recorded (its creates are long past the list lag).
  const report = await destroyTaggedResources(provider, instance.owner, instance.instanceId, { kept: keptVolumesOf(deps), knownMachines: [instance.machineId], knownVolumes: [instance.volumeId] });
  if (!report.verified) {
    throw new CleanupUnverifiedError(`Destroy of ${input.instanceId} left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}].`);
  }
  return report;
}

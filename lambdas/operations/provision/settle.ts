/** How a lost provision is settled. */
import { startNamedExecution } from '../../adapters/workflows';
import { stateMachineArn, type Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import { after } from '../../domain/attention';
import type { InstanceItem } from '../../domain/instance';
import { cancelRequestFor } from '../../domain/cancel-request';
import { destroyTaggedResources } from '../../domain/provider-resources';
import { readReservation, rescheduleReservation, type ReservationItem } from '../../domain/reservation';
import { keptVolumesOf } from '../../domain/retained-volume';
import type { SettleAction } from '../../sweeps/reconcile/actions';
import { describeOperation } from '../../views/operations-history';
import type { SettleLost, SettleTools } from '../settle-rule';
import { failProvision, markNeedsReconciliation } from './outcome';
import { provisionExecutionInput } from './request';

/**
 * A provision that never started (admission died before StartExecution, or the local runtime lost
 * it before its first step) is started now rather than failed; any other is failed, its resources
 * destroyed and verified first.
 */
export const settleLostProvision: SettleLost = async (deps, instance, lost, tools) => {
  const claim = instance.claim!;
  const reservation = await readReservation(deps, instance.owner);
  // …unless its owner cancelled it: then it is failed (cancelled) like any other.
  if (!cancelRequestFor(instance, claim) && lost.status === 'LOST' && reservation?.executionName === claim && reservation.status === 'admitted') {
    return (await startIfNeverStarted(deps, reservation, instance, tools)) ?? { target: `instance:${instance.instanceId}`, action: 'waiting', detail: `${claim} exists again` };
  }
  return failLostProvision(deps, instance, lost.error);
};

/**
 * A provision whose execution ended without an outcome, or was lost: destroy what its tags name and
 * verify, then fail it (reservation released if still its, quota returned) — or, when the cleanup
 * cannot be verified, leave it failed with its slot and due for the next pass.
 *
 * Chosen over adopting a half-made machine and volume: a lost execution's resources may be in any
 * state (a volume without a machine, a machine that never got healthy), and a failure the owner can
 * retry is plainer than a `running` nobody verified.
 */
async function failLostProvision(deps: Deps, instance: InstanceItem, error: { code: string; message: string }): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const fenced = { instanceId: instance.instanceId, owner: instance.owner, claim: instance.claim! };
  try {
    // The ids the table recorded are read back by id; a lost execution's create may have reached the
    // provider just before the host died (the start-up settle runs seconds later), so the list is trusted
    // only after the provider's list lag.
    const report = await destroyTaggedResources(deps.providers.get(instance.provider), instance.owner, instance.instanceId, {
      kept: keptVolumesOf(deps),
      knownMachines: [instance.machineId],
      knownVolumes: [instance.volumeId],
      recentCreates: true,
    });
    if (report.verified) {
      await failProvision(deps, { ...fenced, error });
      return { target, action: 'failed-provision', detail: `${error.message} Destroyed machines [${report.destroyedMachines.join(', ')}], volumes [${report.deletedVolumes.join(', ')}].` };
    }
    await markNeedsReconciliation(deps, { ...fenced, error: { ...error, message: `${error.message} Cleanup left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}].` } });
  } catch (cleanupError) {
    await markNeedsReconciliation(deps, { ...fenced, error: { ...error, message: `${error.message} Cleanup failed: ${messageOf(cleanupError)}` } });
  }
  return { target, action: 'needs-reconciliation', detail: error.message };
}

/**
 * An admitted reservation whose provision execution never started (the request died between its
 * transaction and StartExecution): start it now, by its deterministic name, with the input its
 * instance item determines. Null when the execution exists (or existed).
 */
async function startIfNeverStarted(deps: Deps, reservation: ReservationItem, instance: InstanceItem, tools: SettleTools): Promise<SettleAction | null> {
  const execution = await describeOperation(deps, { kind: 'provision', executionName: reservation.executionName });
  if (execution.status !== 'LOST' && execution.status !== 'PENDING') return null;
  const input = provisionExecutionInput(instance, deps.correlationId);
  await startNamedExecution(deps.sfn, stateMachineArn(deps, 'provision'), reservation.executionName, { ...input }, deps.correlationId);
  await rescheduleReservation(deps, reservation, after(deps.now(), deps.settings.reservationDeadlineSeconds));
  await tools.rescheduleClaimed(deps, instance, after(deps.now(), deps.settings.sweepPeriodSeconds));
  return { target: `reservation:${reservation.owner}`, action: 'started-execution', detail: reservation.executionName };
}

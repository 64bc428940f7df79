/**
 * The drift check of a running instance: does its machine still run, on its volume, where the
 * instance says? A machine that exited without being asked (Fly: an `exit` event with
 * `requested_stop == false`; local: its process died without a stop request) starts a recovery —
 * unless the instance's last recovery is too recent (its cooldown), when it is shown `stopped` with
 * the reason instead, so a machine that keeps dying is never recovered in a loop. A machine that is
 * gone, or was stopped on request behind slipway's back, is shown `stopped` with the reason. One on
 * the wrong volume gets the one mount-repair helper (through a restart, which runs it); a new
 * address is recorded.
 *
 * It is asked about an instance only when something says it drifted: the fleet inventory's listing
 * of machines not running (inventory.ts), the hourly audit, the local provider's push of an exit,
 * or a running instance still on the attention index from before. Its own GET by id is what
 * decides (a list may lag; a read by id is the truth), and a healthy instance is not written —
 * except to take it off the attention index if it is still there.
 */
import { isClaimRefused } from './refusals';
import type { Deps } from '../../composition/deps';
import type { InstanceItem } from '../../domain/instance';
import { requestOperation } from '../../operations/lifecycle/request';
import { inRecoveryCooldown } from '../../operations/recover/steps';
import { startRecovery } from '../../operations/recover/request';
import { correctEndpoint, markUnexpectedStop, unscheduleInstance } from './unclaimed';
import type { SettleAction } from './actions';

/** Check a running instance's machine and act on what drifted. */
export async function checkDrift(deps: Deps, instance: InstanceItem): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const provider = deps.providers.get(instance.provider);
  const machine = instance.machineId ? await provider.getMachine(instance.machineId) : null;
  if (!machine || !['started', 'starting'].includes(machine.state)) {
    const exit = machine?.lastExit;
    const how = !machine ? 'its machine is gone' : `its machine is ${machine.state}${exit ? ` (exit code ${exit.exitCode ?? 'none'}, ${exit.requestedStop ? 'requested' : 'not requested'}, at ${exit.at})` : ''}`;
    const crashed = machine !== null && ['stopped', 'created'].includes(machine.state) && exit?.requestedStop === false;
    if (crashed && !inRecoveryCooldown(deps, instance)) {
      try {
        const accepted = await startRecovery(deps, instance, { trigger: 'unexpected-exit', reason: `unexpected exit: ${how}`, expect: true });
        return { target, action: 'recovery-started', detail: `${accepted.operation.executionName}: ${how}` };
      } catch (error) {
        if (!isClaimRefused(error)) throw error;
        return { target, action: 'skipped', detail: 'another operation claimed it first' };
      }
    }
    const why = crashed ? `; no recovery until ${instance.recoveryCooldownUntil} (the last one was too recent)` : '';
    const marked = await markUnexpectedStop(deps, instance, { code: 'UnexpectedExit', message: `unexpected exit: ${how}${why}`, at: deps.now().toISOString() });
    if (marked) deps.metrics.count(crashed ? 'RecoverySuppressed' : 'UnexpectedStop', { provider: instance.provider });
    return { target, action: marked ? 'marked-stopped' : 'skipped', detail: `${how}${why}` };
  }
  if (machine.mount?.volumeId !== instance.volumeId) {
    // The one mount-repair helper runs inside restart (EnsureMachineMount), under a claim.
    try {
      const accepted = await requestOperation(deps, instance.instanceId, [instance.owner], 'restart');
      return { target, action: 'mount-repair-started', detail: accepted.operation.executionName };
    } catch (error) {
      if (!isClaimRefused(error)) throw error;
      return { target, action: 'skipped', detail: 'another operation claimed it first' };
    }
  }
  if (machine.state === 'started' && machine.endpoint !== (instance.endpoint ?? null)) {
    const corrected = await correctEndpoint(deps, instance, machine.endpoint);
    return { target, action: corrected ? 'endpoint-corrected' : 'skipped', detail: `${instance.endpoint ?? 'none'} → ${machine.endpoint ?? 'none'}` };
  }
  // A running instance stays off the attention index: the inventory looks at the fleet for it.
  if ((instance as InstanceItem & { attentionAt?: string }).attentionAt !== undefined) await unscheduleInstance(deps, instance);
  return { target, action: 'healthy', detail: `machine ${machine.id} is ${machine.state}` };
}

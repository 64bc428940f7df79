/**
 * The drift check of a running instance: does its machine still run, on its volume, where the
 * instance says? A machine that stopped without being asked is an unexpected stop (shown as
 * `stopped` with the reason until recovery exists); one on the wrong volume gets the one
 * mount-repair helper (through a restart, which runs it); a new address is recorded.
 */
import { isClaimRefused } from './refusals';
import type { Deps } from '../../shared/deps';
import { after } from '../attention';
import type { InstanceItem } from '../instance';
import { requestOperation } from '../lifecycle';
import { correctEndpoint, markUnexpectedStop, rescheduleInstance } from '../unclaimed';
import type { SettleAction } from './actions';

/** Check a running instance's machine and act on what drifted. */
export async function checkDrift(deps: Deps, instance: InstanceItem): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const next = after(deps.now(), deps.settings.driftCheckSeconds);
  const provider = deps.providers.get(instance.provider);
  const machine = instance.machineId ? await provider.getMachine(instance.machineId) : null;
  if (!machine || !['started', 'starting'].includes(machine.state)) {
    const exit = machine?.lastExit;
    const how = !machine ? 'its machine is gone' : `its machine is ${machine.state}${exit ? ` (exit code ${exit.exitCode ?? 'none'}, ${exit.requestedStop ? 'requested' : 'not requested'}, at ${exit.at})` : ''}`;
    const marked = await markUnexpectedStop(deps, instance, { code: 'UnexpectedExit', message: `unexpected exit: ${how}`, at: deps.now().toISOString() });
    if (marked) deps.metrics.count('UnexpectedStop', { provider: instance.provider });
    return { target, action: marked ? 'marked-stopped' : 'skipped', detail: how };
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
    const corrected = await correctEndpoint(deps, instance, machine.endpoint, next);
    return { target, action: corrected ? 'endpoint-corrected' : 'skipped', detail: `${instance.endpoint ?? 'none'} → ${machine.endpoint ?? 'none'}` };
  }
  await rescheduleInstance(deps, instance, next);
  return { target, action: 'healthy', detail: `machine ${machine.id} is ${machine.state}` };
}

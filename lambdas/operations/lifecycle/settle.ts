/** How a lost lifecycle execution (start, stop, restart, destroy) is settled. */
import type { SettleLost } from '../settle-rule';
import { recordOperationFailure } from './outcome';
import type { LifecycleOperation } from '../registry';

/** The real provider state plus the operation's last…Error, claim released: what its own failure tail does. */
export const settleLostLifecycle: SettleLost = async (deps, instance, lost) => {
  const claim = instance.claim!;
  await recordOperationFailure(deps, { instanceId: instance.instanceId, claim, provider: instance.provider, operation: instance.operation as LifecycleOperation, error: lost.error });
  return { target: `instance:${instance.instanceId}`, action: 'released-claim', detail: `${claim} ${lost.status}: ${lost.error.message}` };
};

/** How a lost recovery is settled. */
import type { SettleLost } from '../settle-rule';
import { settleLostRecovery } from './steps';

/**
 * Roll forward when it had cut over; else destroy what it made (old volume kept) and show stopped +
 * lastRecoveryError. An operator's forced recovery (only ever of a running instance) that was lost
 * puts the instance back as it was: its old machine starts again, as a lost switch's does.
 */
export const settleLostRecover: SettleLost = async (deps, instance, lost, tools) => {
  const target = `instance:${instance.instanceId}`;
  const settled = await settleLostRecovery(deps, instance, lost.error);
  const detail = `${instance.claim} ${lost.status}: ${settled.detail}`;
  if (instance.recovery?.trigger === 'operator' && !instance.recovery.cutOverAt && settled.status === 'stopped') return { target, action: 'recovery-failed', detail: `${detail}. ${await tools.startAgain(deps, instance)}` };
  return { target, action: settled.status === 'running' ? 'recovery-completed' : 'recovery-failed', detail };
};

/** How a lost switch is settled. */
import type { Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import { ClaimLostError } from '../../shared/errors/workflow';
import { after, attentionAt, parkedAttention } from '../../domain/attention';
import { fencedInstanceUpdate } from '../../domain/fence';
import type { InstanceItem } from '../../domain/instance';
import type { SettleAction } from '../../sweeps/reconcile/actions';
import type { SettleLost, SettleTools } from '../settle-rule';
import { recordSwitchFailure, rollbackSwitch } from './steps';

/**
 * A switch whose execution ended without committing or recording its rollback, or was lost: roll it
 * back with the workflow's own use cases (target cleaned and verified, old provider restored, claim
 * released with `lastSwitchError`), then start the old machine again through a `start` operation
 * if the instance was running. Never rolled forward: a half-made target nobody verified is not a
 * running instance. A rollback that cannot prove the target clean keeps the claim (still
 * `switching`, the reason recorded) and is tried again with backoff, then left to an operator.
 */
export const settleLostSwitch: SettleLost = async (deps, instance, lost, tools) => {
  const { error } = lost;
  const target = `instance:${instance.instanceId}`;
  const step = { instanceId: instance.instanceId, owner: instance.owner, claim: instance.claim! };
  let restartOld: boolean;
  try {
    ({ restartOld } = await rollbackSwitch(deps, step));
  } catch (rollbackError) {
    return retryRollbackLater(deps, instance, `${error.message} Rollback: ${messageOf(rollbackError)}`, tools);
  }
  const recorded = await recordSwitchFailure(deps, { ...step, error });
  if (!restartOld || recorded.status !== 'stopped') return { target, action: 'rolled-back-switch', detail: `${error.message} Now ${recorded.status} on ${instance.switchingFrom?.provider ?? instance.provider}.` };
  return { target, action: 'rolled-back-switch', detail: `${error.message} ${await tools.startAgain(deps, instance)}` };
};

/** A switch rollback that could not be verified: record why, keep the claim, look again with backoff; exhausted → an operator. */
async function retryRollbackLater(deps: Deps, instance: InstanceItem, why: string, tools: SettleTools): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const tries = (instance.reconcileTries ?? 0) + 1;
  const exhausted = tries >= deps.settings.reconcileMaxTries;
  const lastSwitchError = { code: 'SwitchRollbackUnverified', message: `Rollback try ${tries}: ${why}`, at: deps.now().toISOString() };
  try {
    await fencedInstanceUpdate(
      deps,
      instance.instanceId,
      instance.claim!,
      exhausted
        ? { set: { reconcileTries: tries, lastSwitchError, cleanupExhaustedAt: deps.now().toISOString(), ...parkedAttention(instance.pk, deps.now()) } }
        : { set: { reconcileTries: tries, lastSwitchError, ...attentionAt(instance.pk, after(deps.now(), tools.cleanupBackoffSeconds(tries))) } },
    );
  } catch (fenceError) {
    if (!(fenceError instanceof ClaimLostError)) throw fenceError;
    return { target, action: 'skipped', detail: 'the switch finished meanwhile' };
  }
  if (!exhausted) return { target, action: 'cleanup-retry', detail: lastSwitchError.message };
  deps.metrics.count('CleanupExhausted');
  deps.logger.error('switch rollback exhausted: left for an operator', { instanceId: instance.instanceId, owner: instance.owner, tries, why });
  return { target, action: 'cleanup-exhausted', detail: lastSwitchError.message };
}

/**
 * The execution-closed listener's use case: an execution ended FAILED, TIMED_OUT or ABORTED. When
 * its workflow's own Catch recorded the outcome (the usual case) the instance no longer carries its
 * claim and nothing happens; when nothing did (a timeout, an abort, a crashed handler) it is settled
 * now, by the same rules as the sweep, instead of at the next sweep.
 */
import * as z from 'zod';
import type { Deps } from '../../composition/deps';
import { readInstance } from '../../views/instance-queries';
import { readReservation, UNRESOLVED_STATUSES } from '../../domain/reservation';
import { settleInstance, settleReservation, type SettleAction } from './settle';
import { ClaimLostError } from '../../shared/errors/workflow';

/** What "Step Functions Execution Status Change" says of one execution (the fields used). */
export const executionClosedSchema = z.object({
  name: z.string().min(1),
  status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'RUNNING', 'PENDING_REDRIVE']),
  input: z.string().nullable().optional(),
});
export type ExecutionClosed = z.infer<typeof executionClosedSchema>;

/** The instance an execution worked on: its input's `instanceId`, else the name's prefix. */
function instanceIdOf(execution: ExecutionClosed): string | null {
  try {
    const input = JSON.parse(execution.input ?? '{}') as { instanceId?: unknown };
    if (typeof input.instanceId === 'string') return input.instanceId;
  } catch {
    // An input that is not JSON: fall back to the name.
  }
  return /^(i-[0-9a-z]{26})-/.exec(execution.name)?.[1] ?? null;
}

/**
 * Another settler of the same claim (a cancel's own settle, the sweep) may win the race: its fenced
 * writes leave this one ClaimLost, which means settled, not failed.
 */
async function settledMeanwhileOr(instanceId: string, settle: () => Promise<SettleAction>): Promise<SettleAction> {
  try {
    return await settle();
  } catch (error) {
    if (!(error instanceof ClaimLostError)) throw error;
    return { target: `instance:${instanceId}`, action: 'skipped', detail: 'settled meanwhile by another settler' };
  }
}

/** Settle what an execution left behind, if it left anything. */
export async function settleAfterExecution(deps: Deps, execution: ExecutionClosed): Promise<SettleAction[]> {
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status)) return [];
  const instanceId = instanceIdOf(execution);
  if (!instanceId) return [];
  const instance = await readInstance(deps, instanceId);
  if (!instance) return [];
  const actions: SettleAction[] = [];
  if (instance.claim === execution.name) actions.push(await settledMeanwhileOr(instance.instanceId, () => settleInstance(deps, instance)));
  const reservation = await readReservation(deps, instance.owner);
  if (reservation?.executionName === execution.name && UNRESOLVED_STATUSES.includes(reservation.status)) actions.push(await settleReservation(deps, reservation));
  if (actions.length > 0) deps.logger.info('settled after execution closed', { executionName: execution.name, status: execution.status, actions });
  return actions;
}

/** Helpers of the recovery and volume-cleanup suites: find a recovery's execution, kill and recover. */
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import type { InstanceItem } from '../../lambdas/domain/instance';
import type { Harness } from './harness';

/** The ARN of an execution of one of slipway's workflows in the harness's Step Functions endpoint. */
export function executionArn(h: Harness, workflow: string, name: string): string {
  return h.runtime.stepFunctions.stateMachineArn(`slipway-${workflow}`).replace(':stateMachine:', ':execution:') + `:${name}`;
}

/** What a recovery left: the instance before and after, and how its execution closed. */
export interface Recovered {
  before: InstanceItem;
  after: InstanceItem;
  executionName: string;
  status: string;
  /** What the machine answered before its death: the volume's content then. */
  volumeFileBefore: string;
}

/**
 * Kill the instance's machine behind slipway's back, run the reconcile sweep (its drift check is
 * due an hour later) and wait for the recovery it starts to close.
 */
export async function killAndRecover(h: Harness, id: string, options: { sweepAheadSeconds?: number } = {}): Promise<Recovered> {
  const before = (await h.instanceItem(id))!;
  const volumeFileBefore = (await h.answer(before.endpoint!)).volumeFile;
  await h.killMachine(before.machineId!);
  const report = await runReconcile(h.later(options.sweepAheadSeconds ?? 3600));
  const started = report.actions.find((action) => action.target === `instance:${id}` && action.action === 'recovery-started');
  if (!started) throw new Error(`the sweep started no recovery of ${id}: ${JSON.stringify(report.actions.filter((a) => a.target === `instance:${id}`))} ${JSON.stringify(report.errors)}`);
  const executionName = started.detail!.split(':')[0]!;
  const closed = await h.waitForExecution(executionArn(h, 'recover', executionName));
  return { before, after: (await h.instanceItem(id))!, executionName, status: closed.status, volumeFileBefore };
}

/**
 * Operator escape hatches of the self-healing machinery: run a sweep now, settle one instance now.
 * Both run exactly the sweep's own rules; settling is audited under the instance's owner.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Deps } from '../../shared/deps';
import { InstanceNotFoundError, SweepRunningError } from '../../shared/errors';
import { auditPutItem, auditRecord, auditRecordSchema } from '../audit';
import { readInstance } from '../instance-queries';
import { leaseHolder } from './lease';
import { RECONCILE, runReconcile, type SweepReport } from './reconcile';
import { settleInstanceNow } from './settle';
import { runVolumeCleanup, VOLUME_CLEANUP } from '../volume-cleanup';

/** Sweeps an operator may run by name. */
export const SWEEP_NAMES = [RECONCILE, VOLUME_CLEANUP] as const;
export type SweepName = (typeof SWEEP_NAMES)[number];

/** The optional body of `POST /v1/admin/sweeps/{name}`: why the operator runs it (logged with the run). */
export const sweepRequestSchema = z.strictObject({ reason: z.string().trim().min(3).max(500) });
export type SweepRequest = z.infer<typeof sweepRequestSchema>;

/** Run a sweep now; refused while another run holds its lease. */
export async function runSweepNow(deps: Deps, name: SweepName, actor: string, request?: SweepRequest): Promise<SweepReport> {
  deps.logger.info('audit: sweep run by operator', { sweep: name, actor, reason: request?.reason ?? null });
  const report = name === VOLUME_CLEANUP ? await runVolumeCleanup(deps) : await runReconcile(deps);
  if (!report.ran) throw new SweepRunningError(name, (await leaseHolder(deps, name))?.holder ?? null);
  return report;
}

/** The body of `POST /v1/admin/instances/{id}/settle`. */
export const settleRequestSchema = z.strictObject({ reason: z.string().trim().min(3).max(500) });
export type SettleRequest = z.infer<typeof settleRequestSchema>;

/** What a settle answers: what was done, and its audit record. */
export const settleResultSchema = z
  .object({
    instanceId: z.string(),
    actions: z.array(z.object({ target: z.string(), action: z.string(), detail: z.string().optional() })),
    audit: auditRecordSchema,
  })
  .meta({ id: 'SettleResult' });
export type SettleResult = z.infer<typeof settleResultSchema>;

/** Settle one instance now, by the sweep's rules, whatever its due time; audited. */
export async function settleInstanceByOperator(deps: Deps, instanceId: string, actor: string, request: SettleRequest): Promise<SettleResult> {
  const instance = await readInstance(deps, instanceId);
  if (!instance) throw new InstanceNotFoundError(instanceId);
  const actions = await settleInstanceNow(deps, instanceId);
  const audit = auditRecord(deps, {
    owner: instance.owner,
    action: 'instance.settle',
    actor,
    reason: request.reason,
    before: { instanceId, status: instance.status, claim: instance.claim ?? null, actions: actions.map((a) => `${a.target}: ${a.action}`) },
  });
  await deps.db.send(new PutCommand(auditPutItem(deps, audit).Put as never));
  deps.logger.info('audit: instance settled by operator', { audit });
  return { instanceId, actions, audit };
}

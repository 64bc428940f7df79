/**
 * Operator escape hatches of the self-healing machinery: run a sweep now, settle one instance now.
 * Both run exactly the sweep's own rules, and nothing else. Each audit record is written in the
 * transaction that starts the action: a sweep run's with its lease (under the operator who ran it),
 * a settle's with the instance's settle lock (under the instance's owner) — so concurrent settles of
 * one instance make one record and one settle, and every other caller is shown that one.
 */
import { TransactionConditionFailedError, TransactionConflictError } from '../store/errors';
import { settleLockEndItem, settleLockItem } from '../store/instance';
import { transactWrite } from '../store/table';
import * as z from 'zod';
import type { Deps } from '../composition/deps';
import { InstanceNotFoundError, SweepRunningError } from '../shared/errors/refusals';
import { auditOutcomeItem, auditPutItem, auditRecord, auditRecordSchema, type AuditRecord } from '../domain/audit';
import type { InstanceItem } from '../domain/instance';
import { readInstance } from '../views/instance-queries';
import { pause } from '../shared/retry';
import { leaseHolder } from './lease';
import type { SweepReport } from './report';
import { settleInstanceNow } from './reconcile/settle';
import { SWEEPS, type SweepName } from './registry';

/** The optional body of `POST /v1/admin/sweeps/{name}`: why the operator runs it (logged with the run). */
export const sweepRequestSchema = z.strictObject({ reason: z.string().trim().min(3).max(500) });
export type SweepRequest = z.infer<typeof sweepRequestSchema>;

/** Run a sweep now; refused while another run holds its lease. Audited under the operator, in the lease's transaction. */
export async function runSweepNow(deps: Deps, name: SweepName, actor: string, request?: SweepRequest): Promise<SweepReport> {
  const audit = auditRecord(deps, { owner: actor, action: 'sweep.run', actor, reason: request?.reason ?? '(no reason given)', before: { sweep: name } });
  const alsoWrite = [auditPutItem(deps, audit)];
  // Only a registered name reaches here (the route's enum is the registry's); each runs its own sweep.
  const report = await SWEEPS[name].run(deps, { alsoWrite });
  if (!report.ran) throw new SweepRunningError(name, report.heldBy ?? (await leaseHolder(deps, name))?.holder ?? null);
  deps.logger.info('audit: sweep run by operator', { audit });
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

/** How long an operator's settle holds the instance's settle lock at most (it is removed when the settle ends). */
const SETTLE_LOCK_SECONDS = 300;
/** Tries at the lock when its transaction lost to another in flight. */
const SETTLE_LOCK_ATTEMPTS = 5;
/** How long after a settle ended an identical one (same actor and reason) is answered with its record instead of running again. */
const IDENTICAL_SETTLE_WINDOW_SECONDS = 30;

/** The operator settle under way on an instance (or just ended: `done`), as stored on it: its audit record and when the lock lapses. */
type SettleLock = AuditRecord & { until: string; done?: boolean };

/**
 * Settle one instance now, by the sweep's rules, whatever its due time; audited. The audit record
 * and the instance's settle lock are one transaction, before any side effect; a settle that finds
 * the lock taken (another operator's under way, or the same request — actor and reason — sent again
 * within 30 s of its end) settles nothing and answers with that one's record. What the settle did
 * is added to its record at the end.
 */
export async function settleInstanceByOperator(deps: Deps, instanceId: string, actor: string, request: SettleRequest): Promise<SettleResult> {
  const instance = await readInstance(deps, instanceId);
  if (!instance) throw new InstanceNotFoundError(instanceId);
  const audit = auditRecord(deps, { owner: instance.owner, action: 'instance.settle', actor, reason: request.reason, before: { instanceId, status: instance.status, claim: instance.claim ?? null } });
  const underWay = await takeSettleLock(deps, instanceId, audit);
  if (underWay) {
    const { until: _until, done, ...record } = underWay;
    const why = done ? `the same settle ran at ${record.at}` : 'another settle of this instance is under way';
    return { instanceId, actions: [{ target: `instance:${instanceId}`, action: 'skipped', detail: `${why} (audit ${record.id} by ${record.actor})` }], audit: record };
  }
  let actions: Awaited<ReturnType<typeof settleInstanceNow>> = [];
  const outcome = () => actions.map((a) => `${a.target}: ${a.action}${a.detail ? ` (${a.detail})` : ''}`);
  try {
    actions = await settleInstanceNow(deps, instanceId);
  } finally {
    await releaseSettleLock(deps, instanceId, audit, outcome()).catch((error: unknown) => deps.logger.warn('could not release the settle lock; it lapses by itself', { instanceId, error: error as Error }));
  }
  const done = { ...audit, outcome: outcome() };
  deps.logger.info('audit: instance settled by operator', { audit: done });
  return { instanceId, actions, audit: done };
}

/** Take the instance's settle lock with the audit record in one transaction; the lock under way when it is taken. */
async function takeSettleLock(deps: Deps, instanceId: string, audit: AuditRecord): Promise<SettleLock | null> {
  for (let attempt = 1; ; attempt++) {
    const now = deps.now();
    const lock: SettleLock = { ...audit, until: new Date(now.getTime() + SETTLE_LOCK_SECONDS * 1000).toISOString() };
    try {
      await transactWrite(deps, [settleLockItem(deps, instanceId, lock, now), auditPutItem(deps, audit)]);
      return null;
    } catch (error) {
      const lost = error instanceof TransactionConditionFailedError || error instanceof TransactionConflictError;
      if (!lost || attempt >= SETTLE_LOCK_ATTEMPTS) throw error;
      const current = (await readInstance(deps, instanceId)) as (InstanceItem & { operatorSettle?: SettleLock }) | null;
      if (!current) throw new InstanceNotFoundError(instanceId);
      const held = current.operatorSettle;
      if (held && held.until >= now.toISOString() && (!held.done || (held.actor === audit.actor && held.reason === audit.reason))) return held;
      // The other transaction had not committed yet, or its lock was released meanwhile: try again.
      await pause(5 * attempt);
    }
  }
}

/**
 * End our settle: the lock stays a short while as `done` (an identical request arriving late is
 * answered with this record), and what the settle did is added to its audit record.
 */
async function releaseSettleLock(deps: Deps, instanceId: string, audit: AuditRecord, outcome: string[]): Promise<void> {
  const until = new Date(deps.now().getTime() + IDENTICAL_SETTLE_WINDOW_SECONDS * 1000).toISOString();
  await transactWrite(deps, [settleLockEndItem(deps, instanceId, audit.id, until, outcome), auditOutcomeItem(deps, audit, outcome)]);
}

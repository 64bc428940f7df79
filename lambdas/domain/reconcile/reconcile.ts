/**
 * The reconcile sweep: under its lease, read only what is due on the attention index, settle each
 * item with the workflows' own fenced use cases, and now and then collect orphans. Every action is
 * idempotent, so a duplicated run is harmless; a second pass over a converged world finds nothing due
 * and writes nothing but its lease.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Deps } from '../../shared/deps';
import { messageOf } from '../../shared/errors';
import { dueItems, type DueItem } from '../attention';
import type { InstanceItem } from '../instance';
import { mapWithConcurrency } from '../operations-history';
import type { ReservationItem } from '../reservation';
import { acquireLease, releaseLease } from './lease';
import { collectOrphans } from './orphans';
import { settleInstance, settleReservation, type SettleAction, type SettleContext } from './settle';

/** The sweep's name (its lease, its metrics dimension, `POST /v1/admin/sweeps/reconcile`). */
export const RECONCILE = 'reconcile';

/** How long one run may hold the lease (longer than a run can take; a crashed run's lease then expires). */
const LEASE_SECONDS = 300;
/** Due items read per attention shard per run; the rest wait for the next run. */
const BATCH_PER_SHARD = 50;
/** Items settled at once. */
const CONCURRENCY = 8;

/** What one run did, item by item. */
export const sweepReportSchema = z
  .object({
    sweep: z.string(),
    runId: z.string(),
    ran: z.boolean().meta({ description: 'False when another run held the lease' }),
    startedAt: z.string(),
    finishedAt: z.string(),
    due: z.number().int(),
    itemsRead: z.number().int(),
    oldestDueAgeSeconds: z.number().nullable(),
    actions: z.array(z.object({ target: z.string(), action: z.string(), detail: z.string().optional() })),
    orphans: z.array(z.object({ provider: z.string(), kind: z.enum(['machine', 'volume']), id: z.string(), instanceId: z.string(), action: z.enum(['destroyed', 'too-young', 'failed']), detail: z.string().optional() })),
    errors: z.array(z.object({ target: z.string(), error: z.string() })),
  })
  .meta({ id: 'SweepReport' });
export type SweepReport = z.infer<typeof sweepReportSchema>;

/**
 * How to run: normally only what is due. `afterRestart` (the local runtime's start, whose Step
 * Functions endpoint lost every execution with the previous process) looks at every item on the
 * index now and treats an execution that does not exist as lost rather than about to start.
 */
export interface ReconcileOptions {
  afterRestart?: boolean;
}

/** Settle one due item by what it is. */
async function settleDue(deps: Deps, item: DueItem, context: SettleContext): Promise<SettleAction> {
  if (item.sk === 'INSTANCE') return settleInstance(deps, item as unknown as InstanceItem, context);
  if (item.sk === 'RESERVATION') return settleReservation(deps, item as unknown as ReservationItem, context);
  return { target: `${item.pk}/${item.sk}`, action: 'skipped', detail: 'not a kind the reconcile sweep settles' };
}

/** The instance an item concerns (reservations and instances of one provision settle as one). */
function subjectOf(item: DueItem): string {
  return item.sk === 'RESERVATION' ? String(item.instanceId) : item.sk === 'INSTANCE' ? String(item.instanceId) : `${item.pk}/${item.sk}`;
}

/** Run the reconcile sweep once. */
export async function runReconcile(deps: Deps, options: ReconcileOptions = {}): Promise<SweepReport> {
  const runId = randomUUID();
  const startedAt = deps.now();
  const report: SweepReport = { sweep: RECONCILE, runId, ran: false, startedAt: startedAt.toISOString(), finishedAt: '', due: 0, itemsRead: 0, oldestDueAgeSeconds: null, actions: [], orphans: [], errors: [] };
  const previous = await acquireLease(deps, RECONCILE, runId, LEASE_SECONDS);
  if (!previous) {
    report.finishedAt = deps.now().toISOString();
    return report;
  }
  report.ran = true;
  let orphanScanAt: string | undefined;
  try {
    const horizon = options.afterRestart ? new Date('9999-12-31T00:00:00Z') : startedAt;
    const due = await dueItems(deps, horizon, BATCH_PER_SHARD);
    report.due = due.items.length;
    report.itemsRead = due.itemsRead;
    const oldest = due.items[0];
    report.oldestDueAgeSeconds = oldest ? Math.max(0, (startedAt.getTime() - Date.parse(oldest.attentionAt)) / 1000) : null;

    // One provision's reservation and instance are one subject: settle it once per run.
    const bySubject = new Map<string, DueItem>();
    for (const item of due.items) if (!bySubject.has(subjectOf(item))) bySubject.set(subjectOf(item), item);
    const results = await mapWithConcurrency([...bySubject.values()], CONCURRENCY, async (item) => {
      try {
        return { action: await settleDue(deps, item, { afterRestart: options.afterRestart }) };
      } catch (error) {
        return { error: { target: `${item.sk === 'RESERVATION' ? 'reservation' : 'instance'}:${item.sk === 'RESERVATION' ? item.owner : item.instanceId}`, error: messageOf(error) } };
      }
    });
    for (const result of results) {
      if ('action' in result && result.action) report.actions.push(result.action);
      else if ('error' in result && result.error) report.errors.push(result.error);
    }

    const lastScan = previous.lastOrphanScanAt ? Date.parse(previous.lastOrphanScanAt) : 0;
    const sinceScan = startedAt.getTime() - lastScan;
    // A last scan "in the future" means clocks disagreed: scan rather than wait for it.
    if (options.afterRestart || sinceScan < 0 || sinceScan >= deps.settings.orphanScanSeconds * 1000) {
      try {
        report.orphans = await collectOrphans(deps);
        orphanScanAt = startedAt.toISOString();
      } catch (error) {
        report.errors.push({ target: 'orphans', error: messageOf(error) });
      }
    }
  } catch (error) {
    report.errors.push({ target: 'sweep', error: messageOf(error) });
  } finally {
    await releaseLease(deps, RECONCILE, runId, { lastOrphanScanAt: orphanScanAt }).catch(() => undefined);
  }
  report.finishedAt = deps.now().toISOString();
  emitSweepMetrics(deps, report);
  deps.logger.info('reconcile sweep ran', { runId, due: report.due, actions: report.actions.length, orphans: report.orphans.length, errors: report.errors.length });
  return report;
}

/** What the sweep saw, as metrics the alarms watch. */
function emitSweepMetrics(deps: Deps, report: SweepReport): void {
  const dimensions = { sweep: report.sweep };
  deps.metrics.duration('SweepDuration', Date.parse(report.finishedAt) - Date.parse(report.startedAt), dimensions);
  deps.metrics.gauge('DueItems', report.due, dimensions);
  deps.metrics.gauge('OldestDueAgeSeconds', report.oldestDueAgeSeconds ?? 0, dimensions);
  deps.metrics.gauge('NeedsReconciliation', report.actions.filter((a) => a.action === 'needs-reconciliation' || a.action === 'cleanup-retry' || a.action === 'cleanup-exhausted').length, dimensions);
  deps.metrics.gauge('SweepErrors', report.errors.length, dimensions);
  for (const action of report.actions) if (action.action !== 'waiting' && action.action !== 'healthy') deps.metrics.count('SweepAction', { action: action.action });
}

/**
 * The reconcile sweep: under its lease, read only what is due on the attention index, settle each
 * item with the workflows' own fenced use cases, inventory the fleet (inventory.ts: the machines
 * not running against the instances said to run on them), and now and then collect orphans. Every action is
 * idempotent, so a duplicated run is harmless; a second pass over a converged world finds nothing due
 * and writes nothing but its lease.
 */
import { randomUUID } from 'node:crypto';
import { countingDescribes } from '../../adapters/workflows';
import type { Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import { dueItems, type DueItem } from '../../domain/attention';
import type { TransactItem } from '../../domain/fence';
import type { InstanceItem } from '../../domain/instance';
import { mapWithConcurrency } from '../../views/operations-history';
import type { ReservationItem } from '../../domain/reservation';
import { acquireLease, holderFor, holderName, leaseTiming, releaseLease, startHeartbeat, type Heartbeat } from '../lease';
import { auditFleet, inventoryFleet } from './inventory';
import { collectOrphans } from './orphans';
import { settleInstance, settleReservation, type SettleAction, type SettleContext } from './settle';
import { newSweepReport, type SweepReport } from '../report';
import type { SweepPeriodSetting } from '../spec';
import type { AttentionLane } from '../../store/keys';

/** The sweep's name (its lease, its metrics dimension, `POST /v1/admin/sweeps/reconcile`). */
export const RECONCILE = 'reconcile';
/** The attention lane it reads. */
export const RECONCILE_LANE = 'reconcile' satisfies AttentionLane;
/** The setting that gives its period (and its lease's). */
export const RECONCILE_PERIOD = 'sweepPeriodSeconds' satisfies SweepPeriodSetting;

/** Share of a sweep period a run may spend starting settles; the rest stays due for the next run, so no run holds the lease into the next period. */
const RUN_BUDGET_SHARE = 0.75;
/** Due items read per attention shard per run; the rest wait for the next run. */
const BATCH_PER_SHARD = 50;
/** Items settled at once. */
const CONCURRENCY = 8;

/**
 * How to run: normally only what is due. `afterRestart` (the local runtime's start, whose Step
 * Functions endpoint lost every execution with the previous process) looks at every item on the
 * index now and treats an execution that does not exist as lost rather than about to start.
 */
export interface ReconcileOptions {
  afterRestart?: boolean;
  /** Written in the transaction that takes the lease (an operator's audit record of this run). */
  alsoWrite?: TransactItem[];
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

/**
 * Run the reconcile sweep once. The lease is taken, renewed by a heartbeat while the run lasts and
 * given back at the end; a run that finds it held says so (log, metric, report) and does nothing.
 * The start-up settle (`afterRestart`) takes over a lease of its own runtime's dead boot and never
 * waits on one held by anybody else: it runs beside it (every settle is fenced and idempotent; the
 * lease only saves duplicate work).
 */
export async function runReconcile(deps: Deps, options: ReconcileOptions = {}): Promise<SweepReport> {
  const runId = randomUUID();
  const startedAt = deps.now();
  const report = newSweepReport(RECONCILE, runId, startedAt);
  const holder = holderFor(deps, runId);
  const timing = leaseTiming(deps.settings[RECONCILE_PERIOD]);
  const lease = await acquireLease(deps, RECONCILE, holder, timing.seconds, { takeOverOwnDeadBoot: options.afterRestart, alsoWrite: options.alsoWrite });
  if (!lease.taken) {
    report.heldBy = lease.heldBy.holder ?? null;
    deps.logger.info('reconcile sweep: lease held by another run', { runId, heldBy: report.heldBy, leaseUntil: lease.heldBy.leaseUntil ?? null, afterRestart: options.afterRestart ?? false });
    deps.metrics.count('SweepLeaseHeld', { sweep: RECONCILE });
    if (!options.afterRestart) {
      report.finishedAt = deps.now().toISOString();
      return report;
    }
  } else if (lease.tookOver) {
    report.tookOver = lease.tookOver;
    deps.logger.warn('reconcile sweep: took over the lease of a dead boot of this runtime', { runId, tookOver: lease.tookOver });
  }
  report.ran = true;
  const previous = lease.taken ? lease.previous : {};
  const heartbeat: Heartbeat | null = lease.taken ? startHeartbeat(deps, RECONCILE, holder, timing) : null;
  const meter = countingDescribes(deps.sfn);
  const metered: Deps = { ...deps, sfn: meter.sfn };
  // The start-up settle has no next run to hand over to: it settles everything it found.
  const budgetEnds = options.afterRestart ? Number.POSITIVE_INFINITY : startedAt.getTime() + deps.settings.sweepPeriodSeconds * 1000 * RUN_BUDGET_SHARE;
  const withinBudget = () => deps.now().getTime() < budgetEnds && !heartbeat?.lost;
  let orphanScanAt: string | undefined;
  let fleetAuditAt: string | undefined;
  try {
    const horizon = options.afterRestart ? new Date('9999-12-31T00:00:00Z') : startedAt;
    const due = await dueItems(metered, horizon, BATCH_PER_SHARD, RECONCILE_LANE);
    report.due = due.items.length;
    report.itemsRead = due.itemsRead;
    const oldest = due.items[0];
    report.oldestDueAgeSeconds = oldest ? Math.max(0, (startedAt.getTime() - Date.parse(oldest.attentionAt)) / 1000) : null;

    // One provision's reservation and instance are one subject: settle it once per run.
    const bySubject = new Map<string, DueItem>();
    for (const item of due.items) if (!bySubject.has(subjectOf(item))) bySubject.set(subjectOf(item), item);
    const results = await mapWithConcurrency([...bySubject.values()], CONCURRENCY, async (item) => {
      // Past the budget (or the lease lost): the item stays due, and the next run takes it.
      if (!withinBudget()) return { deferred: true };
      try {
        return { action: await settleDue(metered, item, { afterRestart: options.afterRestart }) };
      } catch (error) {
        return { error: { target: `${item.sk === 'RESERVATION' ? 'reservation' : 'instance'}:${item.sk === 'RESERVATION' ? item.owner : item.instanceId}`, error: messageOf(error) } };
      }
    });
    for (const result of results) {
      if ('action' in result && result.action) report.actions.push(result.action);
      else if ('error' in result && result.error) report.errors.push(result.error);
      else if ('deferred' in result) report.deferred += 1;
    }

    // The fleet inventory: where a running instance's machine stopped (a listing, then a GET by id
    // of the few it names); every `fleetAuditSeconds` the full audit instead (every machine).
    if (withinBudget()) {
      const lastAudit = previous.lastFleetAuditAt ? Date.parse(previous.lastFleetAuditAt) : 0;
      const sinceAudit = startedAt.getTime() - lastAudit;
      const audit = options.afterRestart || sinceAudit < 0 || sinceAudit >= deps.settings.fleetAuditSeconds * 1000;
      const fleet = audit ? await auditFleet(metered) : await inventoryFleet(metered);
      report.inventory = { pages: fleet.pages, listed: fleet.listed, instancesRead: fleet.instancesRead, candidates: fleet.candidates, audited: audit };
      report.actions.push(...fleet.actions);
      report.errors.push(...fleet.errors);
      if (audit && fleet.errors.length === 0) fleetAuditAt = startedAt.toISOString();
    }

    const lastScan = previous.lastOrphanScanAt ? Date.parse(previous.lastOrphanScanAt) : 0;
    const sinceScan = startedAt.getTime() - lastScan;
    // A last scan "in the future" means clocks disagreed: scan rather than wait for it.
    if (withinBudget() && (options.afterRestart || sinceScan < 0 || sinceScan >= deps.settings.orphanScanSeconds * 1000)) {
      try {
        report.orphans = await collectOrphans(metered);
        orphanScanAt = startedAt.toISOString();
      } catch (error) {
        report.errors.push({ target: 'orphans', error: messageOf(error) });
      }
    }
  } catch (error) {
    report.errors.push({ target: 'sweep', error: messageOf(error) });
  } finally {
    heartbeat?.stop();
    if (lease.taken) await releaseLease(deps, RECONCILE, holder, { lastOrphanScanAt: orphanScanAt, lastFleetAuditAt: fleetAuditAt }).catch(() => undefined);
  }
  report.describeCalls = meter.calls();
  report.finishedAt = deps.now().toISOString();
  emitSweepMetrics(deps, report);
  deps.logger.info('reconcile sweep ran', { runId, holder: holderName(holder), due: report.due, actions: report.actions.length, orphans: report.orphans.length, errors: report.errors.length, describeCalls: report.describeCalls, deferred: report.deferred });
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
  deps.metrics.gauge('DescribeExecutionCalls', report.describeCalls, dimensions);
  for (const action of report.actions) if (action.action !== 'waiting' && action.action !== 'healthy') deps.metrics.count('SweepAction', { action: action.action });
}

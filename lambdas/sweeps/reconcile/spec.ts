/** The reconcile sweep, whole: every minute, the reconcile lane of the attention index (see `../spec.ts`). */
import { settlesAndStarts } from '../../operations/settle-grants';
import { CANCELLABLE_OPERATIONS } from '../../domain/cancel-request';
import { sweepLease, type SweepSpec } from '../spec';
import { RECONCILE, RECONCILE_LANE, RECONCILE_PERIOD, runReconcile } from './sweep';

/** The reconcile sweep's spec. */
export const reconcileSweep: SweepSpec<typeof RECONCILE> = {
  name: RECONCILE,
  lane: RECONCILE_LANE,
  // Every minute (1-minute window): runs are at most 2 minutes apart.
  schedule: { setting: RECONCILE_PERIOD, variable: 'SWEEP_PERIOD_SECONDS', windowSeconds: 60, maxEventAgeSeconds: 300 },
  lease: sweepLease(RECONCILE, RECONCILE_PERIOD),
  run: (deps, options) => runReconcile(deps, options),
  // Runs are at most 2 minutes apart (1-minute rate, 1-minute window): two empty 5-minute periods mean it stopped.
  stopped: { periodSeconds: 300, description: 'slipway reconcile: the sweep has not run for 10 minutes (schedule disabled, function failing at init, or the lease never freed)' },
  alarms: [
    { id: 'OldestDueItemAlarm', metric: 'OldestDueAgeSeconds', statistic: 'Maximum', perSweep: true, threshold: 900, description: 'slipway reconcile: an item has been due for 15 minutes (the sweep is not keeping up, or failing)' },
    { id: 'NeedsReconciliationAlarm', metric: 'NeedsReconciliation', statistic: 'Maximum', perSweep: true, description: 'slipway reconcile: a provision needs reconciliation (its cleanup is not verified yet)' },
    { id: 'SweepErrorsAlarm', metric: 'SweepErrors', statistic: 'Sum', perSweep: true, description: 'slipway reconcile: items the sweep failed to settle' },
    { id: 'CleanupExhaustedAlarm', metric: 'CleanupExhausted', statistic: 'Sum', perSweep: false, description: 'slipway reconcile: a cleanup exhausted its tries and is left for an operator' },
    { id: 'DestroyParkedAlarm', metric: 'DestroyParked', statistic: 'Sum', perSweep: false, description: 'slipway reconcile: a destroy failed its capped retries and is parked for an operator (console: Attention, parked)' },
  ],
  function: {
    id: 'Reconcile',
    entry: 'lambdas/sweeps/reconcile/handler.ts',
    description: 'Reconcile sweep: settle what is due on the attention index, collect orphans',
    timeoutSeconds: 240,
    memoryMb: 512,
    permissions: {
      table: ['GetItem', 'Query', 'UpdateItem', 'BatchGetItem'],
      // Beyond what the settle rules start: a recovery of an unexpected stop (drift, inventory), a
      // mount repair (restart), a failed or lost destroy, again.
      ...settlesAndStarts(['recover', 'restart', 'destroy']),
      // A cancel whose request died before its StopExecution: the sweep stops it.
      stopsWorkflows: CANCELLABLE_OPERATIONS,
      usesProvider: true,
      publishesEvents: true,
    },
  },
};

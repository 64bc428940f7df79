/** What settling an item can do, shared by the sweep's rules and its report. */

/** One thing the sweep did (or decided not to do), for its report and the operator's view. */
export interface SettleAction {
  /** `instance:<id>` or `reservation:<owner>`. */
  target: string;
  action:
    | 'waiting'
    | 'started-execution'
    | 'released-claim'
    | 'failed-provision'
    | 'needs-reconciliation'
    | 'cleaned-up'
    | 'cleanup-retry'
    | 'cleanup-exhausted'
    | 'marked-stopped'
    | 'endpoint-corrected'
    | 'mount-repair-started'
    | 'healthy'
    | 'unscheduled'
    | 'recovery-started'
    | 'rolled-back-switch'
    | 'recovery-completed'
    | 'recovery-failed'
    | 'destroy-retried'
    | 'skipped';
  detail?: string;
}

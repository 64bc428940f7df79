/**
 * The rule that settles an operation's lost execution: what the reconcile sweep, the
 * execution-closed listener and an operator's "settle" do with a claim whose execution closed
 * without releasing it, or no longer exists. Each operation states its own (`<op>/settle.ts`);
 * `settle-rules.ts` lists them by operation, and the sweep dispatches on the claim's kind.
 */
import type { Deps } from '../composition/deps';
import type { InstanceItem } from '../domain/instance';
import type { SettleAction } from '../sweeps/reconcile/actions';
import type { ExecutionStatus } from '../views/operations-history';

/** A claim whose execution no longer runs, as the sweep found it. */
export interface LostExecution {
  /** The execution's status (`LOST`: it does not exist and never will). */
  status: ExecutionStatus;
  /** Why, as the error recorded on the instance. */
  error: { code: string; message: string };
}

/** What the sweep lends a settle rule (passed in, so a rule never imports the sweep that dispatches to it). */
export interface SettleTools {
  /** Start the instance's machine again through a `start` operation; what happened, in words. */
  startAgain(deps: Deps, instance: InstanceItem): Promise<string>;
  /** Push a claimed instance's next look (fenced by the claim). */
  rescheduleClaimed(deps: Deps, instance: InstanceItem, at: Date): Promise<void>;
  /** Backoff of the next cleanup try (seconds). */
  cleanupBackoffSeconds(tries: number): number;
}

/** Settle one claimed instance whose execution was lost (`instance.claim` and `instance.operation` are set). */
export type SettleLost = (deps: Deps, instance: InstanceItem, lost: LostExecution, tools: SettleTools) => Promise<SettleAction>;

import type { Deps } from '../composition/deps';
import { AlreadySwitchingError, InstanceBusyError, InstanceNotFoundError, InvalidStateError, ProviderMismatchError } from '../shared/errors/refusals';
import { ConditionFailedError, TransactionConditionFailedError, TransactionConflictError } from '../store/errors';
import { writeClaim } from '../store/instance';
import { alreadyFinishedBy, fencedInstanceUpdate, releasing, type InstanceUpdate, type TransactItem } from './fence';
import { executionName, type InstanceItem, type InstanceStatus } from './instance';
import { readInstance } from '../views/instance-queries';
import { CLAIMED_OPERATIONS, OPERATIONS, type ClaimedOperation } from '../operations/registry';

export type { ClaimedOperation, LifecycleOperation } from '../operations/registry';

/**
 * The claim rules: from which statuses an operation may claim an instance, and the transitional
 * status it shows from the claim until its workflow finishes. Each operation's spec states its own
 * (`lambdas/operations/<op>/spec.ts`); typed here, so a status that is not one does not compile.
 */
export const CLAIM_RULES: Record<ClaimedOperation, { from: readonly InstanceStatus[]; to: InstanceStatus }> = Object.fromEntries(
  CLAIMED_OPERATIONS.map((operation) => [operation, OPERATIONS[operation].claim]),
) as { [K in ClaimedOperation]: (typeof OPERATIONS)[K]['claim'] };

/** How many operations an instance remembers for `GET …/operations`. */
const OPERATION_LOG_LENGTH = 50;

/** A won claim. */
export interface Claim {
  instance: InstanceItem;
  operation: ClaimedOperation;
  executionName: string;
  /** The status before the claim, restored if the workflow never starts. */
  previousStatus: InstanceStatus;
}

/** What a claim may require beyond its rule, and record with it (one conditional write). */
export interface ClaimOptions {
  /** Refuse unless the instance's provider is this one (`ProviderMismatchError`). */
  expectedProvider?: string;
  /**
   * Decide on the instance as read, after the rule's own checks: throw to refuse, or return the
   * attributes to record with the claim (what the operation was asked to do). The conditional
   * write proves nothing changed since the read (version), so the decision holds at the claim.
   */
  prepare?: (current: InstanceItem) => Record<string, unknown>;
  /** What a claimer that decided on an earlier read (the sweep) saw: an instance that moved on since is InvalidState. */
  expect?: ClaimExpectation;
  /**
   * Items written in the claim's own transaction (an operator's audit record), decided on the
   * instance as read and the claim's execution name: they exist exactly when the claim does.
   */
  alsoWrite?: (current: InstanceItem, executionName: string) => TransactItem[];
}

/** What a claimer that decided on an earlier read expects the instance still to be (the sweep's view). */
export interface ClaimExpectation {
  version: number;
  status: InstanceStatus;
}

/**
 * Claim an instance for an operation with one conditional write: status allowed, no claim held,
 * version unchanged since we read it (and, when asked, the expected provider). Nothing else
 * happens before this succeeds, so the loser of a race gets InstanceBusy / InvalidState (or the
 * operation's own refusal) and has caused no side effect at all.
 */
export async function claimInstance(deps: Deps, instanceId: string, owners: readonly string[], operation: ClaimedOperation, options: ClaimOptions = {}): Promise<Claim> {
  const rule = CLAIM_RULES[operation];
  for (;;) {
    const current = await readInstance(deps, instanceId);
    // A tombstone reads as not found, as on GET: it can never be operated on again.
    if (!current || !owners.includes(current.owner) || current.status === 'destroyed') throw new InstanceNotFoundError(instanceId);
    if (current.claim) throw busyError(current, operation);
    if (options.expectedProvider !== undefined && current.provider !== options.expectedProvider) {
      throw new ProviderMismatchError(instanceId, options.expectedProvider, current.provider);
    }
    if (!rule.from.includes(current.status)) throw new InvalidStateError(instanceId, current.status, operation);
    if (options.expect && (current.version !== options.expect.version || current.status !== options.expect.status)) {
      throw new InvalidStateError(instanceId, current.status, operation);
    }
    const recorded = options.prepare?.(current) ?? {};

    const version = current.version + 1;
    const name = executionName(instanceId, operation, version);
    const now = deps.now();
    const log = [...(current.operations ?? []), { kind: operation, executionName: name, requestedAt: now.toISOString() }].slice(-OPERATION_LOG_LENGTH);
    try {
      const claimed = await writeClaim(
        deps,
        {
          instanceId,
          current,
          to: rule.to,
          operation,
          executionName: name,
          version,
          operations: log,
          now,
          // The sweep looks at the claim's execution after a short grace (one sweep period), not after
          // the operation's whole timeout: a lost or closed execution is settled on that evidence.
          attentionAt: new Date(now.getTime() + deps.settings.sweepPeriodSeconds * 1000),
          restarting: operation === 'restart',
          expectedProvider: options.expectedProvider,
          recorded,
        },
        options.alsoWrite?.(current, name) ?? [],
      );
      return { instance: claimed, operation, executionName: name, previousStatus: current.status };
    } catch (error) {
      // Someone changed the instance between our read and write: read again and decide anew.
      const lostCondition =
        error instanceof ConditionFailedError || (error instanceof TransactionConditionFailedError && error.failedAt(0)) || error instanceof TransactionConflictError;
      if (!lostCondition) throw error;
    }
  }
}

/** Why an instance that holds a claim refuses another: a second switch is told so by name. */
function busyError(current: InstanceItem, operation: ClaimedOperation): Error {
  if (operation === 'switch' && current.operation === 'switch') return new AlreadySwitchingError(current.instanceId, current.claim!);
  return new InstanceBusyError(current.instanceId, current.claim!);
}

/**
 * Release a claim with the operation's outcome, fenced by the claim. Replaying the same final
 * write after it committed is a no-op; any other lost fence is ClaimLost.
 */
export async function releaseClaim(deps: Deps, instanceId: string, claim: string, outcome: InstanceUpdate): Promise<InstanceItem | null> {
  try {
    return await fencedInstanceUpdate(deps, instanceId, claim, releasing(deps, instanceId, claim, outcome));
  } catch (error) {
    const item = await readInstance(deps, instanceId);
    if (alreadyFinishedBy(item, claim)) return null;
    throw error;
  }
}

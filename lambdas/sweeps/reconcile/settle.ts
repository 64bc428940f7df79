/**
 * Settling: what the reconcile sweep, the execution-closed listener and an operator's "settle" do
 * with one instance or reservation, each with the same fenced use cases the workflows use.
 *
 * | what is found | what settles it |
 * |---|---|
 * | a claim younger than a sweep period | not due yet |
 * | a claim whose execution still runs | nothing; look again after as long as it has run (≤ the operation's timeout) — unless a cancel is recorded for it: stopped again, then settled as below with `cancelled` |
 * | a lifecycle claim whose execution closed without releasing it, or is lost | `recordOperationFailure`: the real provider state plus the operation's last…Error, claim released |
 * | a provision claim whose execution ended without an outcome, or is lost | destroy what its tags name, verify, `failProvision` (reservation released if still its, quota returned); unverified → `markNeedsReconciliation` |
 * | an admitted reservation whose execution never started | start it by its deterministic name |
 * | a failed instance still holding its quota slot (`needs_reconciliation`) | destroy what its tags name, verify, free slot and reservation; capped tries, then an operator (alarm) |
 * | a switch claim whose execution ended without its outcome, or is lost | roll back (target cleaned and verified, old provider restored, `lastSwitchError`), then a `start` if it was running; unverified → retried with backoff, capped |
 * | a recovery claim whose execution closed without releasing it, or is lost | after its cut-over: retire the old resources and release as the new machine runs; before: destroy what it made (old volume kept), `stopped` + lastRecoveryError + cooldown — and an operator's forced one (of a running instance) starts its old machine again |
 * | a destroy that failed or was lost (`destroying`, no claim) | run again by the sweep, backoff 0, 1, 2, 4 … periods (≤ 1 h); after `reconcileMaxTries` parked for an operator (DestroyParked alarm), quota slot freed then |
 * | a running instance still on the index (from before the fleet inventory) | drift check (drift.ts), which takes it off the index when healthy; otherwise running instances are found by the fleet inventory (inventory.ts) |
 */
import { transactWrite } from '../../store/table';
import type { Deps } from '../../composition/deps';
import type { Operation } from '../../operations/registry';
import { messageOf } from '../../shared/errors/core';
import { causeMessage } from '../../shared/execution-progress';
import { backoff } from '../../shared/retry';
import { ClaimLostError, WorkflowUnavailableError } from '../../shared/errors/workflow';
import { after, attentionAt } from '../../domain/attention';
import { fencedInstanceUpdate } from '../../domain/fence';
import type { InstanceItem } from '../../domain/instance';
import { readInstance } from '../../views/instance-queries';
import { describeOperation, PENDING_GRACE_MS } from '../../views/operations-history';
import { destroyTaggedResources } from '../../domain/provider-resources';
import { keptVolumesOf } from '../../domain/retained-volume';
import { outcomeIfHeld, readReservation, rescheduleReservation, unscheduleReservation, UNRESOLVED_STATUSES, type ReservationItem } from '../../domain/reservation';
import { finishFailedCleanup, recordCleanupTry, rescheduleInstance, unscheduleInstance } from './unclaimed';
import type { SettleAction } from './actions';
import { checkDrift } from './drift';
import { isClaimRefused } from './refusals';
import { requestOperation } from '../../operations/lifecycle/request';
import { SETTLE_LOST } from '../../operations/settle-rules';
import type { SettleTools } from '../../operations/settle-rule';
import { cancelledError, cancelRequestFor, stopCancelledExecution } from '../../domain/cancel-request';

export type { SettleAction } from './actions';

/** What the settler knows beyond the item itself. */
export interface SettleContext {
  /**
   * The workflow service has just restarted with nothing running (the local endpoint keeps
   * executions in memory): an execution that does not exist is lost, never about to start.
   */
  afterRestart?: boolean;
}

/** Why a claim's execution no longer runs, as the error recorded on the instance. */
function lostError(kind: string, status: string, error: string | null, cause: string | null): { code: string; message: string } {
  if (status === 'LOST' || status === 'PENDING') return { code: 'ExecutionLost', message: `The ${kind} execution no longer exists (it never started, or its runtime restarted); the operation did not finish.` };
  const why = causeMessage(cause)?.slice(0, 300) ?? '';
  return { code: error ?? `Execution${status}`, message: `The ${kind} execution ended ${status}${error ? ` (${error}${why ? `: ${why}` : ''})` : ''} without recording its outcome.` };
}

/** Settle an instance the sweep found due (or an operator asked about). */
export async function settleInstance(deps: Deps, instance: InstanceItem, context: SettleContext = {}): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  if (instance.claim && instance.operation) return settleClaim(deps, instance, context);
  if (instance.status === 'failed' && instance.countsTowardQuota) return cleanUpFailedProvision(deps, instance);
  if (instance.status === 'running') return checkDrift(deps, instance);
  if (instance.status === 'destroying') return retryDestroy(deps, instance);
  await unscheduleInstance(deps, instance);
  return { target, action: 'unscheduled', detail: `nothing to do while ${instance.status}` };
}

/**
 * A destroy that failed or was lost (`destroying`, no claim, due): run it again, by the same claim a
 * DELETE takes, as long as the instance is as the sweep read it. Its failure comes back through
 * recordDestroyFailure (next try later, or parked). One the workflow service refused stays due.
 */
async function retryDestroy(deps: Deps, instance: InstanceItem): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  try {
    const started = await requestOperation(deps, instance.instanceId, [instance.owner], 'destroy', { expect: { version: instance.version, status: instance.status } });
    return { target, action: 'destroy-retried', detail: `try ${(instance.destroyTries ?? 0) + 1}: ${started.operation.executionName}` };
  } catch (error) {
    if (isClaimRefused(error)) return { target, action: 'skipped', detail: 'the instance moved on meanwhile' };
    if (!(error instanceof WorkflowUnavailableError)) throw error;
    // The claim was handed back (and with it the index entry): look again next period.
    const fresh = await readInstance(deps, instance.instanceId);
    if (fresh && !fresh.claim && fresh.status === 'destroying') await rescheduleInstance(deps, fresh, after(deps.now(), deps.settings.sweepPeriodSeconds));
    throw error;
  }
}

/** A claimed instance: if its execution still runs, wait; otherwise finish the operation for it. */
async function settleClaim(deps: Deps, instance: InstanceItem, context: SettleContext): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const claim = instance.claim!;
  const kind = instance.operation!;
  const requestedAt = instance.operations?.find((record) => record.executionName === claim)?.requestedAt;
  const described = await describeOperation(deps, { kind, executionName: claim, requestedAt });
  // After a restart of the workflow service nothing is about to start: a missing execution is lost.
  let execution = described.status === 'PENDING' && context.afterRestart ? { ...described, status: 'LOST' as const } : described;
  // A cancel recorded whose StopExecution never came (its request died after the write): stop it now, then settle.
  const cancel = cancelRequestFor(instance, claim);
  if (execution.status === 'RUNNING' && cancel && (await stopCancelledExecution(deps, kind, cancel))) execution = await describeOperation(deps, { kind, executionName: claim, requestedAt });
  if (execution.status === 'RUNNING') {
    await rescheduleClaimed(deps, instance, nextLookAt(deps, kind, requestedAt));
    return { target, action: 'waiting', detail: `${claim} is RUNNING` };
  }
  if (execution.status === 'PENDING') {
    // Claimed a moment ago; its StartExecution may still come. Look again right after the grace.
    const graceEnds = Date.parse(requestedAt ?? '') + PENDING_GRACE_MS;
    await rescheduleClaimed(deps, instance, new Date(Math.max(graceEnds, deps.now().getTime()) + 1000));
    return { target, action: 'waiting', detail: `${claim} is PENDING (claimed at ${requestedAt})` };
  }
  const error = cancel ? cancelledError(kind, cancel) : lostError(kind, execution.status, execution.error, execution.cause);
  // Each operation's own rule (lambdas/operations/<op>/settle.ts); the registry's Record keeps one per operation.
  return SETTLE_LOST[kind](deps, instance, { status: execution.status, error }, SETTLE_TOOLS);
}

/** What the settle rules borrow from the sweep. */
const SETTLE_TOOLS: SettleTools = { startAgain, rescheduleClaimed, cleanupBackoffSeconds };

/**
 * When to look again at a claim whose execution still runs: after as long again as it has run so
 * far (at least a sweep period, at most the operation's claim timeout), so a claim costs a
 * DescribeExecution per doubling of its age, not one per sweep. A hung execution ends at its state
 * machine's own TimeoutSeconds, and the next look settles it.
 */
export function nextLookAt(deps: Deps, kind: Operation, requestedAt: string | undefined): Date {
  const now = deps.now().getTime();
  const period = deps.settings.sweepPeriodSeconds * 1000;
  const requested = requestedAt ? Date.parse(requestedAt) : Number.NaN;
  const age = Number.isFinite(requested) ? Math.max(0, now - requested) : period;
  const cap = Math.max(period, deps.settings.claimTimeoutSeconds[kind] * 1000);
  return new Date(now + Math.min(cap, Math.max(period, age)));
}

/** Push a claimed instance's next look (fenced by the claim: an operation that finished meanwhile wins). */
async function rescheduleClaimed(deps: Deps, instance: InstanceItem, at: Date): Promise<void> {
  try {
    await fencedInstanceUpdate(deps, instance.instanceId, instance.claim!, { set: attentionAt(instance.pk, at) });
  } catch (error) {
    if (!(error instanceof ClaimLostError)) throw error;
  }
}

/** Start a settled instance's machine again through a `start` operation (it ran before the lost operation); what happened, in words. */
async function startAgain(deps: Deps, instance: InstanceItem): Promise<string> {
  try {
    const started = await requestOperation(deps, instance.instanceId, [instance.owner], 'start');
    return `The old machine is starting again (${started.operation.executionName}).`;
  } catch (startError) {
    if (!isClaimRefused(startError)) throw startError;
    return 'Another operation claimed it before the old machine could be started again.';
  }
}

/** Backoff of the next cleanup try: 1, 2, 4 … minutes, at most an hour. */
function cleanupBackoffSeconds(tries: number): number {
  return backoff(tries - 1, { base: 60, cap: 3600 });
}

/**
 * A failed provision still holding its quota slot: destroy what its tags name, verify, then free the
 * slot and the reservation. A try that fails is counted and retried with backoff; after
 * `reconcileMaxTries` it is left to an operator (metric CleanupExhausted, alarm).
 */
export async function cleanUpFailedProvision(deps: Deps, instance: InstanceItem): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  let failure: string;
  try {
    const report = await destroyTaggedResources(deps.providers.get(instance.provider), instance.owner, instance.instanceId, {
      kept: keptVolumesOf(deps),
      knownMachines: [instance.machineId],
      knownVolumes: [instance.volumeId],
    });
    if (report.verified) {
      const done = await finishFailedCleanup(deps, instance);
      return { target, action: done ? 'cleaned-up' : 'skipped', detail: done ? `destroyed machines [${report.destroyedMachines.join(', ')}], volumes [${report.deletedVolumes.join(', ')}]; quota and reservation freed` : 'the instance changed meanwhile' };
    }
    failure = `left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}]`;
  } catch (error) {
    failure = messageOf(error);
  }
  const tries = (instance.reconcileTries ?? 0) + 1;
  const exhausted = tries >= deps.settings.reconcileMaxTries;
  const errorRecord = { code: 'CleanupUnverified', message: `Cleanup try ${tries}: ${failure}`, at: deps.now().toISOString() };
  await recordCleanupTry(deps, instance, tries, exhausted ? null : after(deps.now(), cleanupBackoffSeconds(tries)), errorRecord);
  if (exhausted) {
    deps.metrics.count('CleanupExhausted');
    deps.logger.error('cleanup exhausted: left for an operator', { instanceId: instance.instanceId, owner: instance.owner, tries, failure });
    const reservation = await readReservation(deps, instance.owner);
    if (reservation?.instanceId === instance.instanceId) await unscheduleReservation(deps, reservation);
    return { target, action: 'cleanup-exhausted', detail: `${tries} tries: ${failure}` };
  }
  return { target, action: 'cleanup-retry', detail: `try ${tries}: ${failure}` };
}

/** The instance a reservation admitted. */
async function instanceOf(deps: Deps, reservation: ReservationItem): Promise<InstanceItem | null> {
  return readInstance(deps, reservation.instanceId);
}

/** Settle an unresolved reservation the sweep found due. */
export async function settleReservation(deps: Deps, reservation: ReservationItem, context: SettleContext = {}): Promise<SettleAction> {
  const target = `reservation:${reservation.owner}`;
  if (!UNRESOLVED_STATUSES.includes(reservation.status)) {
    await unscheduleReservation(deps, reservation);
    return { target, action: 'unscheduled', detail: `already ${reservation.status}` };
  }
  const instance = await instanceOf(deps, reservation);
  // Its instance carries the work: a claimed provision, or a failed one still holding its slot.
  if (instance && instance.claim === reservation.executionName) {
    const action = await settleInstance(deps, instance, context);
    // Still running: the reservation's next look waits as long as its instance's does.
    if (action.action === 'waiting') await rescheduleReservation(deps, reservation, nextLookAt(deps, 'provision', instance.createdAt));
    return action;
  }
  if (instance && instance.status === 'failed' && instance.countsTowardQuota) return cleanUpFailedProvision(deps, instance);
  // The instance finished (or vanished) without resolving the reservation: resolve it now.
  if (!instance || !instance.claim) {
    const held = await outcomeIfHeld(deps, reservation.owner, reservation.instanceId, 'reconciled');
    if (held) {
      await transactWrite(deps, [held]).catch(() => undefined);
      return { target, action: 'cleaned-up', detail: `instance ${reservation.instanceId} is ${instance?.status ?? 'gone'}; reservation released` };
    }
  }
  await rescheduleReservation(deps, reservation, after(deps.now(), deps.settings.reservationDeadlineSeconds));
  return { target, action: 'waiting', detail: `instance ${reservation.instanceId} is held by ${instance?.claim ?? 'nobody'}` };
}

/** Settle whatever concerns one instance now (operator's "settle", the execution-closed listener). */
export async function settleInstanceNow(deps: Deps, instanceId: string): Promise<SettleAction[]> {
  const instance = await readInstance(deps, instanceId);
  if (!instance) return [{ target: `instance:${instanceId}`, action: 'skipped', detail: 'no such instance' }];
  const actions = [await settleInstance(deps, instance)];
  const reservation = await readReservation(deps, instance.owner);
  if (reservation && reservation.instanceId === instanceId && UNRESOLVED_STATUSES.includes(reservation.status)) {
    const fresh = await readReservation(deps, instance.owner);
    if (fresh && UNRESOLVED_STATUSES.includes(fresh.status)) actions.push(await settleReservation(deps, fresh));
  }
  return actions;
}

/**
 * Settling: what the reconcile sweep, the execution-closed listener and an operator's "settle" do
 * with one instance or reservation, each with the same fenced use cases the workflows use.
 *
 * | what is found | what settles it |
 * |---|---|
 * | a claim whose execution still runs | nothing; look again after the operation's timeout |
 * | a lifecycle claim whose execution closed without releasing it, or is lost | `recordOperationFailure`: the real provider state plus the operation's last…Error, claim released |
 * | a provision claim whose execution ended without an outcome, or is lost | destroy what its tags name, verify, `failProvision` (reservation released if still its, quota returned); unverified → `markNeedsReconciliation` |
 * | an admitted reservation whose execution never started | start it by its deterministic name |
 * | a failed instance still holding its quota slot (`needs_reconciliation`) | destroy what its tags name, verify, free slot and reservation; capped tries, then an operator (alarm) |
 * | a running instance | drift check (drift.ts) |
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startNamedExecution } from '../../adapters/workflows';
import { stateMachineArn, type Deps } from '../../shared/deps';
import { causeMessage, ClaimLostError, messageOf } from '../../shared/errors';
import { provisionExecutionInput } from '../admission';
import { after, attentionAt } from '../attention';
import { fencedInstanceUpdate } from '../fence';
import type { InstanceItem } from '../instance';
import { readInstance } from '../instance-queries';
import { recordOperationFailure } from '../operation-outcome';
import { describeOperation } from '../operations-history';
import { destroyTaggedResources } from '../provider-resources';
import { failProvision, markNeedsReconciliation } from '../provision-outcome';
import { outcomeIfHeld, readReservation, rescheduleReservation, unscheduleReservation, UNRESOLVED_STATUSES, type ReservationItem } from '../reservation';
import { finishFailedCleanup, recordCleanupTry, unscheduleInstance } from '../unclaimed';
import type { SettleAction } from './actions';
import { checkDrift } from './drift';

export type { SettleAction } from './actions';


/** Why a claim's execution no longer runs, as the error recorded on the instance. */
function lostError(kind: string, status: string, error: string | null, cause: string | null): { code: string; message: string } {
  if (status === 'LOST' || status === 'PENDING') return { code: 'ExecutionLost', message: `The ${kind} execution no longer exists (it never started, or its runtime restarted); the operation did not finish.` };
  const why = cause ? causeMessage(cause).slice(0, 300) : '';
  return { code: error ?? `Execution${status}`, message: `The ${kind} execution ended ${status}${error ? ` (${error}${why ? `: ${why}` : ''})` : ''} without recording its outcome.` };
}

/** Settle an instance the sweep found due (or an operator asked about). */
export async function settleInstance(deps: Deps, instance: InstanceItem): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  if (instance.claim && instance.operation) return settleClaim(deps, instance);
  if (instance.status === 'failed' && instance.countsTowardQuota) return cleanUpFailedProvision(deps, instance);
  if (instance.status === 'running') return checkDrift(deps, instance);
  await unscheduleInstance(deps, instance);
  return { target, action: 'unscheduled', detail: `nothing to do while ${instance.status}` };
}

/** A claimed instance: if its execution still runs, wait; otherwise finish the operation for it. */
async function settleClaim(deps: Deps, instance: InstanceItem): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const claim = instance.claim!;
  const kind = instance.operation!;
  const requestedAt = instance.operations?.find((record) => record.executionName === claim)?.requestedAt;
  const execution = await describeOperation(deps, { kind, executionName: claim, requestedAt });
  if (execution.status === 'RUNNING' || execution.status === 'PENDING') {
    await rescheduleClaimed(deps, instance, after(deps.now(), deps.settings.claimTimeoutSeconds[kind]));
    return { target, action: 'waiting', detail: `${claim} is ${execution.status}` };
  }
  const error = lostError(kind, execution.status, execution.error, execution.cause);
  if (kind === 'provision') {
    // Never started (admission died before StartExecution, or the local runtime lost it before its
    // first step): start it now rather than fail it.
    const reservation = await readReservation(deps, instance.owner);
    if (execution.status === 'LOST' && reservation?.executionName === claim && reservation.status === 'admitted') {
      return (await startIfNeverStarted(deps, reservation, instance)) ?? { target, action: 'waiting', detail: `${claim} exists again` };
    }
    return settleLostProvision(deps, instance, error);
  }
  if (kind === 'start' || kind === 'stop' || kind === 'restart' || kind === 'destroy') {
    await recordOperationFailure(deps, { instanceId: instance.instanceId, claim, provider: instance.provider, operation: kind, error });
    return { target, action: 'released-claim', detail: `${claim} ${execution.status}: ${error.message}` };
  }
  return { target, action: 'skipped', detail: `no settle rule for ${kind} claims yet` };
}

/** Push a claimed instance's next look (fenced by the claim: an operation that finished meanwhile wins). */
async function rescheduleClaimed(deps: Deps, instance: InstanceItem, at: Date): Promise<void> {
  try {
    await fencedInstanceUpdate(deps, instance.instanceId, instance.claim!, { set: attentionAt(instance.pk, at) });
  } catch (error) {
    if (!(error instanceof ClaimLostError)) throw error;
  }
}

/**
 * A provision whose execution ended without an outcome, or was lost: destroy what its tags name and
 * verify, then fail it (reservation released if still its, quota returned) — or, when the cleanup
 * cannot be verified, leave it failed with its slot and due for the next pass.
 *
 * Chosen over adopting a half-made machine and volume: a lost execution's resources may be in any
 * state (a volume without a machine, a machine that never got healthy), and a failure the owner can
 * retry is plainer than a `running` nobody verified.
 */
async function settleLostProvision(deps: Deps, instance: InstanceItem, error: { code: string; message: string }): Promise<SettleAction> {
  const target = `instance:${instance.instanceId}`;
  const fenced = { instanceId: instance.instanceId, owner: instance.owner, claim: instance.claim! };
  try {
    const report = await destroyTaggedResources(deps.providers.get(instance.provider), instance.owner, instance.instanceId);
    if (report.verified) {
      await failProvision(deps, { ...fenced, error });
      return { target, action: 'failed-provision', detail: `${error.message} Destroyed machines [${report.destroyedMachines.join(', ')}], volumes [${report.deletedVolumes.join(', ')}].` };
    }
    await markNeedsReconciliation(deps, { ...fenced, error: { ...error, message: `${error.message} Cleanup left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}].` } });
  } catch (cleanupError) {
    await markNeedsReconciliation(deps, { ...fenced, error: { ...error, message: `${error.message} Cleanup failed: ${messageOf(cleanupError)}` } });
  }
  return { target, action: 'needs-reconciliation', detail: error.message };
}

/** Backoff of the next cleanup try: 1, 2, 4 … minutes, at most an hour. */
function cleanupBackoffSeconds(tries: number): number {
  return Math.min(60 * 2 ** Math.max(0, tries - 1), 3600);
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
    const report = await destroyTaggedResources(deps.providers.get(instance.provider), instance.owner, instance.instanceId);
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
export async function settleReservation(deps: Deps, reservation: ReservationItem): Promise<SettleAction> {
  const target = `reservation:${reservation.owner}`;
  if (!UNRESOLVED_STATUSES.includes(reservation.status)) {
    await unscheduleReservation(deps, reservation);
    return { target, action: 'unscheduled', detail: `already ${reservation.status}` };
  }
  const instance = await instanceOf(deps, reservation);
  // Its instance carries the work: a claimed provision, or a failed one still holding its slot.
  if (instance && instance.claim === reservation.executionName) {
    const action = await settleInstance(deps, instance);
    // Still running: the reservation's next look waits as long as its instance's does.
    if (action.action === 'waiting') await rescheduleReservation(deps, reservation, after(deps.now(), deps.settings.claimTimeoutSeconds.provision));
    return action;
  }
  if (instance && instance.status === 'failed' && instance.countsTowardQuota) return cleanUpFailedProvision(deps, instance);
  // The instance finished (or vanished) without resolving the reservation: resolve it now.
  if (!instance || !instance.claim) {
    const held = await outcomeIfHeld(deps, reservation.owner, reservation.instanceId, 'reconciled');
    if (held) {
      await deps.db.send(new TransactWriteCommand({ TransactItems: [held] })).catch(() => undefined);
      return { target, action: 'cleaned-up', detail: `instance ${reservation.instanceId} is ${instance?.status ?? 'gone'}; reservation released` };
    }
  }
  await rescheduleReservation(deps, reservation, after(deps.now(), deps.settings.reservationDeadlineSeconds));
  return { target, action: 'waiting', detail: `instance ${reservation.instanceId} is held by ${instance?.claim ?? 'nobody'}` };
}

/**
 * An admitted reservation whose provision execution never started (the request died between its
 * transaction and StartExecution): start it now, by its deterministic name, with the input its
 * instance item determines. Null when the execution exists (or existed).
 */
async function startIfNeverStarted(deps: Deps, reservation: ReservationItem, instance: InstanceItem): Promise<SettleAction | null> {
  const execution = await describeOperation(deps, { kind: 'provision', executionName: reservation.executionName });
  if (execution.status !== 'LOST' && execution.status !== 'PENDING') return null;
  const input = provisionExecutionInput(instance, deps.correlationId);
  await startNamedExecution(deps.sfn, stateMachineArn(deps, 'provision'), reservation.executionName, { ...input }, deps.correlationId);
  await rescheduleReservation(deps, reservation, after(deps.now(), deps.settings.reservationDeadlineSeconds));
  await rescheduleClaimed(deps, instance, after(deps.now(), deps.settings.claimTimeoutSeconds.provision));
  return { target: `reservation:${reservation.owner}`, action: 'started-execution', detail: reservation.executionName };
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

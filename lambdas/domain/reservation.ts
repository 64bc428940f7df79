/**
 * The owner reservation item (`OWNER#<owner>` / `RESERVATION`): the admission gate for fresh
 * provisions (at most one unresolved per owner), the fencing token (`version`) of the provision it
 * admitted, and the owner's quota counters (`activeInstances`, `instanceLimit`). Gate and quota live
 * on one item so admission takes both in one conditional update, and an outcome that also moves a
 * quota slot is one update expression (DynamoDB refuses two operations on one item in a
 * transaction). This module owns its shape, its rules and every write to it.
 */
import * as z from 'zod';
import { keys } from '../store/keys';
import type { Deps } from '../composition/deps';
import { ContentionTimeoutError, ReservationNotFoundError, ReservationNotReleasableError } from '../shared/errors/refusals';
import { ExecutionStillRunningError, ReservationLostError } from '../shared/errors/workflow';
import { auditPutItem, auditRecord, auditRecordSchema } from './audit';
import { attentionAt } from './attention';
import { fencedUpdateItem, type ItemUpdate, type TransactItem } from './fence';
import { ConditionFailedError, TransactionConditionFailedError, TransactionConflictError } from '../store/errors';
import { admissionUpdateParams, getOwnerItem, ownerItemUpdateParams, updateOwnerItem, type AdmissionWrite, type OwnerItemFence } from '../store/reservation';
import { transactWrite } from '../store/table';
import { readInstance } from '../views/instance-queries';
import { describeOperation } from '../views/operations-history';
import { backoff, jitter, pause, retry } from '../shared/retry';

/** Reservation states (ARCHITECTURE §2). */
export const RESERVATION_STATUSES = ['admitted', 'provider_work_started', 'completed', 'released', 'needs_reconciliation'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** States that block the owner's next provision until they resolve. */
export const UNRESOLVED_STATUSES: readonly ReservationStatus[] = ['admitted', 'provider_work_started', 'needs_reconciliation'];

/**
 * The reservation rules, in one table: from which statuses each transition may move the owner's
 * reservation, and where to. Every write below takes its condition from here.
 */
export const RESERVATION_RULES = {
  /** A new provision takes the gate; an owner item without a reservation yet (or no item) may be taken too. */
  admit: { from: ['completed', 'released'], to: 'admitted' },
  /** The provision fences the reservation before its first provider call (idempotent). */
  startProviderWork: { from: ['admitted', 'provider_work_started'], to: 'provider_work_started' },
  /** The provision succeeded. */
  complete: { from: ['provider_work_started'], to: 'completed' },
  /** The provision failed and its cleanup is verified: the owner may try again. */
  release: { from: ['admitted', 'provider_work_started'], to: 'released' },
  /** The provision failed and its cleanup is not verified: the reconcile sweep takes over. */
  handOver: { from: ['admitted', 'provider_work_started'], to: 'needs_reconciliation' },
  /** The reconcile sweep cleaned up after a provision that ended without (or with an unverified) cleanup. */
  reconciled: { from: ['admitted', 'provider_work_started', 'needs_reconciliation'], to: 'released' },
  /** The instance it admitted was destroyed. */
  releaseForDestroy: { from: UNRESOLVED_STATUSES, to: 'released' },
  /** An operator released it (audited). */
  operatorRelease: { from: UNRESOLVED_STATUSES, to: 'released' },
} as const satisfies Record<string, { from: readonly ReservationStatus[]; to: ReservationStatus }>;

/** A reservation transition's name. */
export type ReservationTransition = keyof typeof RESERVATION_RULES;

/** Attributes of one reservation that must not survive into the next (admission removes them). */
const PER_RESERVATION_ATTRIBUTES = ['releasedBy', 'releasedAt', 'releaseReason', 'releasedReason', 'requestHash'] as const;

/** The reservation item as stored (with the owner's quota counters). */
export const reservationSchema = z
  .looseObject({
    owner: z.string(),
    status: z.enum(RESERVATION_STATUSES),
    /** The fencing token: every admission increments it. */
    version: z.number().int().meta({ description: 'The fencing token' }),
    instanceId: z.string(),
    executionName: z.string(),
    deadline: z.string(),
    updatedAt: z.string(),
    idempotencyKey: z.string().optional(),
    activeInstances: z.number().int().optional().meta({ description: 'Instances holding one of the owner’s quota slots' }),
    instanceLimit: z.number().int().optional().meta({ description: 'The owner’s own limit; the configured default applies while unset' }),
    releasedBy: z.string().optional(),
    releasedAt: z.string().optional(),
    releaseReason: z.string().optional(),
  })
  .meta({ id: 'Reservation', description: 'The owner reservation item as stored (gate, fencing token and quota counters)' });
export type ReservationItem = z.infer<typeof reservationSchema>;

/** The owner item as stored: a reservation once the owner provisioned, or only a limit an operator set. */
export type OwnerItem = Partial<ReservationItem> & { owner?: string; activeInstances?: number; instanceLimit?: number };

/** The quota an owner item says: live slots, and the limit that applies. */
export function quotaOf(deps: Deps, item: OwnerItem | null): { activeInstances: number; limit: number } {
  return { activeInstances: item?.activeInstances ?? 0, limit: item?.instanceLimit ?? deps.settings.defaultInstanceLimit };
}

/** Whether an owner item holds an unresolved reservation. */
export function isUnresolved(item: OwnerItem | null): item is ReservationItem {
  return !!item?.status && UNRESOLVED_STATUSES.includes(item.status);
}

/** Read the owner item (strongly consistent), or null. */
export async function readOwnerItem(deps: Deps, owner: string): Promise<OwnerItem | null> {
  return getOwnerItem<OwnerItem>(deps, owner);
}

/** The reservation an owner item holds (null before the owner's first provision). */
export function reservationOf(item: OwnerItem | null): ReservationItem | null {
  return item?.status ? (item as ReservationItem) : null;
}

/** Read the owner's reservation (strongly consistent), or null. */
export async function readReservation(deps: Deps, owner: string): Promise<ReservationItem | null> {
  return reservationOf(await readOwnerItem(deps, owner));
}

/** An update of the owner item as a transaction item: `update` applied only under `fence`. */
function ownerItemUpdate(deps: Deps, owner: string, update: ItemUpdate, fence: OwnerItemFence, at: string = deps.now().toISOString()): NonNullable<TransactItem['Update']> {
  return ownerItemUpdateParams(deps, owner, update, fence, at);
}

/** What admission writes into the reservation (the rule's parts come from RESERVATION_RULES). */
export type ReservationAdmission = Omit<AdmissionWrite, 'to' | 'from' | 'defaultLimit' | 'clear'>;

/**
 * Admission's write, as a transaction item: take the gate (none unresolved) and a quota slot (below
 * the limit) in one conditional update, bump the fencing token, and put the reservation on the
 * attention index at its deadline (the reconcile sweep starts a provision whose execution never
 * started). What the previous reservation recorded about its own end is removed. On a failed
 * condition the old item comes back, so admission can say who holds the gate or which limit applied.
 */
export function admissionItem(deps: Deps, admission: ReservationAdmission): TransactItem {
  return {
    Update: admissionUpdateParams(deps, {
      ...admission,
      to: RESERVATION_RULES.admit.to,
      from: RESERVATION_RULES.admit.from,
      defaultLimit: deps.settings.defaultInstanceLimit,
      clear: PER_RESERVATION_ATTRIBUTES,
    }),
  };
}

/** The transitions a provision's (or destroy's, or the sweep's) final transaction applies. */
export type OutcomeTransition = 'complete' | 'release' | 'handOver' | 'reconciled' | 'releaseForDestroy';

/** How an outcome is applied. */
export interface OutcomeOptions {
  /** Fence on the version that admitted the provision, too. */
  version?: number;
  /** Give the instance's quota slot back in the same update expression. */
  returnSlot?: boolean;
  /** Why it was released, for operators. */
  reason?: string;
}

/**
 * An outcome on the reservation, as a transaction item fenced by the instance it was admitted for
 * (and, when given, the version that admitted it); with `returnSlot`, the same expression gives a
 * quota slot back. An unresolved outcome stays on the attention index for the reconcile sweep; a
 * resolved one leaves it.
 */
export function outcomeItem(deps: Deps, owner: string, instanceId: string, transition: OutcomeTransition, options: OutcomeOptions = {}): TransactItem {
  const to = RESERVATION_RULES[transition].to;
  const unresolved = UNRESOLVED_STATUSES.includes(to);
  const now = deps.now();
  return {
    Update: ownerItemUpdate(
      deps,
      owner,
      {
        set: { status: to, ...(unresolved ? attentionAt(keys.reservation(owner).pk, now) : {}), ...(options.reason ? { releaseReason: options.reason } : {}) },
        ...(options.returnSlot ? { add: { activeInstances: -1 } } : {}),
        remove: unresolved ? [] : ['attentionShard', 'attentionAt'],
      },
      { instanceId, statusIn: RESERVATION_RULES[transition].from, ...(options.version ? { version: options.version } : {}), holdsSlot: options.returnSlot },
    ),
  };
}

/** Give one quota slot back, as a transaction item; never below zero. */
function returnSlotItem(deps: Deps, owner: string): TransactItem {
  return { Update: ownerItemUpdate(deps, owner, { add: { activeInstances: -1 } }, { holdsSlot: true }) };
}

/**
 * The owner item's part of a final transaction, decided on a fresh read: the transition (with the
 * slot) when the reservation is still this instance's and allows it, else only the slot (when one
 * is returned), else nothing. An operator may have released the reservation meanwhile, and that
 * must not block finishing the instance. The transaction re-checks the condition; a caller whose
 * transaction lost it decides again (`finishWithOwnerItem`).
 */
export async function outcomeIfHeld(deps: Deps, owner: string, instanceId: string, transition: OutcomeTransition, options: OutcomeOptions = {}): Promise<TransactItem | null> {
  const current = await readReservation(deps, owner);
  const allowed = (RESERVATION_RULES[transition].from as readonly ReservationStatus[]).includes(current?.status as ReservationStatus);
  if (current && current.instanceId === instanceId && allowed) return outcomeItem(deps, owner, instanceId, transition, options);
  return options.returnSlot ? returnSlotItem(deps, owner) : null;
}

/** Attempts of a final transaction whose owner-item part was decided on a read that went stale. */
const OUTCOME_ATTEMPTS = 4;

/**
 * Run a final transaction made of fixed items (first) and the owner item's part (last), deciding
 * that part again when it lost its condition (the reservation moved between the read and the
 * write). A failure of the fixed items is the caller's to explain.
 */
export async function finishWithOwnerItem(deps: Deps, fixed: TransactItem[], ownerPart: () => Promise<TransactItem | null>): Promise<void> {
  let part: TransactItem | null = null;
  const ownerPartLost = (error: unknown) => !!part && error instanceof TransactionConditionFailedError && error.failedOnlyFrom(fixed.length);
  await retry(
    async () => {
      part = null;
      part = await ownerPart();
      await transactWrite(deps, [...fixed, ...(part ? [part] : [])]);
    },
    { attempts: OUTCOME_ATTEMPTS, retryable: (error) => ownerPartLost(error) || error instanceof TransactionConflictError, delayMs: (attempt) => jitter(backoff(attempt, { base: 5 }), 1) },
  );
}

/**
 * Move the owner's reservation to `provider_work_started`, fenced by the instance it was admitted
 * for. Idempotent: a retry finds it already moved. Returns the version (the fencing token later
 * steps carry and tag resources with).
 */
export async function markProviderWorkStarted(deps: Deps, input: { owner: string; instanceId: string }): Promise<{ version: number }> {
  try {
    const updated = await updateOwnerItem<OwnerItem>(
      deps,
      input.owner,
      { set: { status: RESERVATION_RULES.startProviderWork.to } },
      { instanceId: input.instanceId, statusIn: RESERVATION_RULES.startProviderWork.from },
      deps.now().toISOString(),
    );
    return { version: Number(updated.version) };
  } catch (error) {
    if (error instanceof ConditionFailedError) throw new ReservationLostError(`The reservation of ${input.owner} no longer belongs to ${input.instanceId}.`, { cause: error });
    throw error;
  }
}

/** Apply a sweep's bookkeeping update to a reservation unless it moved on since it was read. */
async function updateIfUnchanged(deps: Deps, reservation: ReservationItem, update: ItemUpdate): Promise<void> {
  try {
    await updateOwnerItem(
      deps,
      reservation.owner,
      update,
      { version: reservation.version, status: reservation.status },
      deps.now().toISOString(),
    );
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error; // it moved on: the next look follows its new state
  }
}

/** Move an unresolved reservation's next look to `at` (fenced by its version and status). */
export function rescheduleReservation(deps: Deps, reservation: ReservationItem, at: Date): Promise<void> {
  return updateIfUnchanged(deps, reservation, { set: attentionAt(keys.reservation(reservation.owner).pk, at) });
}

/** Take a reservation off the attention index (an operator takes over an exhausted cleanup). */
export function unscheduleReservation(deps: Deps, reservation: ReservationItem): Promise<void> {
  return updateIfUnchanged(deps, reservation, { remove: ['attentionShard', 'attentionAt'] });
}

/**
 * An operator's new instance limit, as a transaction item fenced by the limit the audit record
 * says it replaces (so two operators cannot both believe they changed the same value).
 */
export function instanceLimitItem(deps: Deps, owner: string, limit: number, before: number | null): TransactItem {
  return {
    Update: ownerItemUpdate(
      deps,
      owner,
      { set: { type: 'reservation', owner, instanceLimit: limit } },
      { instanceLimit: before },
    ),
  };
}

/** The body of `POST /v1/admin/owners/{owner}/reservation/release`; strict, and a reason is required. */
export const releaseRequestSchema = z.strictObject({
  reason: z.string().trim().min(3).max(500),
});
export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

/** What an operator release answers. */
export const releaseResultSchema = z.object({ reservation: reservationSchema, audit: auditRecordSchema }).meta({ id: 'ReservationRelease' });
export type ReleaseResult = z.infer<typeof releaseResultSchema>;

const RELEASE_ATTEMPTS = 4;

/**
 * The operator escape hatch: release an owner's unresolved reservation, so the owner may provision
 * again. Refused while the reservation's provision execution still runs (its own steps resolve the
 * reservation) and when it is resolved already. The release and its audit record are one
 * transaction, fenced by the status and version read, so a release that raced a workflow step or
 * a new admission is decided again on fresh state rather than applied to something nobody looked at.
 * An instance that still carries the provision's claim is made due in the same transaction: the
 * reservation was what brought the reconcile sweep to it.
 */
export async function releaseReservation(deps: Deps, owner: string, actor: string, request: ReleaseRequest): Promise<ReleaseResult> {
  for (let attempt = 1; ; attempt++) {
    const current = await readReservation(deps, owner);
    if (!current) throw new ReservationNotFoundError(owner);
    if (!(RESERVATION_RULES.operatorRelease.from as readonly ReservationStatus[]).includes(current.status)) {
      throw new ReservationNotReleasableError(owner, current.status);
    }
    const execution = await describeOperation(deps, { kind: 'provision', executionName: current.executionName });
    if (execution.status === 'RUNNING') throw new ExecutionStillRunningError(execution.executionArn ?? current.executionName, { context: { owner } });
    const instance = await readInstance(deps, current.instanceId);
    const stillClaimed = instance?.claim === current.executionName;

    const audit = auditRecord(deps, {
      owner,
      action: 'reservation.release',
      actor,
      reason: request.reason,
      before: { status: current.status, version: current.version, instanceId: current.instanceId },
    });
    const release: TransactItem = {
      Update: ownerItemUpdate(
        deps,
        owner,
        { set: { status: RESERVATION_RULES.operatorRelease.to, releasedBy: actor, releasedAt: audit.at, releaseReason: request.reason }, remove: ['attentionShard', 'attentionAt'] },
        { status: current.status, version: current.version },
        audit.at,
      ),
    };
    const due = stillClaimed ? [fencedUpdateItem(deps, current.instanceId, current.executionName, { set: attentionAt(keys.instance(current.instanceId).pk, deps.now()) })] : [];
    try {
      await transactWrite(deps, [release, auditPutItem(deps, audit), ...due]);
    } catch (error) {
      if (!(error instanceof TransactionConditionFailedError) && !(error instanceof TransactionConflictError)) throw error;
      if (attempt >= RELEASE_ATTEMPTS) throw new ContentionTimeoutError({ cause: error, context: { owner, attempts: attempt } });
      // The reservation (or its instance) moved since we read it: decide again on what it is now.
      await pause(jitter(backoff(attempt, { base: 10 }), 1));
      continue;
    }
    deps.logger.info('audit: reservation released by operator', { audit, instanceMadeDue: stillClaimed });
    // Exactly what the fenced write made of the item we read.
    const { attentionShard: _shard, attentionAt: _attention, ...rest } = current as ReservationItem & { attentionShard?: string; attentionAt?: string };
    return {
      reservation: { ...rest, status: RESERVATION_RULES.operatorRelease.to, releasedBy: actor, releasedAt: audit.at, releaseReason: request.reason, updatedAt: audit.at },
      audit,
    };
  }
}

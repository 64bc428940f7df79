import { createHash } from 'node:crypto';
import * as z from 'zod';
import { keys } from '../../store/keys';
import { TransactionConditionFailedError, TransactionConflictError } from '../../store/errors';
import { newInstancePut } from '../../store/instance';
import { nameClaimPut } from '../../store/instance-name';
import { batchGetItems, transactWrite } from '../../store/table';
import { executionArnOf, startNamedExecution } from '../../adapters/workflows';
import { ContentionTimeoutError, IdempotencyKeyReusedError, NameTakenError, ProvisionInProgressError, QuotaExceededError, ReconciliationPendingError } from '../../shared/errors/refusals';
import { WorkflowUnavailableError } from '../../shared/errors/workflow';
import { stateMachineArn, type Deps } from '../../composition/deps';
import type { TransactItem } from '../../domain/fence';
import { MACHINE_SIZES } from '../../providers/compute-provider';
import { executionName, instanceViewSchema, toInstanceView, type InstanceItem } from '../../domain/instance';
import { choosePlacement, type Placement } from '../../domain/placement';
import { backoff, jitter, pause } from '../../shared/retry';
import type { Owner } from '../../domain/owner';
import { noteHeld, takeTurn } from './admission-lanes';
import { admissionItem, isUnresolved, quotaOf, type OwnerItem } from '../../domain/reservation';

/** An instance's name: unique among its owner's live instances, so it can address one. */
export const instanceNameSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and dashes, 1-63 characters');

/** The body of `POST /v1/instances`; strict, so unknown fields (status, owner, …) are refused. */
export const provisionRequestSchema = z.strictObject({
  name: instanceNameSchema.optional(),
  provider: z.string().min(1).max(64).optional().meta({ description: 'A configured provider (GET /v1/providers); the default one when absent' }),
  region: z.string().regex(/^[a-z0-9-]{2,32}$/).optional(),
  size: z.enum(MACHINE_SIZES).optional(),
  image: z.string().min(1).max(256).optional(),
  volumeSizeGb: z.number().int().min(1).max(500).optional(),
});
export type ProvisionRequest = z.infer<typeof provisionRequestSchema>;

/** The input of every provision execution; fully determined by the instance item, so a replay or the sweep starts the same one. */
export interface ProvisionExecutionInput {
  instanceId: string;
  owner: string;
  provider: string;
  region: string;
  size: string;
  image: string;
  volumeSizeGb: number;
  /** The correlation id of the request (or sweep) that started it. */
  correlationId: string;
}

/** What admission answers (202). */
export const admissionResultSchema = z
  .object({
    // By reference (no field-level metadata), so the document and generated types share Instance.
    /** The instance as admitted (the same on every replay). */
    instance: instanceViewSchema,
    operation: z.object({ kind: z.literal('provision'), executionName: z.string(), executionArn: z.string() }),
    /** Only on a replay of the Idempotency-Key: the instance as it is now (a replay never starts finished work again). */
    current: instanceViewSchema.optional(),
  })
  .meta({
    id: 'Admission',
    description:
      'instance: as admitted (the same on every replay). current: only on a replay of the Idempotency-Key, the instance as it is now; a replay never starts finished work again, so after a destroy it answers 202 with instance.status provisioning and current.status destroyed: read current.',
  });
export type AdmissionResult = z.infer<typeof admissionResultSchema>;

/** Attempts at the admission transaction while DynamoDB reports conflicts with concurrent transactions. */
const MAX_ATTEMPTS = 8;

/**
 * Hash of what makes two requests "the same" for an Idempotency-Key: the owner and the body.
 * 128 bits in base64url: equality is all it is for, and it lives on every instance item.
 */
export function requestHash(owner: Owner, body: ProvisionRequest): string {
  const canonical = JSON.stringify([owner, Object.entries(body).sort(([a], [b]) => a.localeCompare(b))]);
  return createHash('sha256').update(canonical).digest().subarray(0, 16).toString('base64url');
}

/** Crockford's base32, lowercase so ids fit execution names and hostnames. */
const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * The instance an owner's Idempotency-Key provisions: `i-` and 26 base32 digits (130 bits) of a
 * hash of owner and key. Deterministic, so the instance item is the key's idempotency record —
 * admission's `attribute_not_exists` on it refuses a second provision for the same key, and a
 * replay finds the original — and admission writes two items instead of three.
 */
export function instanceIdFor(owner: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`slipway/instance\0${owner}\0${idempotencyKey}`).digest();
  let bits = 0;
  let value = 0;
  let id = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && id.length < 26) {
      id += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (id.length === 26) break;
  }
  return `i-${id}`;
}

/** What admission needs to decide: the key's instance (a replay) and the owner item (gate and quota). */
interface AdmissionState {
  instance: InstanceItem | null;
  owner: OwnerItem | null;
}

/** Read the owner item and the given instances in one round trip, strongly consistent. */
async function readAdmissionStates(deps: Deps, owner: string, instanceIds: string[]): Promise<Map<string, AdmissionState>> {
  const ownerKey = keys.reservation(owner);
  const items = await batchGetItems<Record<string, unknown>>(deps, [ownerKey, ...instanceIds.map((id) => keys.instance(id))]);
  const found = new Map(items.map((item) => [`${String(item.pk)}/${String(item.sk)}`, item]));
  const ownerItem = (found.get(`${ownerKey.pk}/${ownerKey.sk}`) as OwnerItem | undefined) ?? null;
  return new Map(
    instanceIds.map((id) => {
      const key = keys.instance(id);
      return [id, { instance: (found.get(`${key.pk}/${key.sk}`) as InstanceItem | undefined) ?? null, owner: ownerItem }];
    }),
  );
}

/** Read one admission's state. */
async function readAdmissionState(deps: Deps, owner: string, instanceId: string): Promise<AdmissionState> {
  return (await readAdmissionStates(deps, owner, [instanceId])).get(instanceId)!;
}

/** A refusal, noted on the owner's lane when it says the reservation is held (so the next ones read first). */
function held(deps: Deps, owner: string, refusal: Error): Error {
  if (refusal instanceof ProvisionInProgressError || refusal instanceof ReconciliationPendingError) noteHeld(deps, owner);
  return refusal;
}

/** What the owner item says about a new admission: refused (409, 429), or free to try. */
function gateVerdict(deps: Deps, owner: string, item: OwnerItem | null): Error | null {
  if (isUnresolved(item)) {
    if (item.status === 'needs_reconciliation') return new ReconciliationPendingError(item.instanceId);
    return new ProvisionInProgressError(item.instanceId, { context: { owner } });
  }
  const quota = quotaOf(deps, item);
  if (quota.activeInstances >= quota.limit) return new QuotaExceededError(quota.limit);
  return null;
}

/**
 * Admit a provision. The instance id derives from owner and Idempotency-Key, so one transaction of
 * two items decides everything: the instance (new: a replay otherwise) and the owner reservation
 * item (no unresolved reservation, a quota slot free; it takes both, bumps the fencing token and
 * carries the reservation's deadline on the attention index). Then the provision execution starts
 * by its deterministic name.
 *
 * Losers learn fast. Admissions of one owner in one process take turns at the transaction
 * (`admission-lanes.ts`): one that finds no other in flight (and its owner's reservation not seen
 * held in the last second) transacts at once, and its conditions answer it (a failed condition
 * returns the item: who holds the gate, which limit, or the key's instance); the others are
 * decided by one shared consistent read — so 63 losers of a 64-way race learn from one read
 * instead of queueing at DynamoDB. A transaction conflict (another process) reads again at once, which answers a held
 * reservation with 409 without another transaction; only conflicts that persist end as 503
 * `contention`, never as a 409. With `admissionReadsFirst`, every admission reads before its
 * transaction (the bench measures both).
 */
export async function admitProvision(deps: Deps, owner: Owner, idempotencyKey: string, body: ProvisionRequest): Promise<AdmissionResult> {
  const hash = requestHash(owner, body);
  const smArn = stateMachineArn(deps, 'provision');
  // Refused before anything is written: a provision that cannot run is never admitted.
  const placement = choosePlacement(deps.settings, body);
  const instanceId = instanceIdFor(owner, idempotencyKey);
  const wouldWrite = (state: AdmissionState) => !state.instance && gateVerdict(deps, owner, state.owner) === null;
  // The ended instance whose name this admission takes over, once a failed name condition showed one.
  let nameTakeoverFrom: string | undefined;
  for (let attempt = 1; ; attempt++) {
    let release: (() => void) | undefined;
    try {
      // After a failed try, always read: it is what tells a loser at once that the reservation is held.
      const turn = await takeTurn(deps, owner, instanceId, readAdmissionStates, wouldWrite, { readFirst: deps.settings.admissionReadsFirst || attempt > 1 });
      release = turn.release;
      if (turn.state) {
        if (turn.state.instance) return await replay(deps, turn.state.instance, hash, smArn, turn.state.owner);
        const refused = gateVerdict(deps, owner, turn.state.owner);
        if (refused) throw held(deps, owner, refused);
        // After a conflict with another process, spread the next try so the same contenders do not collide again in lockstep.
        if (attempt > 1) await pause(jitter(backoff(attempt, { base: 1, cap: 64 })));
      }
      const draft = draftAdmission(deps, owner, instanceId, idempotencyKey, hash, body, placement, smArn, deps.now());
      try {
        await transactWrite(deps, admissionWrites(deps, draft, nameTakeoverFrom));
      } catch (error) {
        if (error instanceof TransactionConditionFailedError) {
          // The items in admissionWrites' order: the key's instance, the owner item, the name claim.
          const existing = error.itemAt<InstanceItem>(0);
          // The key's instance exists: a replay (DynamoDB returned the item as it is).
          if (existing) return await replay(deps, existing, hash, smArn, null);
          if (error.failedAt(1)) {
            const refused = gateVerdict(deps, owner, error.itemAt<OwnerItem>(1) ?? null);
            if (refused) throw held(deps, owner, refused);
          }
          if (error.failedAt(2) && body.name) {
            // The name is held: by a live instance (409), or by one that has ended (taken over on the next try).
            const holder = error.itemAt<{ instanceId?: string }>(2)?.instanceId;
            const holderItem = holder ? (await readAdmissionState(deps, owner, holder)).instance : null;
            if (holder && holderItem && !NAME_FREEING_STATUSES.includes(holderItem.status)) throw new NameTakenError(body.name, holder);
            nameTakeoverFrom = holder;
          }
          // It changed between our read and write: decide again on what it is now.
          if (attempt >= MAX_ATTEMPTS) throw new ContentionTimeoutError({ cause: error, context: { owner, attempts: attempt } });
          continue;
        }
        if (!(error instanceof TransactionConflictError)) throw error;
        if (attempt >= MAX_ATTEMPTS) throw new ContentionTimeoutError({ cause: error, context: { owner, attempts: attempt } });
        continue;
      }
      // The turn ends with the transaction: the owner's next waiters read the reservation it took.
      noteHeld(deps, owner);
      release?.();
      release = undefined;
      deps.logger.info('provision admitted', { owner, instanceId, executionName: draft.result.operation.executionName });
      deps.metrics.count('ProvisionAdmitted', { provider: placement.provider });
      await startExecutionOrExplain(deps, smArn, draft.result.operation.executionName, provisionExecutionInput(draft.item, deps.correlationId));
      return draft.result;
    } finally {
      release?.();
    }
  }
}

/**
 * Start the admitted execution. If Step Functions is unreachable the admission still stands: the
 * caller retries with the same Idempotency-Key (the replay starts it), and the reservation's
 * deadline brings the reconcile sweep otherwise.
 */
async function startExecutionOrExplain(deps: Deps, smArn: string, name: string, input: ProvisionExecutionInput): Promise<void> {
  try {
    await startNamedExecution(deps.sfn, smArn, name, { ...input });
  } catch (error) {
    throw new WorkflowUnavailableError(name, { cause: error });
  }
}

/** The execution input of an instance's provision (the same whoever starts it). */
export function provisionExecutionInput(item: InstanceItem, correlationId: string | undefined): ProvisionExecutionInput {
  return {
    instanceId: item.instanceId,
    owner: item.owner,
    provider: item.provider,
    region: item.region,
    size: item.size,
    image: item.image,
    volumeSizeGb: item.volumeSizeGb,
    correlationId: correlationId ?? executionName(item.instanceId, 'provision', 1),
  };
}

/** The 202 an instance's admission answered: rebuilt from the fields admission wrote and nothing since changed. */
function admissionResultOf(item: InstanceItem, smArn: string): AdmissionResult {
  const name = executionName(item.instanceId, 'provision', 1);
  return {
    instance: {
      ...toInstanceView(item),
      status: 'provisioning',
      machineId: null,
      volumeId: null,
      endpoint: null,
      currentOperation: { kind: 'provision', executionName: name },
      lastStartError: null,
      lastDestroyError: null,
      lastRecoveryError: null,
      lastStopError: null,
      updatedAt: item.createdAt,
    },
    operation: { kind: 'provision', executionName: name, executionArn: executionArnOf(smArn, name) },
  };
}

/** One admission as it will be written. */
interface Draft {
  item: InstanceItem;
  result: AdmissionResult;
  owner: Owner;
  idempotencyKey: string;
  deadline: string;
  now: string;
  /** The name the caller asked for (an instance without one is named by its id, which is unique already). */
  requestedName?: string;
}

function draftAdmission(
  deps: Deps,
  owner: Owner,
  instanceId: string,
  idempotencyKey: string,
  hash: string,
  body: ProvisionRequest,
  placement: Placement,
  smArn: string,
  now: Date,
): Draft {
  const at = now.toISOString();
  const name = executionName(instanceId, 'provision', 1);
  const item: InstanceItem = {
    ...keys.instance(instanceId),
    type: 'instance',
    instanceId,
    owner,
    name: body.name ?? instanceId,
    status: 'provisioning',
    provider: placement.provider,
    region: placement.region,
    size: placement.size,
    image: body.image ?? deps.settings.defaultImage,
    volumeSizeGb: body.volumeSizeGb ?? 1,
    claim: name,
    operation: 'provision',
    version: 1,
    countsTowardQuota: true,
    requestHash: hash,
    operations: [{ kind: 'provision', executionName: name, requestedAt: at }],
    createdAt: at,
    updatedAt: at,
  };
  const deadline = new Date(now.getTime() + deps.settings.reservationDeadlineSeconds * 1000).toISOString();
  return { item, result: admissionResultOf(item, smArn), owner, idempotencyKey, deadline, now: at, requestedName: body.name };
}

/**
 * The claim of a requested name, written with the admission: only when no live instance of the
 * owner holds it. A name held by an instance that has ended (destroyed, failed) or is gone is
 * taken over, fenced on that holder (`takeoverFrom`), so two admissions cannot both take it.
 */
function nameClaim(deps: Deps, draft: Draft, takeoverFrom: string | undefined): TransactItem {
  return nameClaimPut(deps, { owner: draft.owner, name: draft.item.name, instanceId: draft.item.instanceId, at: draft.now }, takeoverFrom);
}

/** Statuses after which an instance no longer holds its name. */
const NAME_FREEING_STATUSES: readonly string[] = ['destroyed', 'failed'];

/**
 * Admission's transaction: the instance (new; it is also the key's idempotency record, and on the
 * owner index so listings show it at once) and the owner reservation item (gate, quota slot,
 * fencing token, deadline on the attention index). The instance is first: when both conditions
 * fail, its answer (a replay) is the one that counts. A requested name is claimed third.
 */
export function admissionWrites(deps: Deps, draft: Draft, nameTakeoverFrom?: string): TransactItem[] {
  const { item } = draft;
  const named = draft.requestedName !== undefined;
  return [
    // The instance is its owner's (`draftAdmission`), so the owner index is the draft owner's.
    newInstancePut(deps, item),
    admissionItem(deps, {
      owner: draft.owner,
      instanceId: item.instanceId,
      executionName: draft.result.operation.executionName,
      idempotencyKey: draft.idempotencyKey,
      deadline: draft.deadline,
      now: draft.now,
    }),
    ...(named ? [nameClaim(deps, draft, nameTakeoverFrom)] : []),
  ];
}

/** A draft admission's writes, for the bench's bare transaction of the very same items. */
export function admissionWritesFor(deps: Deps, owner: Owner, idempotencyKey: string, body: ProvisionRequest): TransactItem[] {
  const placement = choosePlacement(deps.settings, body);
  const instanceId = instanceIdFor(owner, idempotencyKey);
  return admissionWrites(deps, draftAdmission(deps, owner, instanceId, idempotencyKey, requestHash(owner, body), body, placement, stateMachineArn(deps, 'provision'), deps.now()));
}

/**
 * The same key again: the original 202 with the instance as it is now — or 422 when the body
 * differs. Only a provision that has not started yet (its reservation still `admitted`, the
 * instance still claimed by it) is started, by its deterministic name; finished work never is.
 */
async function replay(deps: Deps, instance: InstanceItem, hash: string, smArn: string, ownerItem: OwnerItem | null): Promise<AdmissionResult> {
  if (instance.requestHash !== hash) throw new IdempotencyKeyReusedError({ context: { owner: instance.owner, instanceId: instance.instanceId } });
  const original = admissionResultOf(instance, smArn);
  const name = original.operation.executionName;
  if (instance.claim === name && instance.status === 'provisioning') {
    const reservation = ownerItem ?? (await readAdmissionState(deps, instance.owner, instance.instanceId)).owner;
    // The request that admitted it may have died between its transaction and StartExecution.
    if (reservation?.instanceId === instance.instanceId && reservation.status === 'admitted') {
      await startExecutionOrExplain(deps, smArn, name, provisionExecutionInput(instance, deps.correlationId));
    }
  }
  return { ...original, current: toInstanceView(instance) };
}

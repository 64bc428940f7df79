import { createHash, randomInt } from 'node:crypto';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import * as z from 'zod';
import { cancellationCodes, isTransactionConflict, keys, ttlAfter } from '../adapters/dynamo';
import { after, attentionAt } from './attention';
import { executionArnOf, startNamedExecution } from '../adapters/workflows';
import {
  ContentionTimeoutError,
  IdempotencyKeyReusedError,
  ProvisionInProgressError,
  QuotaExceededError,
  ReconciliationPendingError,
  WorkflowUnavailableError,
} from '../shared/errors';
import { stateMachineArn, type Deps } from '../shared/deps';
import type { TransactItem } from './fence';
import { MACHINE_SIZES } from '../providers/compute-provider';
import { executionName, instanceViewSchema, toInstanceView, type InstanceItem } from './instance';
import { choosePlacement, type Placement } from './placement';
import { takeQuotaSlotItem, type Owner } from './owner';
import { admitReservationItem, type ReservationItem } from './reservation';

/** The body of `POST /v1/instances`; strict, so unknown fields (status, owner, …) are refused. */
export const provisionRequestSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and dashes, 1-63 characters').optional(),
  provider: z.string().min(1).max(64).optional().meta({ description: 'A configured provider (GET /v1/providers); the default one when absent' }),
  region: z.string().regex(/^[a-z0-9-]{2,32}$/).optional(),
  size: z.enum(MACHINE_SIZES).optional(),
  image: z.string().min(1).max(256).optional(),
  volumeSizeGb: z.number().int().min(1).max(500).optional(),
});
export type ProvisionRequest = z.infer<typeof provisionRequestSchema>;

/** The input of every provision execution; fully determined by the admission record, so a replay starts the same execution. */
export interface ProvisionExecutionInput {
  instanceId: string;
  owner: string;
  provider: string;
  region: string;
  size: string;
  image: string;
  volumeSizeGb: number;
  /** The admitting request's correlation id, so a replay starts the very same input. */
  correlationId: string;
}

/** What admission answers (202). */
export const admissionResultSchema = z
  .object({
    instance: instanceViewSchema,
    operation: z.object({ kind: z.literal('provision'), executionName: z.string(), executionArn: z.string() }),
  })
  .meta({ id: 'Admission' });
export type AdmissionResult = z.infer<typeof admissionResultSchema>;

interface IdempotencyItem {
  requestHash: string;
  result: AdmissionResult;
  executionInput: ProvisionExecutionInput;
}

const MAX_ATTEMPTS = 8;

/** Hash of what makes two requests "the same" for an Idempotency-Key: the owner and the body. */
export function requestHash(owner: Owner, body: ProvisionRequest): string {
  const canonical = JSON.stringify([owner, Object.entries(body).sort(([a], [b]) => a.localeCompare(b))]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** A new instance id: sortable by time, lowercase so it fits execution names and hostnames. */
export function newInstanceId(): string {
  return `i-${ulid().toLowerCase()}`;
}

/**
 * Admit a provision with one transaction: the idempotency record (new key), the owner's
 * reservation (none unresolved), the instance (new) and the owner's quota (below limit). Then start
 * the provision execution by its deterministic name. A transaction conflict is retried briefly and
 * then reported as contention (503), never as a 409.
 */
export async function admitProvision(deps: Deps, owner: Owner, idempotencyKey: string, body: ProvisionRequest): Promise<AdmissionResult> {
  const hash = requestHash(owner, body);
  const smArn = stateMachineArn(deps, 'provision');
  // Refused before anything is written: a provision that cannot run is never admitted.
  const placement = choosePlacement(deps.settings, body);
  for (let attempt = 1; ; attempt++) {
    const now = deps.now();
    const draft = draftAdmission(deps, owner, body, placement, smArn, now);
    try {
      await deps.db.send(new TransactWriteCommand({ TransactItems: admissionWrites(deps, owner, idempotencyKey, hash, draft, now) }));
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes && !isTransactionConflict(error)) {
        const [idem, reservation, , quota] = codes;
        if (idem?.code === 'ConditionalCheckFailed') return replay(deps, owner, idempotencyKey, hash, smArn);
        if (reservation?.code === 'ConditionalCheckFailed') {
          const held = reservation.item as Partial<ReservationItem> | undefined;
          if (held?.status === 'needs_reconciliation') throw new ReconciliationPendingError(held.instanceId ?? 'unknown');
          if (held) throw new ProvisionInProgressError(held.instanceId ?? 'unknown', { context: { owner } });
          continue; // resolved between our read and write: go again
        }
        if (quota?.code === 'ConditionalCheckFailed') {
          const ownerItem = quota.item as { instanceLimit?: number } | undefined;
          throw new QuotaExceededError(ownerItem?.instanceLimit ?? deps.settings.defaultInstanceLimit);
        }
        throw error;
      }
      if (!isTransactionConflict(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) throw new ContentionTimeoutError({ cause: error, context: { owner, attempts: attempt } });
      // Full jitter keeps 64 contenders from colliding again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, randomInt(1, 10 * 2 ** attempt)));
      continue;
    }
    deps.logger.info('provision admitted', { owner, instanceId: draft.item.instanceId, executionName: draft.result.operation.executionName });
    deps.metrics.count('ProvisionAdmitted', { provider: placement.provider });
    await startExecutionOrExplain(deps, smArn, draft.result.operation.executionName, draft.executionInput);
    return draft.result;
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

function draftAdmission(deps: Deps, owner: Owner, body: ProvisionRequest, placement: Placement, smArn: string, now: Date) {
  const instanceId = newInstanceId();
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
    operations: [{ kind: 'provision', executionName: name, requestedAt: at }],
    createdAt: at,
    updatedAt: at,
  };
  const executionInput: ProvisionExecutionInput = {
    instanceId,
    owner,
    provider: item.provider,
    region: item.region,
    size: item.size,
    image: item.image,
    volumeSizeGb: item.volumeSizeGb,
    correlationId: deps.correlationId ?? name,
  };
  const result: AdmissionResult = {
    instance: toInstanceView(item),
    operation: { kind: 'provision', executionName: name, executionArn: executionArnOf(smArn, name) },
  };
  return { item, executionInput, result };
}

function admissionWrites(
  deps: Deps,
  owner: Owner,
  idempotencyKey: string,
  hash: string,
  draft: ReturnType<typeof draftAdmission>,
  now: Date,
): TransactItem[] {
  const deadline = new Date(now.getTime() + deps.settings.reservationDeadlineSeconds * 1000).toISOString();
  const { item } = draft;
  return [
    {
      Put: {
        TableName: deps.tableName,
        Item: {
          ...keys.idempotency(owner, idempotencyKey),
          type: 'idempotency',
          requestHash: hash,
          result: draft.result,
          executionInput: draft.executionInput,
          expiresAt: ttlAfter(now, deps.settings.idempotencyTtlSeconds),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    admitReservationItem(deps, {
      owner,
      instanceId: item.instanceId,
      executionName: draft.result.operation.executionName,
      idempotencyKey,
      requestHash: hash,
      deadline,
      now: now.toISOString(),
    }),
    {
      Put: {
        TableName: deps.tableName,
        // The claim is looked at like any other once the provision has had its time.
        Item: { ...item, ...keys.ownerIndex(owner, item.createdAt, item.instanceId), ...attentionAt(item.pk, after(now, deps.settings.claimTimeoutSeconds.provision)) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    takeQuotaSlotItem(deps, owner, now.toISOString()),
  ];
}

/** Same key: the original 202 if the body matches (and make sure its execution exists), else 422. */
async function replay(deps: Deps, owner: Owner, idempotencyKey: string, hash: string, smArn: string): Promise<AdmissionResult> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.idempotency(owner, idempotencyKey), ConsistentRead: true }));
  const record = out.Item as IdempotencyItem | undefined;
  if (!record) throw new ContentionTimeoutError({ context: { owner, reason: 'idempotency record vanished' } });
  if (record.requestHash !== hash) throw new IdempotencyKeyReusedError({ context: { owner } });
  // The original request may have died between its transaction and StartExecution.
  await startExecutionOrExplain(deps, smArn, record.result.operation.executionName, record.executionInput);
  return record.result;
}

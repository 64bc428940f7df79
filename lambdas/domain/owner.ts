/**
 * Owners and their quota. An owner is a user (`user:<sub>`) or an organisation (`org:<id>`). Its
 * quota — how many instances hold a slot (`activeInstances`) and its own limit (`instanceLimit`,
 * the configured default while unset) — lives on the owner reservation item, whose home module
 * (`reservation.ts`) holds every write to it; this module holds the quota's views and the
 * operator's audited limit change.
 */
import * as z from 'zod';
import { TransactionConditionFailedError, TransactionConflictError } from '../store/errors';
import { transactWrite } from '../store/table';
import type { Deps } from '../composition/deps';
import { ContentionTimeoutError } from '../shared/errors/refusals';
import { backoff, jitter, retry } from '../shared/retry';
import { auditPutItem, auditRecord, auditRecordSchema } from './audit';
import { instanceLimitItem, quotaOf, readOwnerItem } from './reservation';

/** An owner: a user (`user:<sub>`) or an organisation (`org:<id>`). */
export const ownerSchema = z.string().regex(/^(user|org):[A-Za-z0-9._@|:-]{1,128}$/, 'must be user:<id> or org:<id>');
export type Owner = z.infer<typeof ownerSchema>;

/** The owner key of a token subject. */
export function userOwner(sub: string): Owner {
  return `user:${sub}`;
}

/** An owner's quota as callers and operators see it. */
export const quotaSchema = z.object({ activeInstances: z.number().int(), limit: z.number().int() });
export type Quota = z.infer<typeof quotaSchema>;

/** Body of `PUT /v1/admin/owners/{owner}/quota`. */
export const setQuotaRequestSchema = z.strictObject({
  limit: z.number().int().min(0).max(1000),
  reason: z.string().min(3).max(500),
});
export type SetQuotaRequest = z.infer<typeof setQuotaRequestSchema>;

/** The owner's quota after a change, with the stored audit record. */
export const quotaChangeSchema = quotaSchema.extend({ owner: z.string(), audit: auditRecordSchema }).meta({ id: 'OwnerQuota' });
export type QuotaChange = z.infer<typeof quotaChangeSchema>;

const SET_ATTEMPTS = 4;

/**
 * Set an owner's instance limit (admission's conditional write reads it; the configured default
 * applies while unset). Lowering it below the live count only stops new admissions. The change
 * and its audit record are written together, fenced by the limit the record says was replaced.
 */
export async function setOwnerQuota(deps: Deps, owner: string, actor: string, request: SetQuotaRequest): Promise<QuotaChange> {
  const { before, audit } = await retry(
    async () => {
      const before = await readOwnerItem(deps, owner);
      const previous = before?.instanceLimit ?? null;
      const audit = auditRecord(deps, { owner, action: 'quota.set', actor, reason: request.reason, before: { limit: previous, defaultLimit: deps.settings.defaultInstanceLimit } });
      await transactWrite(deps, [instanceLimitItem(deps, owner, request.limit, previous), auditPutItem(deps, audit)]);
      return { before, audit };
    },
    {
      attempts: SET_ATTEMPTS,
      // Another operator changed it since we read it: record what we replace, read again.
      retryable: (error) => error instanceof TransactionConditionFailedError || error instanceof TransactionConflictError,
      delayMs: (attempt) => jitter(backoff(attempt, { base: 10 }), 1),
      exhausted: (error, attempts) => new ContentionTimeoutError({ cause: error, context: { owner, attempts } }),
    },
  );
  deps.logger.info('owner quota set', { owner, actor, limit: request.limit, reason: request.reason });
  return { owner, activeInstances: quotaOf(deps, before).activeInstances, limit: request.limit, audit };
}

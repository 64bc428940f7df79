/**
 * The operator's "attention" read: what the sweeps see as due now, and what is parked for an
 * operator, read from the sparse attention index shard by shard (Query, never Scan), merged
 * oldest first and paged. Each item is named by the first subject in `ATTENTION_SUBJECTS` it
 * matches, so a new kind of item (a retained volume whose ownership cannot be verified, say) joins
 * the view with one entry there.
 */
import * as z from 'zod';
import type { Deps } from '../composition/deps';
import { InvalidCursorError } from '../shared/errors/http';
import { attentionShards } from '../store/keys';
import { attentionShardPage, indexKeyOf, PARKED_PREFIX, type AttentionBand, type DueItem } from '../domain/attention';
import { UNRESOLVED_STATUSES, type ReservationStatus } from '../domain/reservation';
import type { ErrorRecord } from '../domain/instance';
import { ERROR_FIELDS } from '../operations/registry';

/** A kind of item the attention view names, and how to tell one. */
export interface AttentionSubject {
  subject: string;
  /** What an operator reads. */
  label: string;
  /** The alarm whose subject this is, when one fires for it. */
  alarm?: string;
  matches: (item: DueItem) => boolean;
}

const isInstance = (item: DueItem) => item.sk === 'INSTANCE';
const isReservation = (item: DueItem) => item.sk === 'RESERVATION';
const isVolume = (item: DueItem) => item.type === 'volume';

/** Every subject, most pressing first; an item is named by the first that matches. */
export const ATTENTION_SUBJECTS: readonly AttentionSubject[] = [
  { subject: 'volume-ownership-unverified', label: 'Retained volume whose ownership could not be proven: never deleted automatically', alarm: 'VolumeOwnershipUnverifiedAlarm', matches: (item) => isVolume(item) && item.state === 'ownership_unverified' },
  { subject: 'volume-cleanup-exhausted', label: 'Retained volume whose delete exhausted its tries: left for an operator', alarm: 'VolumeCleanupExhaustedAlarm', matches: (item) => isVolume(item) && item.state === 'cleanup_exhausted' },
  { subject: 'volume-retention-over', label: 'Retained volume past retainUntil: the volume-cleanup sweep deletes it', alarm: 'VolumeCleanupSweepErrorsAlarm', matches: (item) => isVolume(item) },
  { subject: 'cleanup-exhausted', label: 'Cleanup exhausted its tries: left for an operator', alarm: 'CleanupExhaustedAlarm', matches: (item) => isInstance(item) && typeof item.cleanupExhaustedAt === 'string' },
  { subject: 'destroy-parked', label: 'Destroy that failed its capped tries: left for an operator (quota slot already freed)', alarm: 'DestroyParkedAlarm', matches: (item) => isInstance(item) && typeof item.destroyParkedAt === 'string' },
  { subject: 'needs-reconciliation', label: 'Reservation needs reconciliation', alarm: 'NeedsReconciliationAlarm', matches: (item) => isReservation(item) && item.status === 'needs_reconciliation' },
  { subject: 'cleanup-retrying', label: 'Failed provision still holding its quota slot: cleanup retrying', alarm: 'NeedsReconciliationAlarm', matches: (item) => isInstance(item) && item.status === 'failed' && item.countsTowardQuota === true },
  { subject: 'destroy-retrying', label: 'Destroy that failed or was lost: the sweep runs it again', alarm: 'OldestDueItemAlarm', matches: (item) => isInstance(item) && item.status === 'destroying' && typeof item.claim !== 'string' },
  { subject: 'claim-past-due', label: 'Claimed operation: the sweep looks up its execution', alarm: 'OldestDueItemAlarm', matches: (item) => isInstance(item) && typeof item.claim === 'string' },
  { subject: 'reservation-past-deadline', label: 'Reservation past its deadline', alarm: 'OldestDueItemAlarm', matches: (item) => isReservation(item) && UNRESOLVED_STATUSES.includes(item.status as ReservationStatus) },
  { subject: 'drift-check', label: 'Running instance still on the index (from before the fleet inventory; its next look takes it off)', matches: (item) => isInstance(item) && item.status === 'running' },
  { subject: 'other', label: 'Due for a sweep', matches: () => true },
];

/** One item the view lists. */
export const attentionItemSchema = z
  .object({
    subject: z.string(),
    label: z.string(),
    alarm: z.string().nullable(),
    kind: z.string().meta({ description: 'What the item is: instance, reservation, …' }),
    owner: z.string().nullable(),
    instanceId: z.string().nullable(),
    status: z.string().nullable(),
    claim: z.string().nullable(),
    since: z.string().meta({ description: 'When it became due (or was parked), ISO 8601' }),
    overdueSeconds: z.number(),
    detail: z.string().nullable().meta({ description: 'Its last error or what it waits for' }),
    tries: z.number().int().nullable(),
  })
  .meta({ id: 'AttentionItem' });
export type AttentionItem = z.infer<typeof attentionItemSchema>;

/** A page of the view. */
export const attentionPageSchema = z
  .object({ band: z.enum(['due', 'parked']), items: z.array(attentionItemSchema).meta({ description: 'Oldest first' }), nextCursor: z.string().nullable() })
  .meta({ id: 'AttentionPage' });
export type AttentionPage = z.infer<typeof attentionPageSchema>;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The error that explains why an item is due: the latest of its cleanup's and every operation's
 * error field (from the registry, so a new operation's failures show without a line here), else a
 * retained volume's own `lastError`.
 */
function latestError(item: DueItem): { message?: string } | undefined {
  const recorded = ['lastCleanupError', ...ERROR_FIELDS].map((field) => item[field] as ErrorRecord | undefined).filter((error): error is ErrorRecord => error !== undefined);
  return recorded.sort((a, b) => b.at.localeCompare(a.at))[0] ?? (item.lastError as { message?: string } | undefined);
}

/** An index item as the view shows it. */
function viewOf(item: DueItem, now: Date): AttentionItem {
  const subject = ATTENTION_SUBJECTS.find((candidate) => candidate.matches(item))!;
  const since = item.attentionAt.startsWith(PARKED_PREFIX) ? item.attentionAt.slice(PARKED_PREFIX.length) : item.attentionAt;
  const lastError = latestError(item);
  return {
    subject: subject.subject,
    label: subject.label,
    alarm: subject.alarm ?? null,
    kind: text(item.type) ?? item.sk.toLowerCase(),
    owner: text(item.owner),
    instanceId: text(item.instanceId),
    status: text(item.status),
    claim: text(item.claim) ?? (isReservation(item) ? text(item.executionName) : null),
    since,
    overdueSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(since)) / 1000)),
    detail: lastError?.message ?? null,
    tries: typeof item.reconcileTries === 'number' ? item.reconcileTries : typeof item.destroyTries === 'number' ? item.destroyTries : typeof item.tries === 'number' ? item.tries : null,
  };
}

type Cursor = { b: AttentionBand; s: Array<Record<string, unknown> | 0 | 1> };
const isCursor = (value: unknown): value is Cursor =>
  typeof value === 'object' && value !== null && ((value as Cursor).b === 'due' || (value as Cursor).b === 'parked') && Array.isArray((value as Cursor).s);

/** The listing attention cursors continue (sealed like every cursor: `adapters/cursors.ts`). */
const CURSOR_SCOPE = 'admin:attention';

async function decodeCursor(deps: Deps, cursor: string, band: AttentionBand, shards: number): Promise<Cursor> {
  const value = await deps.cursors.open(cursor, CURSOR_SCOPE);
  if (isCursor(value) && value.b === band && value.s.length === shards) return value;
  throw new InvalidCursorError();
}

/**
 * `GET /v1/admin/attention`: one band of the attention index, oldest first, at most `limit` items.
 * Every shard is read (in parallel) for up to `limit` items after its position; the oldest `limit`
 * of them are answered and each shard's position moves past what it gave, so pages never repeat
 * or skip an item. Cost: one Query per shard per page (16 per lane, 32 today), whatever the table holds.
 */
export async function listAttention(deps: Deps, band: AttentionBand, page: { limit: number; cursor?: string }): Promise<AttentionPage> {
  const now = deps.now();
  // The reconcile and volumes lanes: what their sweeps find due, and what they parked for an operator.
  const shards = [...attentionShards('reconcile'), ...attentionShards('volumes')];
  // Per shard: its ExclusiveStartKey, 0 = from the start, 1 = done.
  const positions = page.cursor ? (await decodeCursor(deps, page.cursor, band, shards.length)).s : shards.map(() => 0 as const);
  const reads = await Promise.all(
    shards.map(async (shard, i) => {
      const position = positions[i]!;
      if (position === 1) return { items: [] as DueItem[], last: undefined, done: true };
      const read = await attentionShardPage(deps, shard, band, now, page.limit, position === 0 ? undefined : position);
      return { ...read, done: false };
    }),
  );
  const merged = reads.flatMap((read, shard) => read.items.map((item) => ({ item, shard }))).sort((a, b) => a.item.attentionAt.localeCompare(b.item.attentionAt) || a.item.pk.localeCompare(b.item.pk));
  const taken = merged.slice(0, page.limit);
  const next = reads.map((read, shard): Record<string, unknown> | 0 | 1 => {
    if (read.done) return 1;
    const mine = taken.filter((entry) => entry.shard === shard);
    const lastTaken = mine[mine.length - 1];
    // Everything it read was taken and it has no more: done. Otherwise continue after the last taken.
    if (mine.length === read.items.length && !read.last) return 1;
    return lastTaken ? indexKeyOf(lastTaken.item) : positions[shard]!;
  });
  return {
    band,
    items: taken.map(({ item }) => viewOf(item, now)),
    nextCursor: next.every((position) => position === 1) ? null : await deps.cursors.seal({ b: band, s: next } satisfies Cursor, CURSOR_SCOPE),
  };
}

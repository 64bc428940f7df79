import { TABLE_KEYS } from '../adapters/table-definition';
import type { Deps } from '../composition/deps';
import { InstanceNotFoundError } from '../shared/errors/refusals';
import * as z from 'zod';
import { instanceViewSchema, toInstanceView, type InstanceItem } from '../domain/instance';
import { getInstance, ownerInstancesPage } from '../store/instance';

/** Read an instance item (strongly consistent), or null. */
export function readInstance(deps: Deps, instanceId: string): Promise<InstanceItem | null> {
  return getInstance(deps, instanceId);
}

/**
 * An instance the caller may see. Another owner's instance, a tombstone and a missing one all
 * read as not found, so ids cannot be probed.
 */
export async function getVisibleInstance(deps: Deps, instanceId: string, owners: readonly string[]): Promise<InstanceItem> {
  const item = await readInstance(deps, instanceId);
  if (!item || !owners.includes(item.owner) || item.status === 'destroyed') throw new InstanceNotFoundError(instanceId);
  return item;
}

/** One page of an owner's instances. */
export const instancePageSchema = /* @__PURE__ */ z.object({ items: z.array(instanceViewSchema), nextCursor: z.string().nullable() }).meta({ id: 'InstancePage' });
export type InstancePage = z.infer<typeof instancePageSchema>;

/** What a listing may be narrowed to: exact matches on the instance's fields. */
export interface InstanceFilters {
  status?: string;
  provider?: string;
  name?: string;
}

/** What a cursor continues: one owner's listing, of live instances or of all (tombstones too), with the same filters. */
function cursorScope(owner: string, includeTombstones: boolean, filters: InstanceFilters): string {
  const narrowed = (['status', 'provider', 'name'] as const).map((field) => `${field}=${filters[field] ?? ''}`).join('&');
  return `instances:${owner}:${includeTombstones ? 'all' : 'live'}:${narrowed}`;
}

/** Index pages one listing request reads at most while filters leave its page short (then it answers what it has, with a cursor). */
const MAX_PAGES_READ = 10;

/**
 * An owner's instances, newest first: live ones (tombstones excluded) unless `includeTombstones`,
 * narrowed by exact filters. DynamoDB applies `Limit` before the filter and reports a last key
 * even when nothing follows, so the query asks for one item more than the page, reads on while
 * the filter leaves the page short, and answers `nextCursor` only when an item is known to
 * follow (or when it stopped after MAX_PAGES_READ): the last page has none.
 */
export async function listInstances(
  deps: Deps,
  owner: string,
  options: { limit: number; cursor?: string; includeTombstones?: boolean; filters?: InstanceFilters },
): Promise<InstancePage> {
  const index = TABLE_KEYS.ownerIndex;
  const filters = options.filters ?? {};
  const scope = cursorScope(owner, options.includeTombstones === true, filters);
  // Only a cursor this API sealed for this very listing opens (InvalidCursor otherwise).
  let startKey = options.cursor ? await deps.cursors.open(options.cursor, scope) : undefined;
  const equals: Record<string, string> = {};
  for (const field of ['status', 'provider', 'name'] as const) {
    const value = filters[field];
    if (value !== undefined) equals[field] = value;
  }
  const items: InstanceItem[] = [];
  let pages = 0;
  do {
    const out = await ownerInstancesPage(deps, owner, { includeTombstones: options.includeTombstones === true, equals, limit: options.limit + 1 - items.length, start: startKey });
    items.push(...out.items);
    startKey = out.lastKey;
    pages++;
  } while (startKey && items.length <= options.limit && pages < MAX_PAGES_READ);
  const page = items.slice(0, options.limit);
  const last = page.at(-1) as (InstanceItem & Record<string, unknown>) | undefined;
  // An item beyond the page is known: continue after the page's last item. Stopped early: continue where the reading stopped.
  const resumeAt =
    items.length > options.limit && last
      ? { pk: last.pk, sk: last.sk, [index.partitionKey]: last[index.partitionKey], [index.sortKey]: last[index.sortKey] }
      : items.length <= options.limit && startKey
        ? startKey
        : undefined;
  const nextCursor = resumeAt ? await deps.cursors.seal(resumeAt as Record<string, unknown>, scope) : null;
  return { items: page.map(toInstanceView), nextCursor };
}

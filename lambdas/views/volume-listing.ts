/**
 * `GET /v1/admin/volumes`: kept volumes in one state, paged across the volumes lane's shards. Every
 * shard is read (in parallel) for up to `limit` items of the state after its position; the first
 * `limit` in index order (due date, then key) are answered and each shard's position moves past
 * what it gave, as the attention view pages (`attention-view.ts`): pages never repeat or skip a
 * volume, and the last page has no cursor. Cost: one Query per shard per page, never a Scan.
 */
import { attentionShards } from '../store/keys';
import { TABLE_KEYS } from '../adapters/table-definition';
import type { Deps } from '../composition/deps';
import { InvalidCursorError } from '../shared/errors/http';
import type { RetainedVolume } from '../domain/retained-volume';
import { attentionIndexPage } from '../store/attention';

/** Per shard: where it continues (an index key), 0 = from its start, 1 = read to its end. */
type Position = Record<string, unknown> | 0 | 1;
type Cursor = { state: string; s: Position[] };

const CURSOR_SCOPE = 'admin:volumes';

/** A page of one state's kept volumes, and the cursor of the next (null on the last). */
export async function pageRetainedVolumes(deps: Deps, options: { state: string; limit: number; cursor?: string }): Promise<{ items: RetainedVolume[]; nextCursor: string | null }> {
  const index = TABLE_KEYS.attentionIndex;
  const shards = attentionShards('volumes');
  let positions: Position[] = shards.map(() => 0);
  if (options.cursor) {
    const value = (await deps.cursors.open(options.cursor, CURSOR_SCOPE)) as Partial<Cursor>;
    if (value.state !== options.state || !Array.isArray(value.s) || value.s.length !== shards.length) throw new InvalidCursorError();
    positions = value.s;
  }
  const reads = await Promise.all(
    shards.map(async (shard, i) => {
      const position = positions[i]!;
      if (position === 1) return { items: [] as Array<RetainedVolume & Record<string, unknown>>, more: false };
      const items: Array<RetainedVolume & Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined = position === 0 ? undefined : position;
      do {
        const out = await attentionIndexPage<RetainedVolume & Record<string, unknown>>(deps, shard, 'all', {
          limit: options.limit - items.length,
          start,
          where: { state: options.state },
        });
        items.push(...out.items);
        start = out.lastKey;
      } while (start && items.length < options.limit);
      return { items, more: start !== undefined };
    }),
  );
  const order = (item: Record<string, unknown>) => `${String(item[index.sortKey])}\u0000${String(item.pk)}`;
  const merged = reads.flatMap((read, shard) => read.items.map((item) => ({ item, shard }))).sort((a, b) => order(a.item).localeCompare(order(b.item)));
  const taken = merged.slice(0, options.limit);
  const next = reads.map((read, shard): Position => {
    if (positions[shard] === 1) return 1;
    const mine = taken.filter((entry) => entry.shard === shard);
    if (mine.length === read.items.length && !read.more) return 1;
    const last = mine.at(-1)?.item;
    return last ? { pk: last.pk, sk: last.sk, [index.partitionKey]: last[index.partitionKey], [index.sortKey]: last[index.sortKey] } : positions[shard]!;
  });
  const nextCursor = next.every((position) => position === 1) ? null : await deps.cursors.seal({ state: options.state, s: next } satisfies Cursor, CURSOR_SCOPE);
  return { items: taken.map(({ item }) => item), nextCursor };
}

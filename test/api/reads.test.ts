/**
 * Reads as integrators page through them: exact filters on the instance list, no cursor on the
 * last page (however the page ends), cursors through an instance's operations, and a destroyed
 * instance's operations still readable by its owner.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { retainVolumeItem } from '../../lambdas/domain/retained-volume';
import { startHarness, type Harness } from '../support/harness';
import { operateAndWait, provisionRunning } from '../support/instances';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h.close();
});

/** Every page of a listing, following nextCursor; the pages' sizes and the ids in order. */
async function allPages(token: string, path: string): Promise<{ sizes: number[]; ids: string[] }> {
  const sizes: number[] = [];
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.request('GET', `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status).toBe(200);
    sizes.push(res.body.items.length);
    ids.push(...res.body.items.map((item: { id?: string; name: string }) => item.id ?? item.name));
    cursor = res.body.nextCursor;
  } while (cursor);
  return { sizes, ids };
}

describe('the instance list', () => {
  it('answers no nextCursor on a full last page, and pages through every live instance once', async () => {
    // Arrange: four live instances and a destroyed one among them.
    const { token, id: first } = await provisionRunning(h, 'reads-pages', { name: 'one' });
    const others = [];
    for (const name of ['two', 'three', 'four']) others.push((await provisionRunning(h, 'reads-pages', { name })).id);
    const gone = (await provisionRunning(h, 'reads-pages', { name: 'gone' })).id;
    await operateAndWait(h, token, gone, 'destroy');

    // Act
    const byTwo = await allPages(token, '/v1/instances?limit=2');
    const byFour = await allPages(token, '/v1/instances?limit=4');

    // Assert
    const newestFirst = [...others].reverse().concat(first);
    expect(byTwo).toEqual({ sizes: [2, 2], ids: newestFirst });
    expect(byFour).toEqual({ sizes: [4], ids: newestFirst });
  });

  it('filters by status, provider and name, exactly', async () => {
    // Arrange
    const { token, id: web } = await provisionRunning(h, 'reads-filters', { name: 'web' });
    const { id: db } = await provisionRunning(h, 'reads-filters', { name: 'db' });
    await operateAndWait(h, token, db, 'stop');

    // Act
    const stopped = await allPages(token, '/v1/instances?status=stopped');
    const running = await allPages(token, '/v1/instances?status=running&limit=1');
    const named = await h.request('GET', '/v1/instances?name=web', { token });
    const onProvider = await allPages(token, `/v1/instances?provider=${h.provider.name}`);
    const elsewhere = await h.request('GET', '/v1/instances?provider=nowhere', { token });
    const badStatus = await h.request('GET', '/v1/instances?status=destroyed', { token });

    // Assert
    expect(stopped.ids).toEqual([db]);
    expect(running.ids).toEqual([web]);
    expect(named.body).toEqual({ items: [expect.objectContaining({ id: web, name: 'web' })], nextCursor: null });
    expect(onProvider.ids).toEqual([db, web]);
    expect(elsewhere.body).toEqual({ items: [], nextCursor: null });
    expect([badStatus.status, badStatus.body.code]).toEqual([400, 'validation_failed']);
  });
});

describe('an instance’s operations', () => {
  it('pages newest first with a cursor, and stays readable by its owner after a destroy', async () => {
    // Arrange: provision, stop, start, destroy.
    const { token, id } = await provisionRunning(h, 'reads-ops');
    await operateAndWait(h, token, id, 'stop');
    await operateAndWait(h, token, id, 'start');
    await operateAndWait(h, token, id, 'destroy');
    const stranger = await h.token({ sub: 'reads-ops-stranger' });

    // Act
    const pages = await allPages(token, `/v1/instances/${id}/operations?limit=3`);
    const whole = await h.request('GET', `/v1/instances/${id}/operations`, { token });
    const foreign = await h.request('GET', `/v1/instances/${id}/operations`, { token: stranger });

    // Assert
    expect(pages).toEqual({ sizes: [3, 1], ids: [`${id}-destroy-v4`, `${id}-start-v3`, `${id}-stop-v2`, `${id}-provision-v1`] });
    expect(whole.body.items.map((op: { status: string }) => op.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(whole.body.nextCursor).toBeNull();
    expect([foreign.status, foreign.body.code]).toEqual([404, 'instance_not_found']);
  });
});

describe('instance names', () => {
  it('are unique among an owner’s live instances, free again once the holder is destroyed, and any owner’s own', async () => {
    // Arrange
    const { token, id: holder } = await provisionRunning(h, 'names', { name: 'api' });
    const other = await h.token({ sub: 'names-other' });
    const key = (n: number) => ({ 'idempotency-key': `names-key-${n}-${Date.now()}` });

    // Act
    const taken = await h.request('POST', '/v1/instances', { token, body: { name: 'api' }, headers: key(1) });
    const elsewhere = await h.request('POST', '/v1/instances', { token: other, body: { name: 'api' }, headers: key(2) });
    await h.waitForExecution(elsewhere.body.operation.executionArn);
    await operateAndWait(h, token, holder, 'destroy');
    const reused = await h.request('POST', '/v1/instances', { token, body: { name: 'api' }, headers: key(3) });
    await h.waitForExecution(reused.body.operation.executionArn);
    const byName = await h.request('GET', '/v1/instances?name=api', { token });

    // Assert
    expect({ status: taken.status, code: taken.body.code, instanceId: taken.body.instanceId, name: taken.body.name }).toEqual({ status: 409, code: 'name_taken', instanceId: holder, name: 'api' });
    expect(elsewhere.status).toBe(202);
    expect(reused.status).toBe(202);
    expect(byName.body.items.map((item: { id: string }) => item.id)).toEqual([reused.body.instance.id]);
  });

  it('replays the create key after a destroy as the original admission, with current showing the tombstone', async () => {
    // Arrange
    const token = await h.token({ sub: 'names-replay' });
    const headers = { 'idempotency-key': `names-replay-${Date.now()}` };
    const created = await h.request('POST', '/v1/instances', { token, body: { name: 'again' }, headers });
    await h.waitForExecution(created.body.operation.executionArn);
    await operateAndWait(h, token, created.body.instance.id, 'destroy');

    // Act
    const replayed = await h.request('POST', '/v1/instances', { token, body: { name: 'again' }, headers });

    // Assert: nothing is started again; `current` is the truth.
    expect(replayed.status).toBe(202);
    expect(replayed.body.instance).toEqual(created.body.instance);
    expect(replayed.body.current.status).toBe('destroyed');
  });
});

describe('the kept volumes (admin)', () => {
  it('pages through every volume of a state once, soonest due first, with no cursor on the last page', async () => {
    // Arrange: seven retentions, written as a recovery's commit writes them, due over the next days.
    const deps = h.runtime.deps;
    const base = Date.now() + 3600_000;
    const ids = Array.from({ length: 7 }, (_, i) => `vol-reads-${i}`);
    await deps.db.send(
      new TransactWriteCommand({
        TransactItems: ids.map((volumeId, i) =>
          retainVolumeItem(deps, { volumeId, volumeName: volumeId, provider: 'local', region: 'local', instanceId: 'i-00000000000000000000000001', owner: 'user:reads-volumes', reason: 'recovery', snapshotCount: 1, retainUntil: new Date(base + (7 - i) * 86_400_000) }),
        ),
      }),
    );
    const admin = await h.token({ sub: 'reads-admin', admin: true });

    // Act
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.request('GET', `/v1/admin/volumes?state=retained&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin });
      expect(res.status).toBe(200);
      sizes.push(res.body.items.length);
      seen.push(...res.body.items.map((v: { volumeId: string }) => v.volumeId));
      cursor = res.body.nextCursor;
    } while (cursor);

    // Assert
    expect({ sizes, seen }).toEqual({ sizes: [3, 3, 1], seen: [...ids].reverse() });
  });
});

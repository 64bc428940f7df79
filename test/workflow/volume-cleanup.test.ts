/**
 * The volume-cleanup sweep and the operator's early delete, on real recoveries (real ASL, handlers,
 * DynamoDB Local, provider): past-due retained volumes are deleted exactly once with ownership
 * proven; what cannot be proven is never touched (and alarms); failing deletes stop at the cap.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { claimInstance } from '../../lambdas/domain/claims';
import { runVolumeCleanup } from '../../lambdas/sweeps/volume-cleanup/sweep';
import { ProviderUnavailableError } from '../../lambdas/shared/errors/provider';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';
import { killAndRecover } from '../support/recovery';

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'ops', admin: true });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

/** Eight days on: every retention of these tests is past due. */
const PAST_DUE = 8 * 24 * 3600;

/** A running instance recovered once, its old volume retained (it had a snapshot). */
async function withRetainedVolume(sub: string): Promise<{ id: string; volumeId: string; token: string }> {
  const { id, token } = await provisionRunning(h, sub);
  await h.backend.createSnapshot((await h.instanceItem(id))!.volumeId!);
  const recovered = await killAndRecover(h, id);
  if (recovered.status !== 'SUCCEEDED') throw new Error(`recovery ${recovered.status}`);
  return { id, volumeId: recovered.before.volumeId!, token };
}

const metric = (name: string) => (h.runtime.deps.metrics as RecordingMetrics).named(name).length;
const deletesOf = (volumeId: string) => h.provider.callsTo('deleteVolume').filter((call) => call.args[0] === volumeId).length;

describe('the volume-cleanup sweep', () => {
  it('deletes a past-due retained volume exactly once, with its ownership verified, and leaves one not yet due', async () => {
    // Arrange
    const { id, volumeId } = await withRetainedVolume('vc-due');
    h.provider.reset();

    // Act: one sweep before the date, two overlapping ones after it, and one more.
    const early = await runVolumeCleanup(h.later(6 * 24 * 3600));
    const [a, b] = await Promise.all([runVolumeCleanup(h.later(PAST_DUE)), runVolumeCleanup(h.later(PAST_DUE))]);
    const again = await runVolumeCleanup(h.later(PAST_DUE + 3600));

    // Assert
    expect(early.actions.filter((x) => x.target === `volume:${volumeId}`)).toEqual([]);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    expect([...a.actions, ...b.actions].filter((x) => x.target === `volume:${volumeId}`)).toEqual([expect.objectContaining({ action: 'deleted' })]);
    expect(again.actions.filter((x) => x.target === `volume:${volumeId}`)).toEqual([]);
    expect(deletesOf(volumeId)).toBe(1);
    // Ownership was checked at the provider right before the delete.
    const calls = h.provider.calls.map((call) => `${call.method}:${String(call.args[0])}`);
    expect(calls.indexOf(`getVolume:${volumeId}`)).toBeLessThan(calls.indexOf(`deleteVolume:${volumeId}`));
    expect((await h.backend.getVolume(volumeId))?.state ?? 'destroyed').toBe('destroyed');
    expect(await h.item(keys.volume(volumeId))).toMatchObject({ state: 'deleted', deletedBy: expect.stringMatching(/^sweep:/), deletedAt: expect.any(String) });
    expect((await h.item(keys.volume(volumeId)))?.attentionAt).toBeUndefined();
    expect(h.runtime.events.named('volume.deleted').filter((e) => e.detail.volumeId === volumeId)).toHaveLength(1);
    expect((await h.instanceItem(id))!.status).toBe('running');
  });

  it('never touches a volume whose attached machine carries another instance\'s tags, and raises the alarm', async () => {
    // Arrange: someone else's machine sits on the retained volume.
    const { volumeId } = await withRetainedVolume('vc-foreign');
    const foreign = await h.backend.createMachine({
      name: 'intruder',
      region: h.region,
      size: 'shared-cpu-1x',
      image: 'slipway/hello:1',
      volumeId,
      mountPath: '/data',
      tags: { owner: 'user:someone-else', instance: 'i-01jzzzzzzzzzzzzzzzzzzzzzzz', reservation: 'v1' },
      start: false,
    });
    const alarmsBefore = metric('VolumeOwnershipUnverified');
    h.provider.reset();

    // Act
    const report = await runVolumeCleanup(h.later(PAST_DUE));
    const later = await runVolumeCleanup(h.later(PAST_DUE * 2));
    const listed = await h.request('GET', '/v1/admin/volumes?state=ownership_unverified', { token: admin });
    const attention = await h.request('GET', '/v1/admin/attention?band=parked&limit=100', { token: admin });
    const early = await h.request('DELETE', `/v1/admin/volumes/${volumeId}?reason=operator%20tries%20anyway`, { token: admin });

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `volume:${volumeId}`, action: 'refused', detail: expect.stringContaining(foreign.id) }));
    expect(later.actions.filter((x) => x.target === `volume:${volumeId}`)).toEqual([]);
    expect(metric('VolumeOwnershipUnverified') - alarmsBefore).toBe(2);
    expect(h.provider.writes()).toEqual([]);
    expect((await h.backend.getMachine(foreign.id))?.state).not.toBe('destroyed');
    expect((await h.backend.getVolume(volumeId))?.state).not.toBe('destroyed');
    expect(await h.item(keys.volume(volumeId))).toMatchObject({ state: 'ownership_unverified', lastError: { code: 'OwnershipUnverified' } });
    expect(listed.body.items.map((v: { volumeId: string }) => v.volumeId)).toContain(volumeId);
    expect(attention.body.items).toContainEqual(expect.objectContaining({ subject: 'volume-ownership-unverified', alarm: 'VolumeOwnershipUnverifiedAlarm', kind: 'volume', detail: expect.stringContaining(foreign.id) }));
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'volume_ownership_unverified', volumeId });
    await h.backend.destroyMachine(foreign.id);
  });

  it('stops a delete that keeps failing at the cap, then leaves it for an operator with an alarm', async () => {
    // Arrange
    const { volumeId } = await withRetainedVolume('vc-cap');
    h.provider.reset();
    h.provider.failNext('deleteVolume', () => new ProviderUnavailableError('provider refuses deletes today'), { times: 1000 });
    const exhaustedBefore = metric('VolumeCleanupExhausted');
    const cap = h.runtime.deps.settings.volumeCleanupMaxTries;

    // Act: a sweep a day apart, well past every backoff, many more times than the cap.
    const outcomes: string[] = [];
    for (let day = 0; day < cap + 5; day++) {
      const report = await runVolumeCleanup(h.later(PAST_DUE + day * 24 * 3600));
      outcomes.push(...report.actions.filter((x) => x.target === `volume:${volumeId}`).map((x) => x.action));
    }
    const deletes = deletesOf(volumeId);
    h.provider.reset();

    // Assert
    expect(deletes).toBe(cap);
    expect(outcomes).toEqual([...Array.from({ length: cap - 1 }, () => 'retry'), 'exhausted']);
    expect(metric('VolumeCleanupExhausted') - exhaustedBefore).toBe(1);
    expect(await h.item(keys.volume(volumeId))).toMatchObject({ state: 'cleanup_exhausted', tries: cap, lastError: { message: expect.stringContaining('provider refuses deletes today') } });
    expect((await h.backend.getVolume(volumeId))?.state).not.toBe('destroyed');
    const listed = await h.request('GET', '/v1/admin/volumes?state=cleanup_exhausted', { token: admin });
    expect(listed.body.items.map((v: { volumeId: string }) => v.volumeId)).toContain(volumeId);
  });
});

describe('the early delete', () => {
  it('deletes a retained volume before its date, audited; answers 409 while an operation holds its instance; is idempotent', async () => {
    // Arrange
    const { id, volumeId } = await withRetainedVolume('vc-early');
    const path = `/v1/admin/volumes/${volumeId}?reason=customer%20asked%20us%20to`;
    const hold = await claimInstance(h.runtime.deps, id, ['user:vc-early'], 'stop');

    // Act
    const busy = await h.request('DELETE', path, { token: admin });
    await h.runtime.deps.db.send(
      // The stop's execution never started; hand the instance back as it was (what the sweep would settle).
      new UpdateCommand({
        TableName: h.runtime.deps.tableName,
        Key: keys.instance(id),
        UpdateExpression: 'SET #status = :running REMOVE claim',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'running' },
      }),
    );
    const deleted = await h.request('DELETE', path, { token: admin });
    const again = await h.request('DELETE', path, { token: admin });
    const unknown = await h.request('DELETE', '/v1/admin/volumes/vol_nope?reason=just%20checking', { token: admin });
    const unreasoned = await h.request('DELETE', `/v1/admin/volumes/${volumeId}`, { token: admin });

    // Assert
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ code: 'volume_in_use', heldBy: expect.stringContaining(hold.executionName) });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ volume: { volumeId, state: 'deleted', deletedBy: 'operator:user:ops' }, audit: { action: 'volume.delete', actor: 'user:ops', reason: 'customer asked us to' } });
    expect((await h.backend.getVolume(volumeId))?.state ?? 'destroyed').toBe('destroyed');
    expect(again.status).toBe(200);
    expect(again.body.audit).toBeNull();
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('volume_not_found');
    expect(unreasoned.status).toBe(400);
    const registry = await h.request('GET', '/v1/admin/owners/user:vc-early', { token: admin });
    expect(registry.body.audit[0]).toMatchObject({ action: 'volume.delete' });
  });
});

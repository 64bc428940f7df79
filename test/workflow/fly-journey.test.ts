/**
 * One owner's week on Fly, end to end on the real ASL, handlers and DynamoDB Local, against the fake
 * Fly with every real behaviour on (read-after-create 404s, lagging lists, unique names, the
 * instance_id rule of stopped-waits, asynchronous detach, few zones per region, asynchronous
 * snapshots, rate limits, compat checks): provision, stop, start, restart, three crash recoveries
 * within a week (each old volume retained for its snapshots), a switch to another app with the data,
 * a destroy with one DELETE, and provisions refused by each of Fly's capacity answers. Afterwards Fly
 * holds nothing of slipway's that no instance owns — read by GET of each id, not by a list.
 * Runs in the workflow-fly project only (it needs the fake Fly).
 */
import { keys } from '../../lambdas/store/keys';
import { retainedVolumesById } from '../../lambdas/domain/retained-volume';
import { TAG_KEYS } from '../../lambdas/providers/compute-provider';
import { CAPACITY_ANSWERS, type FakeFly } from '../support/fake-fly';
import { instancesOf } from '../support/convergence';
import { startHarness, testProviderKind, type Harness } from '../support/harness';
import { operate, operateAndWait, provisionRunning } from '../support/instances';
import { killAndRecover } from '../support/recovery';

const onFly = testProviderKind() === 'fly' ? describe : describe.skip;

jest.setTimeout(120_000);

onFly('a week on Fly with its real behaviours on', () => {
  let h: Harness;
  let fake: FakeFly;
  const owner = 'user:fly-journey';
  let token: string;
  let id: string;
  let counter = 0;

  beforeAll(async () => {
    h = await startHarness({ secondProvider: true });
    fake = h.fakeFly!;
  });
  afterAll(async () => {
    await h.close();
  });

  it('provisions, stops, starts and restarts', async () => {
    ({ id, token } = await provisionRunning(h, 'fly-journey'));

    const stopped = await operateAndWait(h, token, id, 'stop');
    const started = await operateAndWait(h, token, id, 'start');
    const restarted = await operateAndWait(h, token, id, 'restart');

    expect([stopped.status, started.status, restarted.status]).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect((await h.request('GET', `/v1/instances/${id}`, { token })).body).toMatchObject({ status: 'running', lastStartError: null });
    // Fly's own rules were met: stopped-waits named their instance, no request the spec refuses.
    expect(fake.calls.filter((c) => c.operationId === 'Machines_wait' && c.status === 400)).toEqual([]);
    expect(fake.rejected).toEqual([]);
  });

  it('recovers from three crashes within a week, each old volume retained for its snapshots', async () => {
    const volumes: string[] = [(await h.instanceItem(id))!.volumeId!];

    for (const day of [1, 3, 5]) {
      // Fly snapshots volumes daily; the crash comes after the day's snapshot.
      fake.snapshot((await h.instanceItem(id))!.volumeId!);
      const recovered = await killAndRecover(h, id, { sweepAheadSeconds: day * 86_400 });

      expect(recovered.status).toBe('SUCCEEDED');
      expect(recovered.after).toMatchObject({ status: 'running' });
      expect(recovered.after.machineId).not.toBe(recovered.before.machineId);
      volumes.push(recovered.after.volumeId!);
    }

    // Four volumes of one name in one region of three zones: the forks asked for no unique zone.
    expect(new Set(volumes).size).toBe(4);
    const retained = await retainedVolumesById(h.runtime.deps, volumes);
    expect(volumes.slice(0, 3).map((v) => retained.get(v)?.state)).toEqual(['retained', 'retained', 'retained']);
    expect(fake.calls.filter((c) => c.operationId === 'Machines_create' && c.status === 409)).toEqual([]);
  });

  it('switches to the other app with its data', async () => {
    const before = (await h.instanceItem(id))!;
    fake.writeFile(before.volumeId!, 'notes.txt', 'kept across the switch');

    const res = await h.request('POST', `/v1/instances/${id}/switch-provider`, { token, body: { provider: h.west!.name, expectedProvider: h.provider.name } });
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    const after = (await h.instanceItem(id))!;
    expect(closed.status).toBe('SUCCEEDED');
    expect(after).toMatchObject({ status: 'running', provider: h.west!.name });
    expect(fake.volume(after.volumeId!)!.app).toBe(`${fake.app}-west`);
    expect(fake.readFile(after.volumeId!, 'notes.txt')).toBe('kept across the switch');
  });

  it('destroys the instance with one DELETE', async () => {
    const res = await operate(h, token, id, 'destroy');
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    expect(res.status).toBe(202);
    expect(closed.status).toBe('SUCCEEDED');
    expect((await h.instanceItem(id))!.status).toBe('destroyed');
  });

  it.each(CAPACITY_ANSWERS.map((answer) => [answer.status, answer.body.error, answer] as const))('refuses a provision Fly answers %i "%s", leaves nothing and admits the retry', async (_status, _text, answer) => {
    const sub = `fly-capacity-${++counter}`;
    const capacityToken = await h.token({ sub });
    fake.inject(answer.operation, { status: answer.status, body: answer.body, times: 1 });

    const res = await h.request('POST', '/v1/instances', { token: capacityToken, body: {}, headers: { 'idempotency-key': `cap-${counter}-${Date.now()}` } });
    const closed = await h.waitForExecution(res.body.operation.executionArn);
    const retry = await provisionRunning(h, sub);

    expect(closed).toMatchObject({ status: 'FAILED', error: 'ProviderCapacity' });
    expect(await h.instanceItem(res.body.instance.id)).toMatchObject({ status: 'failed', lastStartError: { code: 'ProviderCapacity' } });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'completed' });
    expect((await h.instanceItem(retry.id))!.status).toBe('running');
  });

  it('leaves nothing on Fly that no instance owns, read by GET of each id', async () => {
    const instances = await instancesOf(h, [owner, ...Array.from({ length: counter }, (_, i) => `user:fly-capacity-${i + 1}`)]);
    const retained = await retainedVolumesById(h.runtime.deps, fake.volumes().map((v) => v.id));
    const ownedMachines = new Set(instances.filter((i) => i.status !== 'destroyed').map((i) => i.machineId));
    const ownedVolumes = new Set([...instances.filter((i) => i.status !== 'destroyed').map((i) => i.volumeId), ...[...retained.values()].filter((r) => r.state === 'retained').map((r) => r.volumeId)]);
    const adapterFor = (app: string) => (app === fake.app ? h.backend : h.west!.backend);

    const liveMachines: string[] = [];
    for (const m of fake.machines().filter((each) => each.config.metadata?.[TAG_KEYS.owner])) {
      const read = await adapterFor(m.app).getMachine(m.id);
      if (read && read.state !== 'destroyed') liveMachines.push(m.id);
    }
    const liveVolumes: string[] = [];
    for (const v of fake.volumes()) {
      const read = await adapterFor(v.app).getVolume(v.id);
      if (read && read.state !== 'destroyed') liveVolumes.push(v.id);
    }

    expect(liveMachines.filter((m) => !ownedMachines.has(m))).toEqual([]);
    expect(liveVolumes.filter((v) => !ownedVolumes.has(v))).toEqual([]);
    // What remains is the capacity retries' instances, one machine each, on the volumes they record.
    expect(liveMachines.length).toBe(CAPACITY_ANSWERS.length);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { VolumeSpec } from '../../lambdas/providers/compute-provider';
import { FaultInjectingProvider } from '../support/fault-injecting-provider';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';
import { ProviderCapacityError, ProviderUnavailableError } from '../../lambdas/shared/errors/provider';

const spec: VolumeSpec = {
  name: 'vol',
  region: 'local',
  sizeGb: 1,
  tags: { owner: 'user:u1', instance: 'i1', reservation: 'r1' },
};

let rootDir: string;
let inner: LocalComputeProvider;
let provider: FaultInjectingProvider;

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-faults-'));
  inner = new LocalComputeProvider({ rootDir });
  provider = new FaultInjectingProvider(inner);
});

afterEach(async () => {
  await inner.shutdown();
  await rm(rootDir, { recursive: true, force: true });
});

describe('FaultInjectingProvider', () => {
  it('takes its name from the inner provider and starts with no calls', () => {
    expect(provider.name).toBe('local');
    expect(provider.calls).toEqual([]);
  });

  it('fails the next call before the inner provider sees it', async () => {
    const fault = new ProviderUnavailableError('scripted');
    provider.failNext('createVolume', fault);

    await expect(provider.createVolume(spec)).rejects.toBe(fault);
    const afterFault = await inner.findVolumes(spec.tags);
    const created = await provider.createVolume(spec);

    expect(afterFault).toEqual([]);
    expect(await inner.findVolumes(spec.tags)).toEqual([created]);
    expect(provider.calls).toEqual([
      { method: 'createVolume', args: [spec], at: expect.any(String) },
      { method: 'createVolume', args: [spec], at: expect.any(String) },
    ]);
  });

  it('fails as many times as asked, with a fresh error from a factory', async () => {
    provider.failNext('getVolume', () => new ProviderCapacityError('no room'), { times: 2 });

    const first = provider.getVolume('vol_x').catch((error: unknown) => error);
    const second = provider.getVolume('vol_x').catch((error: unknown) => error);
    const [a, b] = await Promise.all([first, second]);

    expect(a).toBeInstanceOf(ProviderCapacityError);
    expect(b).toBeInstanceOf(ProviderCapacityError);
    expect(a).not.toBe(b);
    await expect(provider.getVolume('vol_x')).resolves.toBeNull();
  });

  it('fails after the inner call succeeded, leaving the resource behind (an ambiguous create)', async () => {
    provider.failAfter('createVolume', new ProviderUnavailableError('timeout after send'));

    await expect(provider.createVolume(spec)).rejects.toBeInstanceOf(ProviderUnavailableError);
    const found = await provider.findVolumes(spec.tags);

    expect(found).toEqual([expect.objectContaining({ name: 'vol', tags: spec.tags })]);
    expect(provider.callsTo('createVolume')).toHaveLength(1);
  });

  it('faults only the scripted method and forgets everything on reset', async () => {
    provider.failNext('deleteVolume', new Error('boom'));

    await provider.findVolumes({});
    provider.reset();
    await provider.deleteVolume('vol_x');

    expect(provider.calls.map((call) => call.method)).toEqual(['deleteVolume']);
  });
});

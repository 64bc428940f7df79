/**
 * What a full disk or a SIGKILL can leave in the local provider's directory, and how it is cleaned:
 * a volume is published with its metadata in one rename (a failed create leaves nothing), and the
 * next start removes staged volumes and the temp files of interrupted atomic writes.
 */
import fsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VolumeSpec } from '../../lambdas/providers/compute-provider';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';

const spec: VolumeSpec = { name: 'vol', region: 'local', sizeGb: 1, tags: { owner: 'user:u1', instance: 'i1', reservation: 'r1' } };

let rootDir: string;
let provider: LocalComputeProvider;

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-leftovers-'));
  provider = new LocalComputeProvider({ rootDir });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await provider.shutdown();
  await rm(rootDir, { recursive: true, force: true });
});

/** Every file and directory under `dir`, relative to it. */
async function tree(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true })).map(String).sort();
  } catch {
    return [];
  }
}

describe('the local provider after a full disk or a kill', () => {
  it('leaves no volume directory behind when the metadata write fails for a full disk', async () => {
    // Arrange: the next file write fails as a full disk does.
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    jest.spyOn(fsPromises, 'writeFile').mockRejectedValueOnce(enospc);

    // Act
    const created = provider.createVolume(spec);

    // Assert
    await expect(created).rejects.toBe(enospc);
    expect(await tree(path.join(rootDir, 'volumes'))).toEqual([]);
    expect(await tree(path.join(rootDir, 'staging'))).toEqual([]);
    expect(await provider.findVolumes(spec.tags)).toEqual([]);
  });

  it('removes at start the temp files of interrupted writes and the volumes a crash left in staging, and keeps every record', async () => {
    // Arrange: a real volume, then what a SIGKILL mid-write and mid-create leave.
    const volume = await provider.createVolume(spec);
    await mkdir(path.join(rootDir, 'machines'), { recursive: true });
    await writeFile(path.join(rootDir, 'machines', 'm_01dead.json.0123456789ab.tmp'), '{"id":');
    await writeFile(path.join(rootDir, 'volumes', volume.id, 'volume.json.abcdef012345.tmp'), '{"id":');
    await mkdir(path.join(rootDir, 'staging', 'vol_01half', 'data'), { recursive: true });
    await writeFile(path.join(rootDir, 'staging', 'vol_01half', 'volume.json'), JSON.stringify({ id: 'vol_01half', tags: spec.tags }));
    const listedBefore = await provider.findVolumes(spec.tags);

    // Act: the host comes back.
    const restarted = new LocalComputeProvider({ rootDir });
    await restarted.resumeAfterHostRestart();

    // Assert
    expect(listedBefore.map((v) => v.id)).toEqual([volume.id]);
    expect(await tree(path.join(rootDir, 'machines'))).toEqual([]);
    expect(await tree(path.join(rootDir, 'volumes'))).toEqual([volume.id, `${volume.id}/data`, `${volume.id}/volume.json`].sort());
    expect(await tree(path.join(rootDir, 'staging'))).toEqual([]);
    expect(await restarted.getVolume(volume.id)).toEqual(volume);
  });
});

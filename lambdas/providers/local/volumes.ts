import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../../shared/errors/core';
import { DataTransferUnsupportedError, ProviderResourceNotFoundError, ProviderUnavailableError, VolumeAttachedError } from '../../shared/errors/provider';
import type { ForkVolumeSpec, ImportVolumeSpec, Snapshot, TagFilter, Volume, VolumeSeed, VolumeSpec } from '../compute-provider';
import { byId, isSafeId, newId, now, type LocalLayout } from './layout';
import { directorySize, listDir, withLock, writeJsonAtomic } from './local-store';
import { matchesTags, toVolume, type LocalRecords, type VolumeRecord } from './records';

/**
 * Volumes are directories and snapshots are copies. Deleting a volume also deletes its snapshots
 * (on Fly they outlive it for a while); a deleted volume stays as a tombstone (`state: 'destroyed'`)
 * that `getVolume` returns and `findVolumes` leaves out.
 */
export class LocalVolumes {
  constructor(
    private readonly layout: LocalLayout,
    private readonly records: LocalRecords,
  ) {}

  async createVolume(spec: VolumeSpec): Promise<Volume> {
    const record: VolumeRecord = {
      id: newId('vol'),
      name: spec.name,
      region: spec.region,
      sizeGb: spec.sizeGb,
      state: 'created',
      sourceVolumeId: null,
      tags: { ...spec.tags },
      createdAt: now(),
      deletedAt: null,
    };
    await this.publish(record);
    return toVolume(record, null);
  }

  /**
   * Make a volume's directory — metadata and data directory — in staging, then publish it with one
   * rename: a volume exists whole (listed, tagged) or not at all. A failure (a full disk) removes
   * the staged directory; one a crash left is removed at the next start.
   */
  private async publish(record: VolumeRecord): Promise<void> {
    const staged = this.layout.stagingDir(record.id);
    try {
      await mkdir(path.join(staged, 'data'), { recursive: true });
      await writeFile(path.join(staged, 'volume.json'), `${JSON.stringify(record, null, 2)}\n`);
      await mkdir(this.layout.volumesDir(), { recursive: true });
      await rename(staged, this.layout.volumeDir(record.id));
    } catch (error) {
      await rm(staged, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    }
  }

  async forkVolume(spec: ForkVolumeSpec): Promise<Volume> {
    const source = await this.liveRecord(spec.sourceVolumeId);
    // The source's lock keeps deleteVolume from removing the data under the copy.
    return this.hydrate({ name: spec.name, region: source.region, sizeGb: source.sizeGb, tags: spec.tags }, source.id, (target) =>
      withLock(this.layout.volumeKey(source.id), () => cp(this.layout.volumeDataDir(source.id), target, { recursive: true })),
    );
  }

  /** A live volume's directory, for another local provider on this host to copy (the caller keeps its machine stopped). */
  async seedOf(volumeId: string): Promise<VolumeSeed> {
    const source = await this.liveRecord(volumeId);
    return { kind: 'local-directory', path: this.layout.volumeDataDir(source.id), volumeId: source.id, sizeGb: source.sizeGb };
  }

  /** A new volume holding a copy of another local provider's volume directory. */
  async importVolume(spec: ImportVolumeSpec): Promise<Volume> {
    const { seed } = spec;
    if (seed.kind !== 'local-directory') throw new DataTransferUnsupportedError(`A local provider cannot import a ${seed.kind} seed.`);
    return this.hydrate({ name: spec.name, region: spec.region, sizeGb: Math.max(spec.sizeGb, seed.sizeGb), tags: spec.tags }, null, (target) => cp(seed.path, target, { recursive: true }));
  }

  private async liveRecord(volumeId: string): Promise<VolumeRecord> {
    const source = await this.records.readVolume(volumeId);
    if (!source || source.state === 'destroyed') throw new ProviderResourceNotFoundError(`volume ${volumeId} not found`, { context: { volumeId } });
    return source;
  }

  /**
   * Make a volume whose data is copied in: listed (`hydrating`, tagged) before the copy starts, so a
   * crash mid-copy leaves a volume the tag inventory finds and cleans, then `created`.
   */
  private async hydrate(spec: Omit<VolumeSpec, 'name'> & { name: string }, sourceVolumeId: string | null, copy: (targetDir: string) => Promise<void>): Promise<Volume> {
    const record: VolumeRecord = {
      id: newId('vol'),
      name: spec.name,
      region: spec.region,
      sizeGb: spec.sizeGb,
      state: 'hydrating',
      sourceVolumeId,
      tags: { ...spec.tags },
      createdAt: now(),
      deletedAt: null,
    };
    await this.publish(record);
    try {
      await copy(this.layout.volumeDataDir(record.id));
    } catch (error) {
      await this.deleteVolume(record.id);
      throw new ProviderUnavailableError(`copying data into volume ${record.id} failed: ${messageOf(error)}`, {
        cause: error,
        context: { volumeId: record.id, sourceVolumeId },
      });
    }
    return withLock(this.layout.volumeKey(record.id), async () => {
      const current = await this.records.readVolume(record.id);
      if (!current) throw new ProviderResourceNotFoundError(`volume ${record.id} vanished while forking`);
      if (current.state === 'hydrating') {
        current.state = 'created';
        await writeJsonAtomic(this.layout.volumeFile(current.id), current);
      }
      return toVolume(current, await this.records.attachedMachineId(current.id));
    });
  }

  /**
   * After the host restarts: volumes a crash left half-made in staging (never returned to anyone)
   * are removed, every live volume has its data directory, and a directory with no volume.json
   * (left by an older layout) is removed.
   */
  async repairAfterHostRestart(): Promise<void> {
    await rm(this.layout.stagingDir(), { recursive: true, force: true });
    for (const id of await listDir(this.layout.volumesDir())) {
      const record = await this.records.readVolume(id);
      if (!record) await rm(path.join(this.layout.volumesDir(), id), { recursive: true, force: true });
      else if (record.state !== 'destroyed') await mkdir(this.layout.volumeDataDir(id), { recursive: true });
    }
  }

  async getVolume(volumeId: string): Promise<Volume | null> {
    const record = await this.records.readVolume(volumeId);
    if (!record) return null;
    const attached = record.state === 'destroyed' ? null : await this.records.attachedMachineId(volumeId);
    return toVolume(record, attached);
  }

  /** Idempotent. Also deletes the volume's snapshots (a local simplification, see the header). */
  async deleteVolume(volumeId: string): Promise<void> {
    if (!isSafeId(volumeId)) return;
    await withLock(this.layout.volumeKey(volumeId), async () => {
      const record = await this.records.readVolume(volumeId);
      if (!record) return;
      if (record.state !== 'destroyed') {
        const machineId = await this.records.attachedMachineId(volumeId);
        if (machineId) {
          throw new VolumeAttachedError(`volume ${volumeId} is attached to machine ${machineId}`, {
            context: { volumeId, machineId },
          });
        }
        // Tombstone first, then remove data: a crash in between leaves a deleted volume whose
        // leftovers the next (idempotent) delete removes.
        record.state = 'destroyed';
        record.deletedAt = now();
        await writeJsonAtomic(this.layout.volumeFile(volumeId), record);
      }
      await rm(this.layout.volumeDataDir(volumeId), { recursive: true, force: true });
      for (const snapshot of await this.records.readSnapshots(volumeId)) {
        await rm(this.layout.snapshotDir(snapshot.id), { recursive: true, force: true });
      }
    });
  }

  async findVolumes(filter: TagFilter): Promise<Volume[]> {
    const records = (await Promise.all((await listDir(this.layout.volumesDir())).map((id) => this.records.readVolume(id)))).filter(
      (record): record is VolumeRecord => record !== null && record.state !== 'destroyed' && matchesTags(record.tags, filter),
    );
    if (records.length === 0) return [];
    const attachments = await this.records.attachments();
    return records.sort(byId).map((record) => toVolume(record, attachments.get(record.id) ?? null));
  }

  async listSnapshots(volumeId: string): Promise<Snapshot[]> {
    return this.records.readSnapshots(volumeId);
  }

  async createSnapshot(volumeId: string): Promise<Snapshot> {
    return withLock(this.layout.volumeKey(volumeId), async () => {
      const volume = await this.records.readVolume(volumeId);
      if (!volume || volume.state === 'destroyed') {
        throw new ProviderResourceNotFoundError(`volume ${volumeId} not found`, { context: { volumeId } });
      }
      const id = newId('snap');
      const dataDir = path.join(this.layout.snapshotDir(id), 'data');
      await mkdir(dataDir, { recursive: true });
      await cp(this.layout.volumeDataDir(volumeId), dataDir, { recursive: true });
      const snapshot: Snapshot = { id, volumeId, sizeBytes: await directorySize(dataDir), createdAt: now() };
      // Metadata last: listSnapshots never sees a half-made copy.
      await writeJsonAtomic(path.join(this.layout.snapshotDir(id), 'snapshot.json'), snapshot);
      return snapshot;
    });
  }
}

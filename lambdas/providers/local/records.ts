import { EventEmitter } from 'node:events';
import path from 'node:path';
import { ProviderResourceNotFoundError } from '../../shared/errors/provider';
import type { Machine, MachineExit, MachineState, ResourceTags, Snapshot, TagFilter, Volume } from '../compute-provider';
import { byId, isSafeId, now, type LocalLayout } from './layout';
import { listDir, readJson, writeJsonAtomic } from './local-store';

/** States in which a machine record names a process that should be alive. */
export const PROCESS_STATES: ReadonlySet<MachineState> = new Set(['starting', 'started', 'stopping']);

/** A volume as stored in its `volume.json`. */
export interface VolumeRecord {
  id: string;
  name: string;
  region: string;
  sizeGb: number;
  state: Volume['state'];
  sourceVolumeId: string | null;
  tags: ResourceTags;
  createdAt: string;
  deletedAt: string | null;
}

/** A machine as stored in its record file. */
export interface MachineRecord {
  id: string;
  name: string;
  region: string;
  size: string;
  image: string;
  state: MachineState;
  mount: { volumeId: string; path: string };
  tags: ResourceTags;
  env: Record<string, string>;
  /** The process of the current boot, while one should be alive. */
  pid: number | null;
  port: number | null;
  /** Random token of the current (or last) boot, on the child's command line to recognise its pid. */
  bootId: string | null;
  lastExit: MachineExit | null;
  createdAt: string;
  updatedAt: string;
}

// Module-wide: waiters hear about writes by any provider object over the same rootDir.
const machineChanges = new EventEmitter().setMaxListeners(0);

/** Files open at once when many records are read (a fleet of 20,000 must not run out of descriptors). */
const OPEN_AT_ONCE = 128;

/** `read` of every id, at most OPEN_AT_ONCE at a time, in order. */
export async function inBatches<T, R>(ids: readonly T[], read: (id: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < ids.length; i += OPEN_AT_ONCE) out.push(...(await Promise.all(ids.slice(i, i + OPEN_AT_ONCE).map(read))));
  return out;
}

/** Reads and writes the local provider's records; every write of a machine wakes its waiters. */
export class LocalRecords {
  constructor(private readonly layout: LocalLayout) {}

  /** A machine record, or ProviderResourceNotFound. */
  async readMachineOrThrow(machineId: string): Promise<MachineRecord> {
    const record = await this.readMachine(machineId);
    if (!record) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    return record;
  }

  /** A machine record as stored, or null (unsafe ids are never found). */
  async readMachine(machineId: string): Promise<MachineRecord | null> {
    return isSafeId(machineId) ? readJson<MachineRecord>(this.layout.machineFile(machineId)) : null;
  }

  /** Every machine record, destroyed ones included. */
  async readMachines(): Promise<MachineRecord[]> {
    const ids = (await listDir(this.layout.machinesDir()))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length));
    const records = await inBatches(ids, (id) => this.readMachine(id));
    return records.filter((record): record is MachineRecord => record !== null);
  }

  /** The machine records after id `after` in id order, at most `limit`, and whether more follow (one page of a listing). */
  async readMachinePage(after: string | undefined, limit: number): Promise<{ records: MachineRecord[]; more: boolean }> {
    const ids = (await listDir(this.layout.machinesDir()))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .filter((id) => after === undefined || id > after)
      .sort();
    const page = ids.slice(0, limit);
    const records = await inBatches(page, (id) => this.readMachine(id));
    return { records: records.filter((record): record is MachineRecord => record !== null), more: ids.length > limit };
  }

  /** Write a machine record (atomically) and wake whoever waits on that machine. */
  async writeMachine(record: MachineRecord): Promise<void> {
    await writeJsonAtomic(this.layout.machineFile(record.id), { ...record, updatedAt: now() });
    machineChanges.emit(this.layout.machineKey(record.id));
  }

  /** Resolves at the next write to the machine, or after `timeoutMs`. */
  nextChange(machineId: string, timeoutMs: number): Promise<void> {
    const key = this.layout.machineKey(machineId);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        machineChanges.off(key, wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      machineChanges.on(key, wake);
    });
  }

  /** A volume record as stored, or null. */
  async readVolume(volumeId: string): Promise<VolumeRecord | null> {
    return isSafeId(volumeId) ? readJson<VolumeRecord>(this.layout.volumeFile(volumeId)) : null;
  }

  /** A volume's snapshots, oldest first. */
  async readSnapshots(volumeId: string): Promise<Snapshot[]> {
    const ids = (await listDir(this.layout.snapshotsDir())).filter(isSafeId);
    const snapshots = await Promise.all(ids.map((id) => readJson<Snapshot>(path.join(this.layout.snapshotDir(id), 'snapshot.json'))));
    return snapshots.filter((snapshot): snapshot is Snapshot => snapshot !== null && snapshot.volumeId === volumeId).sort(byId);
  }

  /** Volume id → the non-destroyed machine that mounts it. */
  async attachments(): Promise<Map<string, string>> {
    const attached = new Map<string, string>();
    for (const machine of await this.readMachines()) {
      if (machine.state !== 'destroyed') attached.set(machine.mount.volumeId, machine.id);
    }
    return attached;
  }

  /** The non-destroyed machine that mounts the volume, or null. */
  async attachedMachineId(volumeId: string): Promise<string | null> {
    return (await this.attachments()).get(volumeId) ?? null;
  }
}

/** The port's view of a volume record. */
export function toVolume(record: VolumeRecord, attachedMachineId: string | null): Volume {
  return {
    id: record.id,
    name: record.name,
    region: record.region,
    sizeGb: record.sizeGb,
    state: record.state,
    attachedMachineId,
    sourceVolumeId: record.sourceVolumeId,
    tags: { ...record.tags },
    createdAt: record.createdAt,
  };
}

/** The port's view of a machine record; the endpoint exists only while it is started. */
export function toMachine(record: MachineRecord): Machine {
  return {
    id: record.id,
    name: record.name,
    region: record.region,
    size: record.size,
    image: record.image,
    state: record.state,
    mount: { ...record.mount },
    tags: { ...record.tags },
    endpoint: record.state === 'started' && record.port !== null ? `http://127.0.0.1:${record.port}` : null,
    lastExit: record.lastExit,
    createdAt: record.createdAt,
  };
}

/** The record of a machine whose process ended. */
export function stoppedRecord(record: MachineRecord, lastExit: MachineExit): MachineRecord {
  return { ...record, state: 'stopped', pid: null, port: null, lastExit };
}

/** Whether tags carry every value the filter gives. */
export function matchesTags(tags: ResourceTags, filter: TagFilter): boolean {
  return (Object.keys(filter) as Array<keyof ResourceTags>).every(
    (key) => filter[key] === undefined || tags[key] === filter[key],
  );
}

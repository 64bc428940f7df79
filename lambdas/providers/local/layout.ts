import path from 'node:path';
import { ulid } from 'ulid';

/**
 * Where the local provider keeps everything, under one root directory, so a new provider object
 * over the same directory (after a restart) sees the same world:
 *
 *   <rootDir>/volumes/<volumeId>/volume.json        metadata; data in .../data/ (the machine's mount)
 *   <rootDir>/snapshots/<snapshotId>/snapshot.json  metadata; the copy in .../data/
 *   <rootDir>/machines/<machineId>.json             machine record (state, pid, port, last exit)
 *   <rootDir>/machines/<machineId>.log              the machine's stdout and stderr
 *   <rootDir>/staging/<volumeId>/                    a volume being made (metadata and data dir), renamed
 *                                                    into volumes/ in one step; leftovers removed at start
 */
export class LocalLayout {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
  }

  /** Directory of every volume. */
  volumesDir(): string {
    return path.join(this.rootDir, 'volumes');
  }

  /** A volume's metadata file. */
  volumeFile(volumeId: string): string {
    return path.join(this.volumesDir(), volumeId, 'volume.json');
  }

  /** Where a volume is put together before one rename publishes it (same file system as volumes/). */
  stagingDir(volumeId?: string): string {
    return volumeId ? path.join(this.rootDir, 'staging', volumeId) : path.join(this.rootDir, 'staging');
  }

  /** A volume's directory. */
  volumeDir(volumeId: string): string {
    return path.join(this.volumesDir(), volumeId);
  }

  /** A volume's data: what its machine mounts. */
  volumeDataDir(volumeId: string): string {
    return path.join(this.volumesDir(), volumeId, 'data');
  }

  /** Directory of every snapshot. */
  snapshotsDir(): string {
    return path.join(this.rootDir, 'snapshots');
  }

  /** One snapshot's directory. */
  snapshotDir(snapshotId: string): string {
    return path.join(this.snapshotsDir(), snapshotId);
  }

  /** Directory of machine records and logs. */
  machinesDir(): string {
    return path.join(this.rootDir, 'machines');
  }

  /** A machine's record. */
  machineFile(machineId: string): string {
    return path.join(this.machinesDir(), `${machineId}.json`);
  }

  /** A machine's stdout and stderr. */
  machineLog(machineId: string): string {
    return path.join(this.machinesDir(), `${machineId}.log`);
  }

  /** Lock key of a machine (one per root, so two roots never share locks). */
  machineKey(machineId: string): string {
    return `${this.rootDir}\0machine\0${machineId}`;
  }

  /** Lock key of a volume. */
  volumeKey(volumeId: string): string {
    return `${this.rootDir}\0volume\0${volumeId}`;
  }
}

/** Lower-case ULIDs sort by creation time, so listings come back oldest first. */
export function newId(prefix: 'vol' | 'm' | 'snap'): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

/** Ids become file names: anything else (`../x`) is simply not found. */
export function isSafeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id);
}

/** Oldest first (ids are time-sortable). */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The current time as stored in records. */
export function now(): string {
  return new Date().toISOString();
}

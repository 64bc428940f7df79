/**
 * The `local` compute provider: machines are real child processes running `machine-image.cjs`,
 * volumes are directories, snapshots are copies. Everything it knows lives under `rootDir`
 * (`layout.ts`), so a new provider object over the same directory (after a restart) sees the same
 * world. Only the local runtime and tests use it: no Lambda handler reaches this module (an import
 * rule in `.dependency-cruiser.cjs` checks that), so no Lambda bundle carries it.
 *
 * Deliberate simplifications against Fly, all documented where they live: snapshots die with their
 * volume (`volumes.ts`); destroyed resources stay as tombstones; a machine runs the default image
 * whatever `spec.image` says (`machines.ts`).
 */
import type {
  ComputeProvider,
  ForkVolumeSpec,
  ImportVolumeSpec,
  FleetPage,
  Inventory,
  Machine,
  MachineExitNotice,
  MachineHealth,
  MachineSpec,
  MachineState,
  Snapshot,
  TagFilter,
  Volume,
  VolumeSeed,
  VolumeSpec,
} from '../compute-provider';
import { LocalLayout } from './layout';
import { removeTempFiles } from './local-store';
import { LocalMachines } from './machines';
import { MachineProcesses } from './processes';
import { LocalRecords } from './records';
import { LocalVolumes } from './volumes';

export { LOCAL_MACHINE_IMAGE_PATH } from './processes';

/** Options of the local provider. */
export interface LocalComputeProviderOptions {
  /** Directory holding volumes, snapshots and machine records; created on demand. */
  rootDir: string;
  /** The provider's name as instances record it (default `local`); several roots may each have one. */
  name?: string;
  /** How long a spawned machine may take to listen before it is killed as a failed start. */
  startTimeoutMs?: number;
  /**
   * Take a snapshot of a volume when a machine starts on it and its newest snapshot is over a day old
   * (or it has none), as Fly snapshots every volume daily. Off unless asked (tests choose their
   * snapshots); `npm start`'s default providers turn it on, so a recovery there retains the old volume.
   */
  dailySnapshots?: boolean;
  /** Records per page of `listNotRunning` (default 1000, as Fly's org listing pages at most). */
  listPageSize?: number;
}

/** How old a volume's newest snapshot may be before a start takes another (`dailySnapshots`). */
const DAILY_MS = 24 * 3600 * 1000;

const DEFAULT_START_TIMEOUT_MS = 10_000;

/** `ComputeProvider` over the local machine: real processes, directories, copies. */
export class LocalComputeProvider implements ComputeProvider {
  readonly name: string;
  readonly rootDir: string;
  private readonly volumes: LocalVolumes;
  private readonly machines: LocalMachines;
  private readonly processes: MachineProcesses;
  private readonly dailySnapshots: boolean;
  private readonly listPageSize: number;
  private readonly layout: LocalLayout;

  constructor(options: LocalComputeProviderOptions) {
    this.dailySnapshots = options.dailySnapshots ?? false;
    this.listPageSize = options.listPageSize ?? 1000;
    const layout = new LocalLayout(options.rootDir);
    this.layout = layout;
    const records = new LocalRecords(layout);
    this.name = options.name ?? 'local';
    this.rootDir = layout.rootDir;
    this.processes = new MachineProcesses(layout, records, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    this.volumes = new LocalVolumes(layout, records);
    this.machines = new LocalMachines(layout, records, this.processes);
  }

  createVolume(spec: VolumeSpec): Promise<Volume> {
    return this.volumes.createVolume(spec);
  }
  forkVolume(spec: ForkVolumeSpec): Promise<Volume> {
    return this.volumes.forkVolume(spec);
  }
  seedOf(volumeId: string): Promise<VolumeSeed> {
    return this.volumes.seedOf(volumeId);
  }
  importVolume(spec: ImportVolumeSpec): Promise<Volume> {
    return this.volumes.importVolume(spec);
  }
  getVolume(volumeId: string): Promise<Volume | null> {
    return this.volumes.getVolume(volumeId);
  }
  deleteVolume(volumeId: string): Promise<void> {
    return this.volumes.deleteVolume(volumeId);
  }
  findVolumes(filter: TagFilter): Promise<Volume[]> {
    return this.volumes.findVolumes(filter);
  }
  listSnapshots(volumeId: string): Promise<Snapshot[]> {
    return this.volumes.listSnapshots(volumeId);
  }
  createSnapshot(volumeId: string): Promise<Snapshot> {
    return this.volumes.createSnapshot(volumeId);
  }

  async createMachine(spec: MachineSpec): Promise<Machine> {
    const machine = await this.machines.createMachine(spec);
    if (spec.start !== false) await this.snapshotIfDue(spec.volumeId);
    return machine;
  }
  getMachine(machineId: string): Promise<Machine | null> {
    return this.machines.getMachine(machineId);
  }
  async startMachine(machineId: string): Promise<Machine> {
    const machine = await this.machines.startMachine(machineId);
    if (machine.mount) await this.snapshotIfDue(machine.mount.volumeId);
    return machine;
  }

  /** The daily snapshot (`dailySnapshots`): best effort, like Fly's, so a start never fails for it. */
  private async snapshotIfDue(volumeId: string): Promise<void> {
    if (!this.dailySnapshots) return;
    try {
      const newest = (await this.volumes.listSnapshots(volumeId)).map((snapshot) => Date.parse(snapshot.createdAt)).sort((a, b) => b - a)[0];
      if (newest === undefined || Date.now() - newest > DAILY_MS) await this.volumes.createSnapshot(volumeId);
    } catch {
      // A volume deleted meanwhile has nothing to snapshot.
    }
  }
  stopMachine(machineId: string): Promise<Machine> {
    return this.machines.stopMachine(machineId);
  }
  destroyMachine(machineId: string): Promise<void> {
    return this.machines.destroyMachine(machineId);
  }
  onUnrequestedExit(listener: (exit: MachineExitNotice) => void): () => void {
    return this.processes.onUnrequestedExit(listener);
  }
  listNotRunning(cursor?: string): Promise<FleetPage> {
    return this.machines.listNotRunning(cursor, this.listPageSize);
  }
  findMachines(filter: TagFilter): Promise<Machine[]> {
    return this.machines.findMachines(filter);
  }
  waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine> {
    return this.machines.waitForState(machineId, state, timeoutMs);
  }
  probeHealth(machineId: string): Promise<MachineHealth> {
    return this.machines.probeHealth(machineId);
  }

  async inventory(filter: TagFilter): Promise<Inventory> {
    const [machines, volumes] = await Promise.all([this.findMachines(filter), this.findVolumes(filter)]);
    return { machines, volumes };
  }

  /**
   * The host came back: finish the volumes a crash interrupted and boot again the machines that ran
   * when it went down (see LocalMachines.resumeAfterHostRestart), but those in `keepStopped` (their
   * instance is being destroyed). The local runtime calls it at start.
   */
  async resumeAfterHostRestart(options: { keepStopped?: ReadonlySet<string> } = {}): Promise<string[]> {
    // Temp files of atomic writes a SIGKILL interrupted: machine records, volume and snapshot metadata.
    await removeTempFiles(this.layout.machinesDir(), 0);
    await removeTempFiles(this.layout.volumesDir(), 1);
    await removeTempFiles(this.layout.snapshotsDir(), 1);
    await this.volumes.repairAfterHostRestart();
    return this.machines.resumeAfterHostRestart(options);
  }

  /** The OS pid of the machine's process while one should run (for tests and debugging). */
  processId(machineId: string): Promise<number | null> {
    return this.machines.processId(machineId);
  }

  /**
   * Kills every machine process this object started and waits for them to exit, leaving the
   * records as they are: a provider over the same rootDir later reads those machines as stopped
   * by an unexpected exit, as after a crash of the host.
   */
  shutdown(): Promise<void> {
    return this.processes.shutdown();
  }
}

/**
 * The `local` compute provider: machines are real child processes running `machine-image.cjs`,
 * volumes are directories, snapshots are copies. Everything it knows lives under `rootDir`, so a
 * new provider object over the same directory (after a restart) sees the same world:
 *
 *   <rootDir>/volumes/<volumeId>/volume.json   metadata; data in .../data/ (the machine's mount)
 *   <rootDir>/snapshots/<snapshotId>/snapshot.json   metadata; the copy in .../data/
 *   <rootDir>/machines/<machineId>.json        machine record (state, pid, port, last exit)
 *   <rootDir>/machines/<machineId>.log         the machine's stdout and stderr
 *
 * Deliberate simplifications against Fly, all documented here:
 * - Deleting a volume also deletes its snapshots (on Fly they outlive it for a while).
 * - Deleted volumes and destroyed machines stay as tombstones (`state: 'destroyed'`): `get*`
 *   returns them, `find*` and `inventory` leave them out.
 * - A machine runs the default image whatever `spec.image` says; the image name is only recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { ulid } from 'ulid';

import {
  MachineNotReadyError,
  MachineStartFailedError,
  ProviderResourceNotFoundError,
  ProviderUnavailableError,
  VolumeAttachedError,
  messageOf,
} from '../../shared/errors';
import type {
  ComputeProvider,
  ForkVolumeSpec,
  Inventory,
  Machine,
  MachineExit,
  MachineHealth,
  MachineSpec,
  MachineState,
  ResourceTags,
  Snapshot,
  TagFilter,
  Volume,
  VolumeSpec,
} from '../compute-provider';
import { directorySize, isMachineProcess, listDir, readJson, withLock, writeJsonAtomic } from './local-store';

/** Options of the local provider. */
export interface LocalComputeProviderOptions {
  /** Directory holding volumes, snapshots and machine records; created on demand. */
  rootDir: string;
  /** How long a spawned machine may take to listen before it is killed as a failed start. */
  startTimeoutMs?: number;
}

/** The default image every local machine runs. */
export const LOCAL_MACHINE_IMAGE_PATH = path.join(__dirname, 'machine-image.cjs');

const DEFAULT_START_TIMEOUT_MS = 10_000;
/** How long a machine gets to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Fallback poll of `waitForState` for changes no event tells us about (a pid killed from outside). */
const WAIT_POLL_MS = 100;
const PROBE_TIMEOUT_MS = 2_000;

/** States in which a machine record names a process that should be alive. */
const PROCESS_STATES: ReadonlySet<MachineState> = new Set(['starting', 'started', 'stopping']);

interface VolumeRecord {
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

interface MachineRecord {
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

/** A child process this provider object spawned. */
interface OwnedChild {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** `undefined` while it runs. */
  exitCode: number | null | undefined;
  startTimer: NodeJS.Timeout | null;
}

// Module-wide: the exit hook must reach the children of every provider object in the process.
const livePids = new Set<number>();
let exitHookInstalled = false;
// Module-wide: waiters hear about writes by any provider object over the same rootDir.
const machineChanges = new EventEmitter().setMaxListeners(0);

function killAllMachinesSync(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  livePids.clear();
}

function trackPid(pid: number): void {
  livePids.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL is. (The image also exits on IPC disconnect,
    // which covers a parent that dies without running this hook.)
    process.once('exit', killAllMachinesSync);
  }
}

/** `ComputeProvider` over the local machine: real processes, directories, copies. */
export class LocalComputeProvider implements ComputeProvider {
  readonly name = 'local';
  readonly rootDir: string;
  private readonly startTimeoutMs: number;
  private readonly children = new Map<string, OwnedChild>();
  private closed = false;

  constructor(options: LocalComputeProviderOptions) {
    this.rootDir = path.resolve(options.rootDir);
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  }

  /** SIGKILLs every machine process any local provider in this process started (last resort). */
  static killAllMachines(): void {
    killAllMachinesSync();
  }

  // ---- volumes -------------------------------------------------------------------------------

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
    // Data dir first, metadata last: a listed volume always has its directory.
    await mkdir(this.volumeDataDir(record.id), { recursive: true });
    await writeJsonAtomic(this.volumeFile(record.id), record);
    return toVolume(record, null);
  }

  async forkVolume(spec: ForkVolumeSpec): Promise<Volume> {
    const source = await this.readVolume(spec.sourceVolumeId);
    if (!source || source.state === 'destroyed') {
      throw new ProviderResourceNotFoundError(`volume ${spec.sourceVolumeId} not found`, {
        context: { volumeId: spec.sourceVolumeId },
      });
    }
    const record: VolumeRecord = {
      id: newId('vol'),
      name: spec.name,
      region: source.region,
      sizeGb: source.sizeGb,
      state: 'hydrating',
      sourceVolumeId: source.id,
      tags: { ...spec.tags },
      createdAt: now(),
      deletedAt: null,
    };
    await mkdir(this.volumeDataDir(record.id), { recursive: true });
    await writeJsonAtomic(this.volumeFile(record.id), record);
    try {
      // The source's lock keeps deleteVolume from removing the data under the copy.
      await withLock(this.volumeKey(source.id), () =>
        cp(this.volumeDataDir(source.id), this.volumeDataDir(record.id), { recursive: true }),
      );
    } catch (error) {
      await this.deleteVolume(record.id);
      throw new ProviderUnavailableError(`fork of volume ${source.id} failed: ${messageOf(error)}`, {
        cause: error,
        context: { volumeId: record.id, sourceVolumeId: source.id },
      });
    }
    return withLock(this.volumeKey(record.id), async () => {
      const current = await this.readVolume(record.id);
      if (!current) throw new ProviderResourceNotFoundError(`volume ${record.id} vanished while forking`);
      if (current.state === 'hydrating') {
        current.state = 'created';
        await writeJsonAtomic(this.volumeFile(current.id), current);
      }
      return toVolume(current, await this.attachedMachineId(current.id));
    });
  }

  async getVolume(volumeId: string): Promise<Volume | null> {
    const record = await this.readVolume(volumeId);
    if (!record) return null;
    const attached = record.state === 'destroyed' ? null : await this.attachedMachineId(volumeId);
    return toVolume(record, attached);
  }

  /** Idempotent. Also deletes the volume's snapshots (a local simplification, see the header). */
  async deleteVolume(volumeId: string): Promise<void> {
    if (!isSafeId(volumeId)) return;
    await withLock(this.volumeKey(volumeId), async () => {
      const record = await this.readVolume(volumeId);
      if (!record) return;
      if (record.state !== 'destroyed') {
        const machineId = await this.attachedMachineId(volumeId);
        if (machineId) {
          throw new VolumeAttachedError(`volume ${volumeId} is attached to machine ${machineId}`, {
            context: { volumeId, machineId },
          });
        }
        // Tombstone first, then remove data: a crash in between leaves a deleted volume whose
        // leftovers the next (idempotent) delete removes.
        record.state = 'destroyed';
        record.deletedAt = now();
        await writeJsonAtomic(this.volumeFile(volumeId), record);
      }
      await rm(this.volumeDataDir(volumeId), { recursive: true, force: true });
      for (const snapshot of await this.readSnapshots(volumeId)) {
        await rm(this.snapshotDir(snapshot.id), { recursive: true, force: true });
      }
    });
  }

  async findVolumes(filter: TagFilter): Promise<Volume[]> {
    const records = (await Promise.all((await listDir(this.volumesDir())).map((id) => this.readVolume(id)))).filter(
      (record): record is VolumeRecord => record !== null && record.state !== 'destroyed' && matchesTags(record.tags, filter),
    );
    if (records.length === 0) return [];
    const attachments = await this.attachments();
    return records.sort(byId).map((record) => toVolume(record, attachments.get(record.id) ?? null));
  }

  async listSnapshots(volumeId: string): Promise<Snapshot[]> {
    return this.readSnapshots(volumeId);
  }

  async createSnapshot(volumeId: string): Promise<Snapshot> {
    return withLock(this.volumeKey(volumeId), async () => {
      const volume = await this.readVolume(volumeId);
      if (!volume || volume.state === 'destroyed') {
        throw new ProviderResourceNotFoundError(`volume ${volumeId} not found`, { context: { volumeId } });
      }
      const id = newId('snap');
      const dataDir = path.join(this.snapshotDir(id), 'data');
      await mkdir(dataDir, { recursive: true });
      await cp(this.volumeDataDir(volumeId), dataDir, { recursive: true });
      const snapshot: Snapshot = { id, volumeId, sizeBytes: await directorySize(dataDir), createdAt: now() };
      // Metadata last: listSnapshots never sees a half-made copy.
      await writeJsonAtomic(path.join(this.snapshotDir(id), 'snapshot.json'), snapshot);
      return snapshot;
    });
  }

  // ---- machines ------------------------------------------------------------------------------

  async createMachine(spec: MachineSpec): Promise<Machine> {
    this.assertOpen();
    const id = newId('m');
    const record = await withLock(this.volumeKey(spec.volumeId), async () => {
      const volume = await this.readVolume(spec.volumeId);
      if (!volume || volume.state === 'destroyed') {
        throw new ProviderResourceNotFoundError(`volume ${spec.volumeId} not found`, {
          context: { volumeId: spec.volumeId },
        });
      }
      const holder = await this.attachedMachineId(spec.volumeId);
      if (holder) {
        throw new VolumeAttachedError(`volume ${spec.volumeId} is already attached to machine ${holder}`, {
          context: { volumeId: spec.volumeId, machineId: holder },
        });
      }
      const created: MachineRecord = {
        id,
        name: spec.name,
        region: spec.region,
        size: spec.size,
        image: spec.image,
        state: 'created',
        mount: { volumeId: spec.volumeId, path: spec.mountPath },
        tags: { ...spec.tags },
        env: { ...spec.env },
        pid: null,
        port: null,
        bootId: null,
        lastExit: null,
        createdAt: now(),
        updatedAt: now(),
      };
      // Written while holding the volume's lock, so a concurrent deleteVolume sees the mount.
      await this.writeMachine(created);
      return created;
    });
    if (spec.start === false) return toMachine(record);
    return this.startMachine(id);
  }

  async getMachine(machineId: string): Promise<Machine | null> {
    const record = await this.readMachineFresh(machineId);
    return record ? toMachine(record) : null;
  }

  /** Spawns the machine's process and returns at once (state `starting`); a no-op when it runs. */
  async startMachine(machineId: string): Promise<Machine> {
    this.assertOpen();
    for (;;) {
      const outcome = await withLock(this.machineKey(machineId), async () => {
        const record = await this.refreshLocked(await this.readMachineOrThrow(machineId));
        switch (record.state) {
          case 'destroying':
          case 'destroyed':
            throw new ProviderResourceNotFoundError(`machine ${machineId} is ${record.state}`, {
              context: { machineId },
            });
          case 'stopping':
            return 'wait-for-stop' as const;
          case 'starting':
          case 'started':
            return record;
          default:
            return this.spawnLocked(record);
        }
      });
      if (outcome !== 'wait-for-stop') return toMachine(outcome);
      // A stop is under way: let it finish, then start from `stopped`.
      await this.waitUntil(machineId, (state) => state !== 'stopping', STOP_GRACE_MS * 2);
    }
  }

  /** SIGTERM, wait for the exit (SIGKILL after a grace period); `stopped` with `requestedStop: true`. */
  async stopMachine(machineId: string): Promise<Machine> {
    const target = await withLock(this.machineKey(machineId), async () => {
      const record = await this.refreshLocked(await this.readMachineOrThrow(machineId));
      if (record.state === 'starting' || record.state === 'started') {
        await this.writeMachine({ ...record, state: 'stopping' });
      } else if (record.state !== 'stopping') {
        return null; // created, stopped, destroying, destroyed: nothing to stop.
      }
      return { pid: record.pid, bootId: record.bootId };
    });
    if (target) {
      const exitCode = await this.terminate(target.pid, target.bootId);
      await withLock(this.machineKey(machineId), async () => {
        const record = await this.readMachine(machineId);
        // The exit handler may have recorded it already; a concurrent destroy owns it otherwise.
        if (record && record.bootId === target.bootId && record.state === 'stopping') {
          await this.writeMachine(stoppedRecord(record, { requestedStop: true, exitCode, at: now() }));
        }
      });
    }
    return toMachine(await this.readMachineOrThrow(machineId));
  }

  async destroyMachine(machineId: string): Promise<void> {
    if (!isSafeId(machineId)) return;
    const target = await withLock(this.machineKey(machineId), async () => {
      const found = await this.readMachine(machineId);
      if (!found || found.state === 'destroyed') return null;
      const record = await this.refreshLocked(found);
      // `destroying` first, so a concurrent start refuses instead of spawning behind our back.
      await this.writeMachine({ ...record, state: 'destroying' });
      const running = record.pid !== null && (await this.isAlive(record));
      return { pid: record.pid, bootId: record.bootId, running };
    });
    if (!target) return;
    const exitCode = target.running ? await this.terminate(target.pid, target.bootId) : null;
    await withLock(this.machineKey(machineId), async () => {
      const record = await this.readMachine(machineId);
      if (!record || record.state !== 'destroying') return;
      const lastExit = target.running ? { requestedStop: true, exitCode, at: now() } : record.lastExit;
      await this.writeMachine({ ...record, state: 'destroyed', pid: null, port: null, lastExit });
    });
  }

  async findMachines(filter: TagFilter): Promise<Machine[]> {
    const records = await this.readMachines();
    const matching = records.filter((record) => record.state !== 'destroyed' && matchesTags(record.tags, filter));
    const fresh = await Promise.all(matching.map((record) => this.readMachineFresh(record.id)));
    return fresh
      .filter((record): record is MachineRecord => record !== null && record.state !== 'destroyed')
      .sort(byId)
      .map(toMachine);
  }

  async waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine> {
    const machine = await this.waitUntil(machineId, (current) => {
      if (current === state) return true;
      if (state === 'started' && (current === 'stopped' || current === 'destroying' || current === 'destroyed')) {
        return true; // Settled elsewhere: report the failed start below.
      }
      return false;
    }, timeoutMs, state);
    if (machine.state !== state) {
      const exit = machine.lastExit;
      const detail = exit ? ` (last exit: code ${exit.exitCode}, requested ${exit.requestedStop})` : '';
      throw new MachineStartFailedError(`machine ${machineId} is ${machine.state} instead of started${detail}`, {
        context: { machineId, state: machine.state, lastExit: exit },
      });
    }
    return machine;
  }

  async probeHealth(machineId: string): Promise<MachineHealth> {
    const machine = await this.getMachine(machineId);
    if (!machine) {
      throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    }
    if (machine.state !== 'started' || !machine.endpoint) {
      return { healthy: false, status: null, body: null, error: `machine is ${machine.state}` };
    }
    try {
      const { status, body } = await httpGetJson(`${machine.endpoint}/healthz`, PROBE_TIMEOUT_MS);
      // A recycled port could answer for another machine: healthy means "this machine answered 200".
      const answeredMachine = (body as { machineId?: unknown } | null)?.machineId;
      if (status !== 200) return { healthy: false, status, body, error: `health check answered ${status}` };
      if (answeredMachine !== machineId) {
        return { healthy: false, status, body, error: `answered as machine ${String(answeredMachine)}` };
      }
      return { healthy: true, status, body, error: null };
    } catch (error) {
      return { healthy: false, status: null, body: null, error: messageOf(error) };
    }
  }

  async inventory(filter: TagFilter): Promise<Inventory> {
    const [machines, volumes] = await Promise.all([this.findMachines(filter), this.findVolumes(filter)]);
    return { machines, volumes };
  }

  // ---- lifecycle of this provider object ------------------------------------------------------

  /** The OS pid of the machine's process while one should run (for tests and debugging). */
  async processId(machineId: string): Promise<number | null> {
    return (await this.readMachineFresh(machineId))?.pid ?? null;
  }

  /**
   * Kills every machine process this object started and waits for them to exit, leaving the
   * records as they are: a provider over the same rootDir later reads those machines as stopped
   * by an unexpected exit, as after a crash of the host.
   */
  async shutdown(): Promise<void> {
    this.closed = true;
    const running = [...this.children.values()];
    for (const owned of running) {
      if (owned.startTimer) clearTimeout(owned.startTimer);
      if (owned.exitCode === undefined) owned.child.kill('SIGKILL');
    }
    await Promise.all(running.map((owned) => owned.exited));
    this.children.clear();
  }

  // ---- internals -----------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new ProviderUnavailableError('the local provider has been shut down');
  }

  /** Spawns a boot of the machine. Caller holds the machine's lock. */
  private async spawnLocked(record: MachineRecord): Promise<MachineRecord> {
    const bootId = randomBytes(8).toString('hex');
    const logFd = openSync(this.machineLog(record.id), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [LOCAL_MACHINE_IMAGE_PATH, `--slipway-machine=${record.id}`, bootToken(bootId)], {
        cwd: this.rootDir,
        // Only what the machine needs: the host's environment (credentials, NODE_OPTIONS) stays out.
        env: {
          ...record.env,
          SLIPWAY_INSTANCE_ID: record.tags.instance,
          SLIPWAY_MACHINE_ID: record.id,
          SLIPWAY_MOUNT_DIR: this.volumeDataDir(record.mount.volumeId),
          SLIPWAY_MOUNT_PATH: record.mount.path,
        },
        // Attached (not detached) with an IPC channel: the port comes back over it, and its
        // disconnect tells the machine that the parent is gone.
        stdio: ['ignore', logFd, logFd, 'ipc'],
        windowsHide: true,
      });
    } catch (error) {
      throw new ProviderUnavailableError(`could not spawn machine ${record.id}: ${messageOf(error)}`, {
        cause: error,
        context: { machineId: record.id },
      });
    } finally {
      closeSync(logFd);
    }
    child.on('error', () => {
      // Spawn failures show up as a missing pid below; later errors (a failed kill) change nothing.
    });
    const pid = child.pid;
    if (pid === undefined) {
      const failed = stoppedRecord({ ...record, bootId }, { requestedStop: false, exitCode: null, at: now() });
      await this.writeMachine(failed);
      return failed;
    }
    trackPid(pid);

    let resolveExited!: (code: number | null) => void;
    const owned: OwnedChild = {
      child,
      exited: new Promise((resolve) => {
        resolveExited = resolve;
      }),
      exitCode: undefined,
      startTimer: null,
    };
    this.children.set(bootId, owned);
    child.once('exit', (code) => {
      owned.exitCode = code;
      livePids.delete(pid);
      if (owned.startTimer) clearTimeout(owned.startTimer);
      resolveExited(code);
      // If this write fails (rootDir removed), the next read reconciles from the dead pid anyway.
      this.onExit(record.id, bootId, owned).catch(() => undefined);
    });
    child.on('message', (message: unknown) => {
      const port = (message as { type?: unknown; port?: unknown } | null)?.port;
      if ((message as { type?: unknown }).type === 'listening' && typeof port === 'number') {
        if (owned.startTimer) clearTimeout(owned.startTimer);
        this.onListening(record.id, bootId, port).catch(() => undefined);
      }
    });
    owned.startTimer = setTimeout(() => {
      this.onStartTimeout(record.id, bootId, owned).catch(() => undefined);
    }, this.startTimeoutMs);
    owned.startTimer.unref();
    // Machines never keep the host process alive; the exit hook and the IPC disconnect end them.
    child.unref();
    child.channel?.unref();

    const starting: MachineRecord = { ...record, state: 'starting', pid, port: null, bootId };
    await this.writeMachine(starting);
    return starting;
  }

  private async onListening(machineId: string, bootId: string, port: number): Promise<void> {
    await withLock(this.machineKey(machineId), async () => {
      const record = await this.readMachine(machineId);
      if (record && record.bootId === bootId && record.state === 'starting') {
        await this.writeMachine({ ...record, state: 'started', port });
      }
    });
  }

  private async onStartTimeout(machineId: string, bootId: string, owned: OwnedChild): Promise<void> {
    await withLock(this.machineKey(machineId), async () => {
      const record = await this.readMachine(machineId);
      // The exit handler then records the failed start as an unexpected exit.
      if (record && record.bootId === bootId && record.state === 'starting') owned.child.kill('SIGKILL');
    });
  }

  private async onExit(machineId: string, bootId: string, owned: OwnedChild): Promise<void> {
    // After shutdown() the records stay as they are, as if the host had crashed.
    if (this.closed) return;
    await withLock(this.machineKey(machineId), async () => {
      const record = await this.readMachine(machineId);
      if (record && record.bootId === bootId && PROCESS_STATES.has(record.state)) {
        const requestedStop = record.state === 'stopping';
        await this.writeMachine(stoppedRecord(record, { requestedStop, exitCode: owned.exitCode ?? null, at: now() }));
      }
    });
    this.children.delete(bootId);
  }

  /** Sends SIGTERM (then SIGKILL after the grace period) and resolves once the process is gone. */
  private async terminate(pid: number | null, bootId: string | null): Promise<number | null> {
    const owned = bootId ? this.children.get(bootId) : undefined;
    if (owned) {
      if (owned.exitCode !== undefined) return owned.exitCode;
      owned.child.kill('SIGTERM');
      const graceful = await raceTimeout(owned.exited, STOP_GRACE_MS);
      if (graceful.done) return graceful.value;
      owned.child.kill('SIGKILL');
      return owned.exited;
    }
    // Started by another provider object in this process: signal the pid and poll until it is gone.
    if (pid === null || bootId === null) return null;
    const token = bootToken(bootId);
    if (!(await isMachineProcess(pid, token))) return null;
    signal(pid, 'SIGTERM');
    const killAt = Date.now() + STOP_GRACE_MS;
    let killed = false;
    while (await isMachineProcess(pid, token)) {
      if (!killed && Date.now() >= killAt) {
        signal(pid, 'SIGKILL');
        killed = true;
      }
      await delay(20);
    }
    return null;
  }

  /** True when the record's process is alive and is the boot it names. */
  private async isAlive(record: MachineRecord): Promise<boolean> {
    if (record.pid === null || record.bootId === null) return false;
    const owned = this.children.get(record.bootId);
    if (owned) return owned.exitCode === undefined;
    return isMachineProcess(record.pid, bootToken(record.bootId));
  }

  /**
   * A record that says a process runs, whose process is gone, becomes `stopped` (persisted):
   * unexpected unless a stop was under way. Caller holds the machine's lock.
   */
  private async refreshLocked(record: MachineRecord): Promise<MachineRecord> {
    if (!PROCESS_STATES.has(record.state) || (await this.isAlive(record))) return record;
    const exitCode = (record.bootId ? this.children.get(record.bootId)?.exitCode : undefined) ?? null;
    const stopped = stoppedRecord(record, { requestedStop: record.state === 'stopping', exitCode, at: now() });
    await this.writeMachine(stopped);
    return stopped;
  }

  /** The machine record, reconciled with its process when it claims one. */
  private async readMachineFresh(machineId: string): Promise<MachineRecord | null> {
    const record = await this.readMachine(machineId);
    if (!record || !PROCESS_STATES.has(record.state)) return record;
    return withLock(this.machineKey(machineId), async () => {
      const current = await this.readMachine(machineId);
      return current ? this.refreshLocked(current) : null;
    });
  }

  /** Polls the machine (woken early by any write to it) until `done(state)` or the timeout. */
  private async waitUntil(
    machineId: string,
    done: (state: MachineState) => boolean,
    timeoutMs: number,
    wanted?: MachineState,
  ): Promise<Machine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const machine = await this.getMachine(machineId);
      if (!machine) {
        throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
      }
      if (done(machine.state)) return machine;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const goal = wanted ? `${wanted}` : 'the expected state';
        throw new MachineNotReadyError(`machine ${machineId} is ${machine.state}, not ${goal}, after ${timeoutMs} ms`, {
          context: { machineId, state: machine.state, wanted, timeoutMs },
        });
      }
      await this.nextChange(machineId, Math.min(remaining, WAIT_POLL_MS));
    }
  }

  private nextChange(machineId: string, timeoutMs: number): Promise<void> {
    const key = this.machineKey(machineId);
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

  private async readMachineOrThrow(machineId: string): Promise<MachineRecord> {
    const record = await this.readMachine(machineId);
    if (!record) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    return record;
  }

  private async readMachine(machineId: string): Promise<MachineRecord | null> {
    return isSafeId(machineId) ? readJson<MachineRecord>(this.machineFile(machineId)) : null;
  }

  private async readMachines(): Promise<MachineRecord[]> {
    const ids = (await listDir(this.machinesDir()))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length));
    const records = await Promise.all(ids.map((id) => this.readMachine(id)));
    return records.filter((record): record is MachineRecord => record !== null);
  }

  private async writeMachine(record: MachineRecord): Promise<void> {
    await writeJsonAtomic(this.machineFile(record.id), { ...record, updatedAt: now() });
    machineChanges.emit(this.machineKey(record.id));
  }

  private async readVolume(volumeId: string): Promise<VolumeRecord | null> {
    return isSafeId(volumeId) ? readJson<VolumeRecord>(this.volumeFile(volumeId)) : null;
  }

  private async readSnapshots(volumeId: string): Promise<Snapshot[]> {
    const ids = (await listDir(this.snapshotsDir())).filter(isSafeId);
    const snapshots = await Promise.all(ids.map((id) => readJson<Snapshot>(path.join(this.snapshotDir(id), 'snapshot.json'))));
    return snapshots.filter((snapshot): snapshot is Snapshot => snapshot !== null && snapshot.volumeId === volumeId).sort(byId);
  }

  /** Volume id → the non-destroyed machine that mounts it. */
  private async attachments(): Promise<Map<string, string>> {
    const attached = new Map<string, string>();
    for (const machine of await this.readMachines()) {
      if (machine.state !== 'destroyed') attached.set(machine.mount.volumeId, machine.id);
    }
    return attached;
  }

  private async attachedMachineId(volumeId: string): Promise<string | null> {
    return (await this.attachments()).get(volumeId) ?? null;
  }

  private volumesDir(): string {
    return path.join(this.rootDir, 'volumes');
  }
  private volumeFile(volumeId: string): string {
    return path.join(this.volumesDir(), volumeId, 'volume.json');
  }
  private volumeDataDir(volumeId: string): string {
    return path.join(this.volumesDir(), volumeId, 'data');
  }
  private snapshotsDir(): string {
    return path.join(this.rootDir, 'snapshots');
  }
  private snapshotDir(snapshotId: string): string {
    return path.join(this.snapshotsDir(), snapshotId);
  }
  private machinesDir(): string {
    return path.join(this.rootDir, 'machines');
  }
  private machineFile(machineId: string): string {
    return path.join(this.machinesDir(), `${machineId}.json`);
  }
  private machineLog(machineId: string): string {
    return path.join(this.machinesDir(), `${machineId}.log`);
  }
  private machineKey(machineId: string): string {
    return `${this.rootDir}\0machine\0${machineId}`;
  }
  private volumeKey(volumeId: string): string {
    return `${this.rootDir}\0volume\0${volumeId}`;
  }
}

function toVolume(record: VolumeRecord, attachedMachineId: string | null): Volume {
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

function toMachine(record: MachineRecord): Machine {
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

function stoppedRecord(record: MachineRecord, lastExit: MachineExit): MachineRecord {
  return { ...record, state: 'stopped', pid: null, port: null, lastExit };
}

function matchesTags(tags: ResourceTags, filter: TagFilter): boolean {
  return (Object.keys(filter) as Array<keyof ResourceTags>).every(
    (key) => filter[key] === undefined || tags[key] === filter[key],
  );
}

/** Lower-case ULIDs sort by creation time, so listings come back oldest first. */
function newId(prefix: 'vol' | 'm' | 'snap'): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

/** Ids become file names: anything else (`../x`) is simply not found. */
function isSafeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id);
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function bootToken(bootId: string): string {
  return `--slipway-boot=${bootId}`;
}

function now(): string {
  return new Date().toISOString();
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One GET with `Connection: close` (no pooled sockets outliving the call); JSON body when it parses. */
function httpGetJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: keep the text.
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

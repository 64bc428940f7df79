import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { messageOf } from '../../shared/errors/core';
import { ProviderUnavailableError } from '../../shared/errors/provider';
import { pause } from '../../shared/retry';
import type { MachineExitNotice } from '../compute-provider';
import type { LocalLayout } from './layout';
import { now } from './layout';
import { isMachineProcess, withLock } from './local-store';
import { PROCESS_STATES, stoppedRecord, type LocalRecords, type MachineRecord } from './records';

/** The default image every local machine runs. */
export const LOCAL_MACHINE_IMAGE_PATH = path.join(__dirname, 'machine-image.cjs');

/** How long a machine gets to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 5_000;

/** A child process this provider object spawned. */
export interface OwnedChild {
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

/** SIGKILL every machine process this Node process started (the exit hook). */
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

/** Remember a machine pid so the exit hook can kill it. */
function trackPid(pid: number): void {
  livePids.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL is. (The image also exits on IPC disconnect,
    // which covers a parent that dies without running this hook.)
    process.once('exit', killAllMachinesSync);
  }
}

/**
 * Process supervision: spawns a machine's boot as a child process, records its port when it
 * listens and its exit when it ends, and stops it with SIGTERM then SIGKILL. A record that names a
 * process that is gone reads as stopped (unexpected unless a stop was under way).
 */
export class MachineProcesses {
  private readonly children = new Map<string, OwnedChild>();
  private readonly exitListeners = new Set<(exit: MachineExitNotice) => void>();
  private closed = false;

  constructor(
    private readonly layout: LocalLayout,
    private readonly records: LocalRecords,
    private readonly startTimeoutMs: number,
  ) {}

  /** Refuse to start anything after shutdown. */
  assertOpen(): void {
    if (this.closed) throw new ProviderUnavailableError('the local provider has been shut down');
  }

  /** Spawns a boot of the machine. Caller holds the machine's lock. */
  async spawn(record: MachineRecord): Promise<MachineRecord> {
    const bootId = randomBytes(8).toString('hex');
    const logFd = openSync(this.layout.machineLog(record.id), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [LOCAL_MACHINE_IMAGE_PATH, `--slipway-machine=${record.id}`, bootToken(bootId)], {
        cwd: this.layout.rootDir,
        // Only what the machine needs: the host's environment (credentials, NODE_OPTIONS) stays out.
        env: {
          ...record.env,
          SLIPWAY_INSTANCE_ID: record.tags.instance,
          SLIPWAY_MACHINE_ID: record.id,
          SLIPWAY_MOUNT_DIR: this.layout.volumeDataDir(record.mount.volumeId),
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
      await this.records.writeMachine(failed);
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
    await this.records.writeMachine(starting);
    return starting;
  }

  private async onListening(machineId: string, bootId: string, port: number): Promise<void> {
    await withLock(this.layout.machineKey(machineId), async () => {
      const record = await this.records.readMachine(machineId);
      if (record && record.bootId === bootId && record.state === 'starting') {
        await this.records.writeMachine({ ...record, state: 'started', port });
      }
    });
  }

  private async onStartTimeout(machineId: string, bootId: string, owned: OwnedChild): Promise<void> {
    await withLock(this.layout.machineKey(machineId), async () => {
      const record = await this.records.readMachine(machineId);
      // The exit handler then records the failed start as an unexpected exit.
      if (record && record.bootId === bootId && record.state === 'starting') owned.child.kill('SIGKILL');
    });
  }

  private async onExit(machineId: string, bootId: string, owned: OwnedChild): Promise<void> {
    // After shutdown() the records stay as they are, as if the host had crashed.
    if (this.closed) return;
    const unrequested = await withLock(this.layout.machineKey(machineId), async () => {
      const record = await this.records.readMachine(machineId);
      if (!record || record.bootId !== bootId) return null;
      if (PROCESS_STATES.has(record.state)) {
        const requestedStop = record.state === 'stopping';
        await this.records.writeMachine(stoppedRecord(record, { requestedStop, exitCode: owned.exitCode ?? null, at: now() }));
        return requestedStop ? null : { machineId, instanceId: record.tags.instance };
      }
      // A read of the record may have seen the dead process first and recorded the exit: still this boot's, still unrequested.
      return record.state === 'stopped' && record.lastExit?.requestedStop === false ? { machineId, instanceId: record.tags.instance } : null;
    });
    this.children.delete(bootId);
    // Told after the record says stopped, so whoever settles it reads the exit by id.
    if (unrequested) for (const listener of this.exitListeners) listener(unrequested);
  }

  /** Be told of every unrequested exit of a machine process this object started; returns the unsubscribe. */
  onUnrequestedExit(listener: (exit: MachineExitNotice) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Sends SIGTERM (then SIGKILL after the grace period) and resolves once the process is gone. */
  async terminate(pid: number | null, bootId: string | null): Promise<number | null> {
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
      await pause(20);
    }
    return null;
  }

  /** True when the record's process is alive and is the boot it names. */
  async isAlive(record: MachineRecord): Promise<boolean> {
    if (record.pid === null || record.bootId === null) return false;
    const owned = this.children.get(record.bootId);
    if (owned) return owned.exitCode === undefined;
    return isMachineProcess(record.pid, bootToken(record.bootId));
  }

  /** The exit code of a boot this object spawned, once it exited; null otherwise. */
  exitCodeOf(bootId: string | null): number | null {
    return (bootId ? this.children.get(bootId)?.exitCode : undefined) ?? null;
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
}

/** The command-line token that identifies one boot of a machine (to recognise its pid). */
export function bootToken(bootId: string): string {
  return `--slipway-boot=${bootId}`;
}

/** Send a signal, ignoring a process that is gone already. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}


/** The promise's value, or `{done: false}` after `ms`. */
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
